#!/usr/bin/env bash
# Soak: runs onair under churning load for a bounded time and reports the
# server's heap, goroutines and open file descriptors at the start and the
# end, so a leak shows as growth between the two.
#
#   scripts/soak.sh [DURATION_SECONDS]      (default 60)
#
# It builds onair and onair-load, starts onair on a free port of 127.0.0.1
# with a temp data dir, puts a station on air, then repeats rounds until the
# duration is spent: each round connects HTTP, WebRTC and WebSocket clients
# (onair-load, ROUND seconds each) and lets them all go, while the track is
# skipped every 10 s and, when ffmpeg is installed, a live source (ffmpeg as
# an Icecast source client) takes the air for 10 s of every 20 and leaves.
# Everything stays on 127.0.0.1; only the server this
# script started is stopped. It fails when a round fails, or when the
# goroutines at the end exceed the start by more than GOROUTINE_SLACK.
#
# Environment: HTTP_N (50), WEBRTC_N (10), WS_N (50), ROUND (10),
# GOROUTINE_SLACK (50).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-60}
HTTP_N=${HTTP_N:-50}
WEBRTC_N=${WEBRTC_N:-10}
WS_N=${WS_N:-50}
ROUND=${ROUND:-10}
GOROUTINE_SLACK=${GOROUTINE_SLACK:-50}

work=$(mktemp -d)
server_pid=""
skipper_pid=""
source_pid=""
cleanup() {
  [[ -n "$skipper_pid" ]] && kill "$skipper_pid" 2>/dev/null || true
  [[ -n "$source_pid" ]] && { pkill -P "$source_pid" 2>/dev/null; kill "$source_pid" 2>/dev/null; } || true
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build"
go build -o "$work/onair" ./cmd/onair
go build -o "$work/onair-load" ./cmd/onair-load

port=$("$work/onair-load" freeport)
password="soak-$RANDOM-$RANDOM-password"
server="http://127.0.0.1:$port"
echo "== start onair on 127.0.0.1:$port"
# Every client comes from 127.0.0.1: lift the per-address caps.
ONAIR_HTTP_ADDR="127.0.0.1:$port" \
ONAIR_DATA_DIR="$work/data" \
ONAIR_ADMIN_PASSWORD="$password" \
ONAIR_WEBRTC_LOOPBACK_ONLY=true \
ONAIR_LIMITS_SOCKETS_PER_IP=100000 \
ONAIR_LIMITS_STREAMS_PER_IP=100000 \
ONAIR_LOG_LEVEL=warn \
  "$work/onair" serve >"$work/onair.log" 2>&1 &
server_pid=$!
"$work/onair-load" wait --server "$server" --timeout 30s || { cat "$work/onair.log"; exit 1; }

read -r slug token < <("$work/onair-load" prepare --server "$server" --user admin --password "$password" \
  --name "Soak FM" testdata/tone440.mp3 testdata/tone880.mp3)
[[ -n "${token:-}" ]] || { echo "could not set up a station" >&2; exit 1; }

# sample prints "heap_bytes goroutines fds" of the server.
sample() {
  local m heap gor fds
  m=$(curl -fsS "$server/metrics")
  heap=$(awk '/^go_memstats_heap_inuse_bytes /{printf "%d", $2}' <<<"$m")
  gor=$(awk '/^go_goroutines /{printf "%d", $2}' <<<"$m")
  fds=$(ls "/proc/$server_pid/fd" | wc -l)
  echo "$heap $gor $fds"
}

# Settle: one short round so lazily made things (encoders, pools) exist
# before the first sample.
timeout 60 "$work/onair-load" run --server "$server" --station "$slug" --http 5 --webrtc 1 --ws 5 \
  --ramp 1s --duration 2s --token "$token" >/dev/null
read -r heap0 gor0 fd0 < <(sample)
echo "start: heap ${heap0} B, ${gor0} goroutines, ${fd0} fds"

# Track changes every 10 s, for as long as the soak lasts.
( end=$((SECONDS + DURATION)); while (( SECONDS < end )); do
    sleep 10
    curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $token" "$server/api/stations/$slug/skip" || true
  done ) &
skipper_pid=$!

# A DJ who comes and goes: 10 s on air, 10 s off.
if command -v ffmpeg >/dev/null; then
  curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $token" "$server/api/stations/$slug/streamers" \
    -d '{"username":"soakdj","password":"soak-dj-password","display_name":"Soak DJ"}'
  ( end=$((SECONDS + DURATION)); while (( SECONDS + 20 <= end )); do
      timeout 30 ffmpeg -nostdin -v error -re -f lavfi -i sine=frequency=1000:duration=10 -c:a libmp3lame -b:a 128k \
        -content_type audio/mpeg -f mp3 "icecast://soakdj:soak-dj-password@127.0.0.1:$port/stream/$slug" || true
      sleep 10
    done ) &
  source_pid=$!
else
  echo "(ffmpeg not installed: no live source in this soak)"
fi

rounds=0
end=$((SECONDS + DURATION))
while (( SECONDS + ROUND <= end )); do
  rounds=$((rounds + 1))
  timeout $((ROUND + 60)) "$work/onair-load" run --server "$server" --station "$slug" \
    --http "$HTTP_N" --webrtc "$WEBRTC_N" --ws "$WS_N" --ramp 2s --duration "$((ROUND > 3 ? ROUND - 3 : 1))s" \
    --token "$token" --pid "$server_pid" >"$work/round.txt" 2>&1 || { cat "$work/round.txt"; exit 1; }
done
kill "$skipper_pid" 2>/dev/null || true
skipper_pid=""
if [[ -n "$source_pid" ]]; then
  pkill -P "$source_pid" 2>/dev/null || true
  kill "$source_pid" 2>/dev/null || true
  wait "$source_pid" 2>/dev/null || true
  source_pid=""
fi

# Let the server drop what the last round left (closing peers, sockets).
for _ in $(seq 60); do
  read -r heap1 gor1 fd1 < <(sample)
  (( gor1 <= gor0 + 5 )) && break
  sleep 1
done
echo "end:   heap ${heap1} B, ${gor1} goroutines, ${fd1} fds after $rounds rounds in ${DURATION} s"
printf 'soak: heap %+d B, goroutines %+d, fds %+d\n' $((heap1 - heap0)) $((gor1 - gor0)) $((fd1 - fd0))
if (( gor1 > gor0 + GOROUTINE_SLACK )); then
  echo "goroutines grew from $gor0 to $gor1" >&2
  tail -50 "$work/onair.log" >&2
  exit 1
fi
