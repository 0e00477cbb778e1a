#!/usr/bin/env bash
# Makes the small MP3 fixtures the tests use. The outputs are committed, so
# tests never need sox or lame; rerun this only to change a fixture.
#
#   needs: sox, lame, ffmpeg (Debian: apt-get install sox lame ffmpeg)
#   run:   testdata/make-fixtures.sh   (from anywhere)
#
# Every tone file is a pure sine at a distinct frequency, so a test can tell
# which track it hears (Goertzel) after MP3 or Opus coding.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# tone FREQ RATE CHANNELS SECONDS OUT.wav
tone() { sox -n -r "$2" -c "$3" -b 16 "$5" synth "$4" sine "$1" vol 0.5; }

# CBR 128k, 44.1 kHz stereo, ID3v2 tags: the main playlist.
tone 440 44100 2 8 "$tmp/440.wav"
lame --quiet -b 128 --cbr --add-id3v2 --id3v2-only --tt "Tone 440" --ta "Test Artist" --tl "Fixtures" "$tmp/440.wav" tone440.mp3
tone 880 44100 2 8 "$tmp/880.wav"
lame --quiet -b 128 --cbr --add-id3v2 --id3v2-only --tt "Tone 880" --ta "Test Artist" --tl "Fixtures" "$tmp/880.wav" tone880.mp3
tone 1320 44100 2 8 "$tmp/1320.wav"
lame --quiet -b 128 --cbr --add-id3v2 --id3v2-only --tt "Tone 1320" --ta "Other Artist" --tl "Fixtures" "$tmp/1320.wav" tone1320.mp3

# 48 kHz stereo: a playlist that mixes sample rates.
tone 660 48000 2 6 "$tmp/660.wav"
lame --quiet -b 128 --cbr --resample 48 --add-id3v2 --id3v2-only --tt "Tone 660 48k" --ta "Test Artist" "$tmp/660.wav" tone660-48k.mp3

# Mono, 64k.
tone 550 44100 1 6 "$tmp/550.wav"
lame --quiet -m m -b 64 --cbr --add-id3v2 --id3v2-only --tt "Tone 550 mono" --ta "Test Artist" "$tmp/550.wav" tone550-mono.mp3

# VBR with a Xing header (decodes as one extra silent frame if not skipped).
tone 1000 44100 2 6 "$tmp/1000.wav"
lame --quiet -V 2 --add-id3v2 --id3v2-only --tt "Tone 1000 VBR" --ta "Test Artist" "$tmp/1000.wav" tone1000-vbr.mp3

# MPEG-2 (22.05 kHz), which go-mp3 decodes.
tone 700 22050 2 5 "$tmp/700.wav"
lame --quiet -b 64 --cbr --resample 22.05 --tt "Tone 700 MPEG-2" --ta "Test Artist" "$tmp/700.wav" tone700-mpeg2.mp3

# MPEG-2.5 (8 kHz, 16 kbit/s mono): plays like any other MP3 (audio/mp3dec).
tone 300 8000 1 3 "$tmp/300.wav"
lame --quiet -b 16 --cbr --resample 8 --tt "MPEG 2.5" "$tmp/300.wav" mpeg25-8k.mp3

# 320k for the ingest benchmark (frames are repeated there to make 5 minutes).
tone 440 44100 2 5 "$tmp/440b.wav"
lame --quiet -b 320 --cbr --tt "Tone 440 320k" "$tmp/440b.wav" tone440-320k.mp3

# Tags: unicode, an ID3v1-only tag, no tag at all, and a hostile title.
tone 440 44100 2 3 "$tmp/440s.wav"
lame --quiet -b 128 --cbr --add-id3v2 --id3v2-only --tt "Café ♪ Ünïcödé" --ta "Björk Guðmundsdóttir" --tl "Ζωή" "$tmp/440s.wav" unicode.mp3
lame --quiet -b 128 --cbr --id3v1-only --tt "V1 Title" --ta "V1 Artist" --tl "V1 Album" "$tmp/440s.wav" id3v1.mp3
lame --quiet -b 128 --cbr --tt "" "$tmp/440s.wav" untagged.mp3
ffmpeg -v error -y -i untagged.mp3 -map_metadata -1 -c copy -id3v2_version 0 -write_id3v1 0 "$tmp/untagged.mp3" && mv "$tmp/untagged.mp3" untagged.mp3
lame --quiet -b 128 --cbr --add-id3v2 --id3v2-only --tt '<img src=x onerror=alert(1)>' --ta '<script>alert(2)</script>' "$tmp/440s.wav" xss.mp3

# Not MP3s: a WAV file (tests rename it to .mp3).
sox -n -r 8000 -c 1 -b 16 not-mp3.wav synth 0.05 sine 440

# WAV and FLAC for audio/decode and ingest: short sines at distinct
# frequencies, amplitude 0.5, made with ffmpeg alone.
# sine FREQ RATE CHANNELS SECONDS: an aevalsrc source.
sine() {
	local e="0.5*sin(2*PI*$1*t)"
	[ "$3" = 2 ] && e="$e|$e"
	echo "aevalsrc=$e:s=$2:d=$4"
}
ff() { ffmpeg -v error -y -nostdin "$@"; }
ff -f lavfi -i "$(sine 440 44100 2 1)" -c:a pcm_s16le -metadata title="Wave 440" -metadata artist="Wav Artist" -metadata album="Wav Album" wav16-440.wav
ff -f lavfi -i "$(sine 523 48000 1 1)" -c:a pcm_s24le wav24-523-mono.wav
# ffmpeg writes 24-bit PCM as WAVE_FORMAT_EXTENSIBLE (both files above
# and below); the plain 24-bit header is made by the Go tests.
ff -f lavfi -i "$(sine 587 22050 2 1)" -c:a pcm_s24le wavext24-587.wav
ff -f lavfi -i "$(sine 440 8000 1 0.1)" -c:a pcm_f32le wav-float.wav
ff -f lavfi -i "$(sine 440 8000 1 0.1)" -c:a pcm_u8 wav-8bit.wav
ff -f lavfi -i "$(sine 440 8000 1 0.1)" -c:a adpcm_ima_wav wav-adpcm.wav
ff -f lavfi -i "aevalsrc=0.5*sin(2*PI*440*t)|0|0:s=8000:d=0.1" -c:a pcm_s16le wav-3ch.wav
ff -f lavfi -i color=c=red:s=8x8 -frames:v 1 "$tmp/cover.png"
ff -f lavfi -i "$(sine 659 44100 2 1)" -i "$tmp/cover.png" -map 0 -map 1 -c:a flac -sample_fmt s16 -c:v copy -disposition:v attached_pic \
	-metadata title="Flac 659" -metadata artist="Flac Artist" -metadata album="Flac Album" flac16-659.flac
ff -f lavfi -i "$(sine 784 48000 1 1)" -c:a flac -sample_fmt s32 flac24-784-mono.flac
ff -f lavfi -i "aevalsrc=0.5*sin(2*PI*440*t)|0|0:s=8000:d=0.1" -c:a flac flac-3ch.flac
# MP3 with a PNG cover (APIC), 48 kHz mono: accepted now.
ff -f lavfi -i "$(sine 880 48000 1 1)" -i "$tmp/cover.png" -map 0 -map 1 -c:a libmp3lame -b:a 64k -c:v copy \
	-id3v2_version 3 -disposition:v attached_pic -metadata title="Mono Art" mono48-art.mp3

ls -l ./*.mp3 ./*.wav ./*.flac
