#!/usr/bin/env bash
# Load smoke: builds onair and onair-load, starts onair on a free port of
# 127.0.0.1 with a temp data dir, puts a station on air with two fixtures and
# runs a small mixed load (50 HTTP + 10 WebRTC + 50 WebSocket clients, about
# 10 s steady). It prints the table and fails only when the run itself fails
# or nobody got in: there is no pass/fail on speed. Everything stays on
# 127.0.0.1, is bounded in time, and only the server this script started is
# stopped.
#
#   scripts/load-smoke.sh [RESULTS_DIR]
#
# Environment: HTTP_N (50), WEBRTC_N (10), WS_N (50), DECODE (2 WebRTC
# listeners decode), MODE (ramp or flash), RAMP (3s), DURATION (10s). Other
# ONAIR_* variables reach the server, e.g. ONAIR_WEBRTC_UDP_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

HTTP_N=${HTTP_N:-50}
WEBRTC_N=${WEBRTC_N:-10}
WS_N=${WS_N:-50}
DURATION=${DURATION:-10s}
RAMP=${RAMP:-3s}
MODE=${MODE:-ramp}
DECODE=${DECODE:-2}

work=$(mktemp -d)
results=${1:-$work/results}
mkdir -p "$results"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work/data" "$work/onair" "$work/onair-load"
}
trap cleanup EXIT

echo "== build"
go build -o "$work/onair" ./cmd/onair
go build -o "$work/onair-load" ./cmd/onair-load

port=$("$work/onair-load" freeport)
password="smoke-$RANDOM-$RANDOM-password"
echo "== start onair on 127.0.0.1:$port"
ONAIR_HTTP_ADDR="127.0.0.1:$port" \
ONAIR_DATA_DIR="$work/data" \
ONAIR_ADMIN_PASSWORD="$password" \
ONAIR_WEBRTC_LOOPBACK_ONLY=true \
ONAIR_LIMITS_SOCKETS_PER_IP=100000 \
ONAIR_LIMITS_STREAMS_PER_IP=100000 \
ONAIR_LOG_LEVEL=warn \
  "$work/onair" serve >"$results/onair.log" 2>&1 &
server_pid=$!
server="http://127.0.0.1:$port"
"$work/onair-load" wait --server "$server" --timeout 30s || { cat "$results/onair.log"; exit 1; }

echo "== station"
read -r slug token < <("$work/onair-load" prepare --server "$server" --user admin --password "$password" \
  --name "Load Smoke" testdata/tone440.mp3 testdata/tone880.mp3)
[[ -n "${token:-}" ]] || { echo "could not set up a station" >&2; exit 1; }
echo "station $slug is live"

# onair-load bounds itself and fails only when no client of a kind got in:
# a smoke, not a speed test. timeout is the outer bound.
echo "== load: $HTTP_N HTTP + $WEBRTC_N WebRTC + $WS_N WS, steady $DURATION"
timeout 180 "$work/onair-load" run --server "$server" --station "$slug" --label onair \
  --http "$HTTP_N" --webrtc "$WEBRTC_N" --ws "$WS_N" --decode-sample "$DECODE" \
  --mode "$MODE" --ramp "$RAMP" --duration "$DURATION" --pid "$server_pid" --token "$token" \
  --json "$results/smoke.json"

echo "== report: $results/smoke.json"
