#!/usr/bin/env bash
# onair's station engine against Liquidsoap (what AzuraCast runs for each
# station), in one run on one machine, on the same files:
#
#   1. makes a playlist of tone and noise tracks with ffmpeg in a temp dir:
#      44.1, 48 and 22.05 kHz, mono and stereo, 20-30 s each, loudness
#      from about -8 to -38 LUFS (plus a WAV and a FLAC when onair takes
#      them; otherwise both players get the MP3s only);
#   2. starts Liquidsoap (Debian's) on it: playlist -> normalize ->
#      crossfade 3 s -> LAME MP3 128k and Opus 96k, both to /dev/null. Its
#      telnet server, Unix socket and harbor are off or on loopback; the
#      script checks with ss that it listens on nothing;
#   3. starts onair on a free 127.0.0.1 port with a temp data dir, creates
#      STATIONS stations over REST with the same files, sets crossfade
#      3000 ms and loudness normalisation on, starts the first one and
#      attaches one MP3 and one Ogg/Opus listener (curl to /dev/null);
#   4. measures both processes over the same window (utime+stime from
#      /proc/PID/stat, RSS from /proc/PID/status) after a warm-up;
#   5. then onair alone: the station with no listener (idle), the RSS of 1
#      against STATIONS live stations, and the same stations each with one
#      MP3 listener.
#
# Everything stays on 127.0.0.1 (Liquidsoap on nothing at all), every step
# is bounded in time, and only the processes this script started are
# stopped. About 6 minutes with the defaults.
#
#   scripts/liquidsoap-compare.sh [RESULTS_DIR]
#
# Environment: WARMUP (10 s), WINDOW (60 s: each CPU measure), STATIONS
# (10), SETTLE (10 s: before each RSS reading), CROSSFADE_MS (3000),
# TARGET_LUFS (-16), ONAIR_REV (what to print as the commit when the tree
# is an export, not a git checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

results=${1:-${TMPDIR:-/tmp}/onair-liquidsoap-compare-$(date -u +%Y%m%dT%H%M%SZ)}
WARMUP=${WARMUP:-10}
WINDOW=${WINDOW:-60}
STATIONS=${STATIONS:-10}
SETTLE=${SETTLE:-10}
CROSSFADE_MS=${CROSSFADE_MS:-3000}
TARGET_LUFS=${TARGET_LUFS:--16}
mkdir -p "$results"
results=$(cd "$results" && pwd)

for tool in liquidsoap ffmpeg curl jq ss; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done

work=$(mktemp -d)
pids=() # started by this script and not yet stopped: the only ones it stops
stop_pid() { # TERM, KILL after 5 s, reap, forget
  local pid=$1 p keep=()
  [[ -n "$pid" ]] || return 0
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  for p in "${pids[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}
cleanup() {
  local pid
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# measure PID... : CPU of each pid over WINDOW seconds, as "% of a core"
# lines in pid order (all pids share the same window).
measure() {
  local pid a=() b=() i
  for pid in "$@"; do a+=("$(ticks "$pid")"); done
  sleep "$WINDOW"
  for pid in "$@"; do b+=("$(ticks "$pid")"); done
  for i in "${!a[@]}"; do
    awk -v d=$((b[i] - a[i])) -v hz="$hz" -v w="$WINDOW" 'BEGIN {printf "%.3f %d\n", 100*d/hz/w, d}'
  done
}
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k/1024}'; }
# skips: how many times onair's station clocks fell more than 2 s behind
# (and skipped ahead) since mark: on a machine too busy to give onair the
# CPU it needs, a CPU figure is then a lower bound (skipped audio costs
# nothing).
mark() { wc -l <"$results/onair.log"; }
skips() { tail -n +"$(($1 + 1))" "$results/onair.log" | grep -c 'fell behind' || true; }
alive() { kill -0 "$1" 2>/dev/null || { echo "$2 exited; see $results" >&2; exit 1; }; }

echo "== build"
go build -o "$work/onair" ./cmd/onair
go build -o "$work/onair-load" ./cmd/onair-load
load="$work/onair-load"

echo "== the playlist"
mkdir -p "$work/media"
# name | lavfi source | rate | channels | volume dB | seconds
tracks=(
  "t1-44k-stereo-sine|sine=frequency=440:sample_rate=44100|44100|2|9|25"
  "t2-48k-stereo-noise|anoisesrc=color=pink:sample_rate=48000:amplitude=0.5|48000|2|-8|22"
  "t3-22k-mono-sine|sine=frequency=660:sample_rate=22050|22050|1|0|28"
  "t4-44k-mono-noise|anoisesrc=color=brown:sample_rate=44100:amplitude=0.8|44100|1|-4|24"
  "t5-48k-stereo-sine|sine=frequency=550:sample_rate=48000|48000|2|-13|26"
  "t6-22k-stereo-noise|anoisesrc=color=white:sample_rate=22050:amplitude=0.3|22050|2|0|20"
)
mp3s=()
for spec in "${tracks[@]}"; do
  IFS='|' read -r name src rate ch vol dur <<<"$spec"
  ffmpeg -nostdin -loglevel error -f lavfi -i "$src:duration=$dur" -af "volume=${vol}dB" \
    -ar "$rate" -ac "$ch" -c:a libmp3lame -b:a 128k -id3v2_version 3 \
    -metadata title="$name" -metadata artist="Compare" "$work/media/$name.mp3"
  mp3s+=("$work/media/$name.mp3")
done
ffmpeg -nostdin -loglevel error -f lavfi -i "sine=frequency=770:sample_rate=48000:duration=21" \
  -af "volume=0dB" -ac 2 -c:a pcm_s16le -metadata title=t7-48k-wav "$work/media/t7-48k-wav.wav"
ffmpeg -nostdin -loglevel error -f lavfi -i "anoisesrc=color=pink:sample_rate=44100:amplitude=0.6:duration=23" \
  -af "volume=-6dB" -ac 1 -c:a flac -metadata title=t8-44k-flac "$work/media/t8-44k-flac.flac"
for f in "$work"/media/*; do
  ffmpeg -nostdin -hide_banner -i "$f" -af ebur128 -f null - 2>&1 |
    awk -v f="$(basename "$f")" '/^ *I:/ {i=$2} END {printf "  %-26s %6s LUFS\n", f, i}'
done | tee "$results/playlist.txt"

onair_port=$("$load" freeport)
admin_pw="adm-$RANDOM$RANDOM-password"
base="http://127.0.0.1:$onair_port"
echo "== onair on 127.0.0.1:$onair_port"
ONAIR_HTTP_ADDR="127.0.0.1:$onair_port" \
ONAIR_DATA_DIR="$work/onair-data" \
ONAIR_ADMIN_PASSWORD="$admin_pw" \
ONAIR_WEBRTC_LOOPBACK_ONLY=true \
ONAIR_LIMITS_STREAMS_PER_IP=100000 ONAIR_LIMITS_SOCKETS_PER_IP=100000 \
ONAIR_LOG_LEVEL=warn \
  timeout -s TERM 1800 "$work/onair" serve >>"$results/onair.log" 2>&1 &
onair_pid=$!
pids+=("$onair_pid")
"$load" wait --server "$base" --timeout 60s
token=$(curl -sf --max-time 10 -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$admin_pw\"}" "$base/api/auth/login" | jq -r .token)
api() { # method path [json]: the body, then the status on a line of its own
  curl -s --max-time 60 -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} -w '\n%{http_code}' "$base$2"
}
body() { sed '$d'; }

# Which files onair takes: every one once the engine mixes any format (issue
# 8); before that, only those in the first one's format. Both players get
# exactly the files onair took.
probe=$(api POST /api/stations '{"name":"Probe","genre":"Compare"}' | body | jq -r .slug)
all=("${mp3s[@]}" "$work/media/t7-48k-wav.wav" "$work/media/t8-44k-flac.flac")
form=()
for f in "${all[@]}"; do form+=(-F "file=@$f"); done
curl -s --max-time 120 -o "$work/upload.json" -H "Authorization: Bearer $token" "${form[@]}" "$base/api/stations/$probe/tracks"
files=()
for f in "${all[@]}"; do
  if jq -e --arg n "$(basename "$f")" 'any(.tracks[]?; .filename == $n)' "$work/upload.json" >/dev/null; then
    files+=("$f")
  else
    echo "  onair refused $(basename "$f"): $(jq -r --arg n "$(basename "$f")" '[.errors[]? | select(.file == $n) | .error][0] // "?"' "$work/upload.json" | cut -c1-90)"
  fi
done
((${#files[@]} >= 1)) || { echo "onair took no file; nothing to compare" >&2; exit 1; }
api DELETE "/api/stations/$probe" >/dev/null

slugs=()
audio_json="{\"audio\":{\"crossfade_ms\":$CROSSFADE_MS,\"loudness\":{\"enabled\":true,\"target_lufs\":$TARGET_LUFS}}}"
audio_note=""
for i in $(seq "$STATIONS"); do
  slug=$(api POST /api/stations "{\"name\":\"Compare $i\",\"genre\":\"Compare\"}" | body | jq -r .slug)
  form=()
  for f in "${files[@]}"; do form+=(-F "file=@$f"); done
  code=$(curl -s --max-time 120 -o "$work/upload.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    "${form[@]}" "$base/api/stations/$slug/tracks")
  [[ "$code" == 201 && "$(jq '.errors // [] | length' "$work/upload.json")" == 0 ]] ||
    { echo "upload to $slug: $code $(cat "$work/upload.json")" >&2; exit 1; }
  out=$(api PATCH "/api/stations/$slug" "$audio_json")
  got=$(body <<<"$out" | jq -c '.audio // empty | {crossfade_ms, loudness}' 2>/dev/null || true)
  if [[ "$(tail -1 <<<"$out")" != 200 || "$(jq -r '.crossfade_ms' <<<"${got:-{\}}")" != "$CROSSFADE_MS" ||
        "$(jq -r '.loudness.enabled' <<<"${got:-{\}}")" != true ]]; then
    audio_note="onair took no audio settings over REST (PATCH answered $(tail -1 <<<"$out"), audio=${got:-absent}): it ran with crossfade 0 and no loudness normalisation"
  fi
  slugs+=("$slug")
done
slug=${slugs[0]}
api POST "/api/stations/$slug/start" >/dev/null
echo "  stations: ${slugs[*]} (only $slug live for now)"
[[ -z "$audio_note" ]] || echo "  NOTE: $audio_note"
# How the tracks were analysed (loudness_lufs appears once ingest analyses).
api GET "/api/stations/$slug/tracks" | body |
  jq -r '(.tracks // .)[] | "  \(.title): \(if .loudness_lufs then (.loudness_lufs * 10 | round / 10 | tostring) + " LUFS" else "not analysed" end) as onair plays it, \(.sample_rate // "?") Hz"' \
    2>/dev/null | tee "$results/onair-tracks.txt" || true

echo "== Liquidsoap"
: >"$work/list.m3u"
for f in "${files[@]}"; do echo "$f" >>"$work/list.m3u"; done
cat >"$work/compare.liq" <<LIQ
settings.init.allow_root.set(true)
settings.server.telnet.set(false)
settings.server.telnet.bind_addr.set("127.0.0.1")
settings.server.socket.set(false)
settings.harbor.bind_addrs.set(["127.0.0.1"])
settings.log.stdout.set(true)
settings.log.file.set(false)
settings.log.level.set(3)
s = playlist(mode="normal", reload_mode="never", "$work/list.m3u")
s = normalize(s)
s = crossfade(duration=$(awk -v c="$CROSSFADE_MS" 'BEGIN {printf "%.1f", c/1000}'), s)
s = mksafe(s)
output.file(%mp3(bitrate=128, samplerate=44100, stereo=true), "/dev/null", s)
output.file(%opus(bitrate=96, samplerate=48000, channels=2), "/dev/null", s)
LIQ
cp "$work/compare.liq" "$results/compare.liq"
timeout -s TERM 1800 liquidsoap "$work/compare.liq" >>"$results/liquidsoap.log" 2>&1 &
ls_pid=$!
pids+=("$ls_pid")
# timeout is the parent: measure liquidsoap itself.
for _ in $(seq 100); do
  ls_proc=$(pgrep -P "$ls_pid" -x liquidsoap || true)
  [[ -n "$ls_proc" ]] && break
  sleep 0.1
done
[[ -n "$ls_proc" ]] || { echo "liquidsoap did not start" >&2; exit 1; }
op_proc=$(pgrep -P "$onair_pid" -x onair)

echo "== listeners: one MP3, one Ogg/Opus"
curl -s --max-time 1800 -o /dev/null "$base/stream/$slug" &
mp3_pid=$!
pids+=("$mp3_pid")
curl -s --max-time 1800 -o /dev/null "$base/stream/$slug.opus" &
ogg_pid=$!
pids+=("$ogg_pid")

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
  echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  if rev=$(git rev-parse --short HEAD 2>/dev/null); then
    git diff --quiet HEAD 2>/dev/null || rev="$rev, uncommitted changes in the tree"
  else
    rev=${ONAIR_REV:-not a git tree}
  fi
  echo "onair: $("$work/onair" version 2>/dev/null | head -1) ($rev)"
  echo "liquidsoap: $(liquidsoap --version 2>&1 | head -1)"
  echo "files: ${#files[@]} ($(cd "$work/media" && for f in "${files[@]}"; do basename "$f"; done | paste -sd' '))"
  echo "settings: crossfade $CROSSFADE_MS ms, onair loudness target $TARGET_LUFS LUFS, Liquidsoap normalize() defaults"
  [[ -z "$audio_note" ]] || echo "NOTE: $audio_note"
  echo "window: ${WARMUP} s warm-up, ${WINDOW} s per CPU measure, CLK_TCK $hz"
} | tee "$results/environment.txt"

sleep "$WARMUP"
alive "$ls_proc" liquidsoap
alive "$op_proc" onair
echo "  liquidsoap sockets: $(ss -H -tuanp 2>/dev/null | grep -c "pid=$ls_proc," || true) (listening: $(ss -H -tulnp 2>/dev/null | grep "pid=$ls_proc," | awk '{print $5}' | paste -sd' ' || true))" |
  tee -a "$results/environment.txt"
echo "== both, same ${WINDOW} s window (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
at=$(mark)
m=($(measure "$ls_proc" "$op_proc"))
main_skips=$(skips "$at")
ls_cpu=${m[0]} ls_ticks=${m[1]} op_cpu=${m[2]} op_ticks=${m[3]}
ls_rss=$(rss_kib "$ls_proc")
op_rss=$(rss_kib "$op_proc")
alive "$mp3_pid" "the MP3 listener"
alive "$ogg_pid" "the Ogg/Opus listener"
load_main=$(cut -d' ' -f1-3 /proc/loadavg)
stop_pid "$ls_pid"
stop_pid "$mp3_pid"
stop_pid "$ogg_pid"

echo "== onair, the station with no listener"
sleep "$SETTLE"
at=$(mark)
read -r idle_cpu idle_ticks < <(measure "$op_proc")
idle_skips=$(skips "$at")
rss1=$(rss_kib "$op_proc")

echo "== onair, $STATIONS live stations, no listener"
for s in "${slugs[@]:1}"; do api POST "/api/stations/$s/start" >/dev/null; done
sleep "$SETTLE"
at=$(mark)
read -r idle10_cpu idle10_ticks < <(measure "$op_proc")
idle10_skips=$(skips "$at")
rssN=$(rss_kib "$op_proc")

echo "== onair, $STATIONS live stations, one MP3 listener each"
for s in "${slugs[@]}"; do
  curl -s --max-time 1800 -o /dev/null "$base/stream/$s" &
  pids+=($!)
done
sleep "$SETTLE"
at=$(mark)
read -r heardN_cpu _ < <(measure "$op_proc")
heardN_skips=$(skips "$at")
rssNheard=$(rss_kib "$op_proc")
alive "$op_proc" onair

ratio=$(awk -v a="$op_cpu" -v b="$ls_cpu" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "n/a"}')
per=$(awk -v a="$rssN" -v b="$rss1" -v n="$STATIONS" 'BEGIN {printf "%.2f", (a-b)/1024/(n-1)}')
{
  echo
  echo "one station, one MP3 + one Ogg/Opus output, same files, same ${WINDOW} s window (load $load_main)"
  printf '| %-46s | %14s | %8s |\n' "process" "% of a core" "RSS MiB"
  printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "$(printf -- '-%.0s' {1..15}):" "$(printf -- '-%.0s' {1..9}):"
  printf '| %-46s | %14s | %8s |\n' "Liquidsoap: normalize, crossfade, MP3 + Opus" "$ls_cpu ($ls_ticks t)" "$(mib "$ls_rss")"
  printf '| %-46s | %14s | %8s |\n' "onair: 1 MP3 + 1 Ogg/Opus listener" "$op_cpu ($op_ticks t)" "$(mib "$op_rss")"
  echo "ratio onair / Liquidsoap (CPU): $ratio (goal <= 0.5); onair clock skips in the window: $main_skips"
  echo
  echo "onair alone"
  echo "  1 live station, no listener: $idle_cpu % of a core ($idle_ticks ticks in $WINDOW s; goal <= 0.1; clock skips $idle_skips)"
  echo "  $STATIONS live stations, no listener: $idle10_cpu % of a core ($idle10_ticks ticks; clock skips $idle10_skips)"
  echo "  $STATIONS live stations, one MP3 listener each: $heardN_cpu % of a core (clock skips $heardN_skips)"
  if ((main_skips + idle_skips + idle10_skips + heardN_skips > 0)); then
    echo "  WARNING: onair's clocks fell over 2 s behind and skipped ahead: the machine did not give it the CPU it"
    echo "  needed, so the CPU figures of those windows are lower bounds. Rerun on a quieter machine."
  fi
  echo "  RSS: 1 live station $(mib "$rss1") MiB, $STATIONS live $(mib "$rssN") MiB -> $per MiB per additional live station (goal <= 8)"
  echo "  RSS: $STATIONS live stations each heard by one MP3 listener $(mib "$rssNheard") MiB -> $(awk -v a="$rssNheard" -v b="$rss1" -v n="$STATIONS" 'BEGIN {printf "%.2f", (a-b)/1024/(n-1)}') MiB per additional heard station (against 1 live, unheard)"
  [[ -z "$audio_note" ]] || echo "NOTE: $audio_note"
} | tee "$results/table.txt"
echo
echo "== results in $results"
