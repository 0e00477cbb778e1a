#!/usr/bin/env bash
# onair against the naive pion reference (onair-load naive: one shared
# TrackLocalStaticSample, pion's defaults), WebRTC listeners only, measured
# by the same load tool in the same run, one server at a time: N listeners
# over a ramp, a steady phase, server CPU and RSS per listener from /proc.
# Everything stays on 127.0.0.1, is bounded in time, and stops only the
# processes this script started.
#
#   scripts/webrtc-compare.sh [N] [RESULTS_DIR]
#
# Environment: RAMP (20s), DURATION (20s), ONAIR_BIN (an onair binary to
# measure instead of building this tree's, e.g. an older commit's),
# ONAIR_* variables reach onair (e.g. ONAIR_WEBRTC_UDP_PORT, or
# ONAIR_OPUS_FRAME_MS=20 for pion's usual packets; onair sends 60 ms).
# NAIVE_ALSO=60ms measures naive pion a second time with packets that long,
# to tell what the packet length buys from what the rest does.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-200}
results=${2:-${TMPDIR:-/tmp}/onair-webrtc-compare-$N-$(date -u +%Y%m%dT%H%M%SZ)}
RAMP=${RAMP:-20s}
DURATION=${DURATION:-20s}
mkdir -p "$results"
work=$(mktemp -d)
pids=()
stop_pid() {
  local pid=$1 keep=() p
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

echo "== build"
if [[ -n "${ONAIR_BIN:-}" ]]; then cp "$ONAIR_BIN" "$work/onair"; else go build -o "$work/onair" ./cmd/onair; fi
go build -o "$work/onair-load" ./cmd/onair-load
load="$work/onair-load"
run() { # label pid slug
  timeout 300 "$load" run --server "$server" --station "$3" --label "$1" --webrtc "$N" \
    --mode ramp --ramp "$RAMP" --duration "$DURATION" --baseline 3s --pid "$2" \
    --json "$results/$1.json" | tee "$results/$1.txt"
}

echo "== onair ($(cut -d' ' -f1-3 /proc/loadavg) load)"
port=$("$load" freeport)
password="cmp-$RANDOM-$RANDOM-password"
ONAIR_HTTP_ADDR="127.0.0.1:$port" ONAIR_DATA_DIR="$work/data" ONAIR_ADMIN_PASSWORD="$password" \
ONAIR_WEBRTC_LOOPBACK_ONLY=true ONAIR_LIMITS_SOCKETS_PER_IP=100000 ONAIR_LIMITS_STREAMS_PER_IP=100000 \
ONAIR_LOG_LEVEL=warn "$work/onair" serve >"$results/onair.log" 2>&1 &
pids+=($!)
onair_pid=$!
server="http://127.0.0.1:$port"
"$load" wait --server "$server" --timeout 30s
read -r slug _ < <("$load" prepare --server "$server" --user admin --password "$password" \
  --name "WebRTC Compare" testdata/tone440.mp3 testdata/tone880.mp3)
run onair "$onair_pid" "$slug"
stop_pid "$onair_pid"

echo "== naive pion ($(cut -d' ' -f1-3 /proc/loadavg) load)"
port=$("$load" freeport)
"$load" naive --addr "127.0.0.1:$port" --for 10m >"$results/naive.log" 2>&1 &
pids+=($!)
naive_pid=$!
server="http://127.0.0.1:$port"
"$load" wait --server "$server" --timeout 30s
run naive "$naive_pid" naive
stop_pid "$naive_pid"

"$load" compare --title "== $N WebRTC listeners after a $RAMP ramp, $DURATION steady" \
  "$results/onair.json" "$results/naive.json" | tee "$results/compare.txt"

if [[ -n "${NAIVE_ALSO:-}" ]]; then
  label="naive-$NAIVE_ALSO"
  echo "== naive pion, $NAIVE_ALSO packets ($(cut -d' ' -f1-3 /proc/loadavg) load)"
  port=$("$load" freeport)
  "$load" naive --addr "127.0.0.1:$port" --for 10m --frame "$NAIVE_ALSO" >"$results/$label.log" 2>&1 &
  pids+=($!)
  naive_pid=$!
  server="http://127.0.0.1:$port"
  "$load" wait --server "$server" --timeout 30s
  run "$label" "$naive_pid" naive
  stop_pid "$naive_pid"
  "$load" compare --title "== $N WebRTC listeners, against naive pion with $NAIVE_ALSO packets" \
    "$results/onair.json" "$results/$label.json" | tee -a "$results/compare.txt"
fi
echo "results: $results"
