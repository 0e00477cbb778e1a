#!/usr/bin/env bash
# Reruns every figure of docs/PERFORMANCE.md in one go (about 32 minutes on
# 2 cores): onair against Icecast2 at 1000 listeners (twice) and 200, the
# WebRTC and WebSocket loads, the station engine against Liquidsoap, and the
# benchmarks. Each run's tables, JSON and logs go to RESULTS_DIR/<name>/; a
# summary of where is printed at the end. Everything stays on 127.0.0.1, is
# bounded in time, and stops only what it started. Run it on an otherwise
# idle machine: the load average is recorded before each step.
#
#   scripts/perf-all.sh [RESULTS_DIR]
#   QUICK=1 scripts/perf-all.sh      # every step at a tenth of the size, ~6 min
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-$(mktemp -d /tmp/onair-perf-all-XXXXXX)}
mkdir -p "$results"
quick=${QUICK:-}
n() { if [[ -n "$quick" ]]; then echo $(( $1 / 10 )); else echo "$1"; fi; }

step() {
  local name=$1; shift
  mkdir -p "$results/$name"
  echo "== $name ($(cut -d' ' -f1-3 /proc/loadavg) load)" | tee "$results/$name/step.txt"
  "$@" 2>&1 | tee -a "$results/$name/output.txt"
}

step compare-1000-a bash scripts/icecast-compare.sh "$(n 1000)" "$results/compare-1000-a"
step compare-1000-b bash scripts/icecast-compare.sh "$(n 1000)" "$results/compare-1000-b"
step compare-200 bash scripts/icecast-compare.sh "$(n 200)" "$results/compare-200"

webrtc() { env HTTP_N=0 WS_N=0 "$@" bash scripts/load-smoke.sh "$results/$name"; }
name=webrtc-500-ramp; step $name webrtc WEBRTC_N="$(n 500)" RAMP=20s DURATION=20s
name=webrtc-200-flash; step $name webrtc WEBRTC_N="$(n 200)" MODE=flash
name=webrtc-500-one-port
port=$(go run ./cmd/onair-load freeport)
step $name webrtc ONAIR_WEBRTC_UDP_PORT="$port" WEBRTC_N="$(n 500)" RAMP=20s DURATION=20s
name=webrtc-500-60ms; step $name webrtc ONAIR_OPUS_FRAME_MS=60 WEBRTC_N="$(n 500)" RAMP=20s DURATION=20s
step webrtc-compare-200 bash scripts/webrtc-compare.sh "$(n 200)" "$results/webrtc-compare-200"
step webrtc-compare-1000 env RAMP=30s bash scripts/webrtc-compare.sh "$(n 1000)" "$results/webrtc-compare-1000"
name=ws-10000; step $name env HTTP_N=0 WEBRTC_N=0 WS_N="$(n 10000)" RAMP=10s bash scripts/load-smoke.sh "$results/$name"

if [[ -n "$quick" ]]; then
  step liquidsoap env WARMUP=5 WINDOW=15 STATIONS=3 SETTLE=5 bash scripts/liquidsoap-compare.sh "$results/liquidsoap"
else
  step liquidsoap bash scripts/liquidsoap-compare.sh "$results/liquidsoap"
fi

# live sources: Icecast source → HTTP listener delay, takeover/fallback over N switches, CPU
step icecast-live env ONAIR_MEASURE="$(n 20)" go test -run TestIcecastLiveFigures -v -timeout 30m ./cmd/onair/

count=3; [[ -n "$quick" ]] && count=1
step bench-relay go test -run '^$' -bench 'HTTPFanout' -benchtime=10x -count=$count ./relay/
step bench-engine go test -run '^$' -bench 'StationEngine' -benchtime=3x -count=$count ./relay/
step bench-webrtc go test -run '^$' -bench WebRTCWrite -benchtime=2s -count=$count ./rtc/
step bench-signalling go test -run '^$' -bench Broadcast -benchtime=5x -count=$count ./signalling/
step bench-other go test -run '^$' -bench . -count=$count ./relay/icy ./audio/resample ./ingest/...

echo
echo "== every figure is under $results:"
find "$results" -name '*.json' -o -name 'output.txt' | sort
