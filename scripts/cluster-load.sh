#!/usr/bin/env bash
# Cluster load: builds onair and onair-load, starts an origin (with the
# embedded NATS server) and two edges on free ports of 127.0.0.1, puts a
# station on air on the origin, measures the NATS traffic of each output,
# and runs the same HTTP load against edge 1 alone, then against both edges
# at once, then against the origin alone as a single node would be; then
# WebRTC listeners on edge 1 and on the origin. It saves each run's JSON report
# and the nodes' cluster metrics (NATS bytes, origin → edge delays).
# Everything stays on 127.0.0.1, is bounded in time, and only the servers
# this script started are stopped.
#
#   scripts/cluster-load.sh [RESULTS_DIR]
#
# Environment: HTTP_N (500 per target), WEBRTC_N (50), RAMP (10s),
# DURATION (20s).
set -euo pipefail
cd "$(dirname "$0")/.."

HTTP_N=${HTTP_N:-500}
WEBRTC_N=${WEBRTC_N:-50}
DURATION=${DURATION:-20s}
RAMP=${RAMP:-10s}

work=$(mktemp -d)
results=${1:-$work/results}
mkdir -p "$results"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work/origin" "$work/edge-1" "$work/edge-2" "$work/onair" "$work/onair-load"
}
trap cleanup EXIT

echo "== build"
go build -o "$work/onair" ./cmd/onair
go build -o "$work/onair-load" ./cmd/onair-load
load="$work/onair-load"

nats_port=$("$load" freeport)
password="cluster-$RANDOM-$RANDOM-password"
start_node() { # name role port extra-env...
  local name=$1 role=$2 port=$3; shift 3
  env ONAIR_HTTP_ADDR="127.0.0.1:$port" ONAIR_DATA_DIR="$work/$name" ONAIR_ADMIN_PASSWORD="$password" \
    ONAIR_WEBRTC_LOOPBACK_ONLY=true ONAIR_LIMITS_SOCKETS_PER_IP=100000 ONAIR_LIMITS_STREAMS_PER_IP=100000 \
    ONAIR_LOG_LEVEL=warn ONAIR_CLUSTER_ROLE="$role" ONAIR_CLUSTER_NODE="$name" "$@" \
    "$work/onair" serve >"$results/$name.log" 2>&1 &
  pids+=($!)
  "$load" wait --server "http://127.0.0.1:$port" --timeout 30s || { cat "$results/$name.log"; exit 1; }
}
po=$("$load" freeport); start_node origin origin "$po" ONAIR_CLUSTER_EMBEDDED_NATS="127.0.0.1:$nats_port"; origin_pid=${pids[-1]}
p1=$("$load" freeport); start_node edge-1 edge "$p1" ONAIR_CLUSTER_NATS_URL="nats://127.0.0.1:$nats_port"; e1_pid=${pids[-1]}
p2=$("$load" freeport); start_node edge-2 edge "$p2" ONAIR_CLUSTER_NATS_URL="nats://127.0.0.1:$nats_port"; e2_pid=${pids[-1]}
origin="http://127.0.0.1:$po"; e1="http://127.0.0.1:$p1"; e2="http://127.0.0.1:$p2"

read -r slug token < <("$load" prepare --server "$origin" --user admin --password "$password" \
  --name "Cluster Load" testdata/tone440.mp3 testdata/tone880.mp3)
[[ -n "${token:-}" ]] || { echo "could not set up a station" >&2; exit 1; }
echo "station $slug is live on the origin"

bytes_in() { curl -s "$1/metrics" | awk '/^onair_cluster_bytes_total\{direction="in"\}/ {print $2}'; }
msgs_in() { curl -s "$1/metrics" | awk '/^onair_cluster_messages_total\{direction="in"\}/ {print $2}'; }
# traffic OUTPUT: NATS bytes and messages into edge 1 per second while it
# has one listener of OUTPUT only (after 3 s to settle, over 10 s).
traffic() {
  local what=$1; shift
  "$@" & local lp=$!
  sleep 3
  local b0 m0 b1 m1
  b0=$(bytes_in "$e1"); m0=$(msgs_in "$e1"); sleep 10; b1=$(bytes_in "$e1"); m1=$(msgs_in "$e1")
  kill "$lp" 2>/dev/null || true; wait "$lp" 2>/dev/null || true
  # Prometheus may print large counters as 1.234e+06: awk reads both.
  awk -v w="$what" -v b0="$b0" -v b1="$b1" -v m0="$m0" -v m1="$m1" \
    'BEGIN { printf "%-6s %8.1f KB/s %6.1f msg/s into one edge\n", w, (b1-b0)/10/1000, (m1-m0)/10 }' | tee -a "$results/traffic.txt"
  sleep 8 # the edge's demand is gone before the next
}
echo "== NATS traffic per output, one edge"
traffic mp3 curl -s -o /dev/null --max-time 15 "$e1/stream/$slug"
traffic ogg curl -s -o /dev/null --max-time 15 "$e1/stream/$slug.opus"
traffic opus timeout 20 "$load" run --server "$e1" --station "$slug" --label opus --http 0 --webrtc 1 --ramp 1s --duration 16s --json "$results/opus-traffic.json"

metrics() { curl -s "$1/metrics" | grep -E '^onair_(cluster|node_listeners|listeners)' > "$results/$2.metrics" || true; }
run() { # label server pid http webrtc
  timeout 300 "$load" run --server "$2" --station "$slug" --label "$1" --http "$4" --webrtc "$5" \
    --decode-sample 0 --ramp "$RAMP" --duration "$DURATION" --pid "$3" --token "$token" --json "$results/$1.json"
}

echo "== HTTP: $HTTP_N listeners on edge 1 alone"
run edge1-http "$e1" "$e1_pid" "$HTTP_N" 0
metrics "$e1" edge1-after-http; metrics "$origin" origin-after-http
echo "== HTTP: $HTTP_N listeners on each edge at once"
run edge1-both "$e1" "$e1_pid" "$HTTP_N" 0 & a=$!
run edge2-both "$e2" "$e2_pid" "$HTTP_N" 0 & b=$!
wait $a; wait $b
metrics "$e1" edge1-after-both; metrics "$e2" edge2-after-both; metrics "$origin" origin-after-both
echo "== HTTP: $HTTP_N listeners on the origin alone, as one node"
run origin-http "$origin" "$origin_pid" "$HTTP_N" 0
echo "== WebRTC: $WEBRTC_N listeners on edge 1, then on the origin"
run edge1-webrtc "$e1" "$e1_pid" 0 "$WEBRTC_N"
metrics "$e1" edge1-after-webrtc
run origin-webrtc "$origin" "$origin_pid" 0 "$WEBRTC_N"
echo "== results in $results"
