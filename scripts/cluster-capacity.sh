#!/usr/bin/env bash
# Listener capacity of one node and of a 3-node loopback cluster, with the
# same load tool. Builds onair and onair-load; starts one plain node (no
# cluster keys) on 127.0.0.1, puts a station on air, and raises the number
# of HTTP listeners step by step until a step is not served; then stops it
# and does the same against an origin (embedded NATS) and two edges, the
# listeners split evenly over the two edges. Then the same for WebRTC.
#
# A step is served when `onair-load check` passes for each of its reports:
# every listener got in within 5 s and stayed to the end, kept at least
# 95% of the bitrate in the steady phase, no HTTP player starting at its
# first byte ran dry (no gap), HTTP first byte p99 <= TTFB_P99, and for
# WebRTC loss <= LOSS % and offer-to-audio p99 <= OFFER_P99. The capacity
# is the last served step: a lower bound, as the steps are coarse.
#
# Bounded: each step is one onair-load run (2 s baseline, RAMP, 2 s
# settle, DURATION) under `timeout 120`; the ladders are finite and stop at
# the first step not served. Everything stays on 127.0.0.1 and only the
# processes this script started are stopped, by pid.
#
#   scripts/cluster-capacity.sh [RESULTS_DIR]
#
# Environment: LADDER ("500 1000 2000 3000 4000 6000" HTTP listeners),
# CLUSTER_LADDER (LADDER), WEBRTC_LADDER ("100 200 400"); an empty
# ladder is skipped,
# RAMP (20s), DURATION (20s), TTFB_P99 (1s), OFFER_P99 (2s), LOSS (1),
# ONLY ("", or "single"/"cluster").
#
# Each process here may open at most `ulimit -n` files: a node cannot hold
# more listeners than that, nor one onair-load run more clients, whatever
# the CPU; the header line of the summary says the limit. MAX_CONNS sets
# every node's http.max_conns (0, no cap, by default here; onair's own
# default, 10000, would stop a node at 10,000 connections by design).
set -euo pipefail
cd "$(dirname "$0")/.."

LADDER=${LADDER-500 1000 2000 3000 4000 6000}
CLUSTER_LADDER=${CLUSTER_LADDER-$LADDER}
WEBRTC_LADDER=${WEBRTC_LADDER-100 200 400}
RAMP=${RAMP:-20s}
DURATION=${DURATION:-20s}
TTFB_P99=${TTFB_P99:-1s}
OFFER_P99=${OFFER_P99:-2s}
LOSS=${LOSS:-1}
ONLY=${ONLY:-}
MAX_CONNS=${MAX_CONNS:-0}

work=$(mktemp -d)
results=${1:-$work/results}
mkdir -p "$results"
summary="$results/capacity.txt"
pids=()
stop_pid() {
  local pid=$1
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$work/single" "$work/origin" "$work/edge-1" "$work/edge-2" "$work/onair" "$work/onair-load"
}
trap cleanup EXIT

echo "== build"
go build -o "$work/onair" ./cmd/onair
go build -o "$work/onair-load" ./cmd/onair-load
load="$work/onair-load"
password="capacity-$RANDOM-$RANDOM-password"

start_node() { # name port env...  (sets $node_pid)
  local name=$1 port=$2; shift 2
  env ONAIR_HTTP_ADDR="127.0.0.1:$port" ONAIR_DATA_DIR="$work/$name" ONAIR_ADMIN_PASSWORD="$password" \
    ONAIR_WEBRTC_LOOPBACK_ONLY=true ONAIR_LIMITS_SOCKETS_PER_IP=100000 ONAIR_LIMITS_STREAMS_PER_IP=100000 \
    ONAIR_HTTP_MAX_CONNS="$MAX_CONNS" ONAIR_LOG_LEVEL=warn "$@" "$work/onair" serve >"$results/$name.log" 2>&1 &
  node_pid=$!
  pids+=("$node_pid")
  "$load" wait --server "http://127.0.0.1:$port" --timeout 30s || { cat "$results/$name.log"; exit 1; }
}
prepare() { # server  (sets $slug)
  local token
  read -r slug token < <("$load" prepare --server "$1" --user admin --password "$password" \
    --name "Capacity" testdata/tone440.mp3 testdata/tone880.mp3)
  [[ -n "${token:-}" ]] || { echo "could not set up a station" >&2; exit 1; }
}
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
one() { # label server pid http webrtc
  timeout 120 "$load" run --server "$2" --station "$slug" --label "$1" --http "$4" --webrtc "$5" \
    --decode-sample 0 --ramp "$RAMP" --duration "$DURATION" --pid "$3" --json "$results/$1.json" \
    >"$results/$1.txt" 2>&1 || true
}
# report FILE...: one line per step for the summary.
report() {
  jq -r '[.label,
    (if .http then "http in \(.http.connected)/\(.http.attempted) drop \(.http.dropped) slow \(.http.slow) dry \(.http.underruns) ttfb p99 \(.http.ttfb_ms.p99|floor) ms"
     else "webrtc in \(.webrtc.connected)/\(.webrtc.attempted) drop \(.webrtc.dropped) loss \(.webrtc.loss_percent*100|floor/100)% offer p99 \(.webrtc.offer_to_first_ms.p99|floor) ms" end),
    "server cpu steady \(.server_proc.steady_cpu_percent // 0 | .*10|floor|./10)%",
    "tool cpu steady \(.tool_cpu_percent.steady|.*10|floor|./10)%"] | join("  ")' "$@" | tee -a "$summary"
}
verdict() { # what n files...  (returns 1 when not served)
  local what=$1 n=$2; shift 2
  if "$load" check --ttfb-p99 "$TTFB_P99" --offer-p99 "$OFFER_P99" --loss "$LOSS" "$@" >"$results/check.txt" 2>&1; then
    echo "$what $n: served" | tee -a "$summary"
  else
    echo "$what $n: NOT served: $(head -3 "$results/check.txt" | tr '\n' ' ')" | tee -a "$summary"
    return 1
  fi
}

# ladder_single KIND LADDER: steps against the single node.
ladder_single() {
  local kind=$1 n
  for n in $2; do
    echo "-- single $kind $n (load $(loadavg))" | tee -a "$summary"
    local h=0 w=0; [[ $kind == http ]] && h=$n || w=$n
    one "single-$kind-$n" "$single" "$single_pid" "$h" "$w"
    report "$results/single-$kind-$n.json" || true
    verdict "single $kind" "$n" "$results/single-$kind-$n.json" || break
    sleep 5 # the last step's listeners are gone
  done
}

# ladder_cluster KIND LADDER: steps split over the two edges at once.
ladder_cluster() {
  local kind=$1 n
  for n in $2; do
    echo "-- cluster $kind $n over 2 edges (load $(loadavg))" | tee -a "$summary"
    local half=$((n / 2)) h=0 w=0
    [[ $kind == http ]] && h=$half || w=$half
    local t0 c0; t0=$(date +%s.%N); c0=$(ticks "$origin_pid")
    one "cluster-$kind-$n-edge1" "$e1" "$e1_pid" "$h" "$w" & local a=$!
    one "cluster-$kind-$n-edge2" "$e2" "$e2_pid" "$h" "$w" & local b=$!
    wait "$a"; wait "$b"
    local t1 c1; t1=$(date +%s.%N); c1=$(ticks "$origin_pid")
    awk -v c="$((c1 - c0))" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "origin cpu over the step %.0f%%\n", c / (t1 - t0) }' | tee -a "$summary"
    report "$results/cluster-$kind-$n-edge1.json" "$results/cluster-$kind-$n-edge2.json" || true
    verdict "cluster $kind" "$n" "$results/cluster-$kind-$n-edge1.json" "$results/cluster-$kind-$n-edge2.json" || break
    sleep 5
  done
}

echo "capacity $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) $(nproc) cores, open files $(ulimit -n) a process, http.max_conns $MAX_CONNS; limits: first byte p99 <= $TTFB_P99, offer p99 <= $OFFER_P99, loss <= $LOSS%; ramp $RAMP, steady $DURATION" | tee "$summary"

if [[ $ONLY != cluster ]]; then
  echo "== one node"
  ps=$("$load" freeport); start_node single "$ps"; single_pid=$node_pid; single="http://127.0.0.1:$ps"
  prepare "$single"
  ladder_single http "$LADDER"
  [[ -z $WEBRTC_LADDER ]] || ladder_single webrtc "$WEBRTC_LADDER"
  stop_pid "$single_pid"
fi

if [[ $ONLY != single ]]; then
  echo "== origin and two edges"
  nats_port=$("$load" freeport)
  po=$("$load" freeport); start_node origin "$po" ONAIR_CLUSTER_ROLE=origin ONAIR_CLUSTER_NODE=origin \
    ONAIR_CLUSTER_EMBEDDED_NATS="127.0.0.1:$nats_port"; origin_pid=$node_pid
  p1=$("$load" freeport); start_node edge-1 "$p1" ONAIR_CLUSTER_ROLE=edge ONAIR_CLUSTER_NODE=edge-1 \
    ONAIR_CLUSTER_NATS_URL="nats://127.0.0.1:$nats_port"; e1_pid=$node_pid
  p2=$("$load" freeport); start_node edge-2 "$p2" ONAIR_CLUSTER_ROLE=edge ONAIR_CLUSTER_NODE=edge-2 \
    ONAIR_CLUSTER_NATS_URL="nats://127.0.0.1:$nats_port"; e2_pid=$node_pid
  e1="http://127.0.0.1:$p1"; e2="http://127.0.0.1:$p2"
  prepare "http://127.0.0.1:$po"
  for e in "$e1" "$e2"; do
    for _ in $(seq 50); do
      [[ $(curl -s --max-time 2 -o /dev/null -w '%{http_code}' -I "$e/stream/$slug") == 200 ]] && break
      sleep 0.2
    done
  done
  ladder_cluster http "$CLUSTER_LADDER"
  [[ -z $WEBRTC_LADDER ]] || ladder_cluster webrtc "$WEBRTC_LADDER"
fi
echo "== summary ($summary)"
cat "$summary"
