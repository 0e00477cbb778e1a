#!/usr/bin/env bash
# onair against Icecast2, in one run on one machine, with the same MP3 at the
# same bitrate and the same HTTP load:
#
#   1. installs Debian's icecast2 (and ffmpeg) if missing;
#   2. makes a 60 s 128 kbit/s 44.1 kHz stereo MP3 in a temp dir;
#   3. starts Icecast2 on a free 127.0.0.1 port with a minimal config and
#      feeds it that MP3 in real time with ffmpeg (-re -stream_loop -1);
#   4. starts onair on another free 127.0.0.1 port with a station playing the
#      same MP3;
#   5. runs onair-load against each, one server at a time and each run on a
#      freshly started server, with N listeners: a flash crowd (all N at
#      once) and a ramp to a steady state, sampling the server's /proc; the
#      order is A B B A to even out drift;
#   6. prints the side-by-side tables with the ratios onair/Icecast2 and
#      writes every JSON report to the results dir.
#
# Everything stays on 127.0.0.1; the whole run takes about 3 minutes for
# N=1000; only the processes this script started are stopped.
#
#   scripts/icecast-compare.sh [N] [RESULTS_DIR]
#
# Environment: FLASH_STEADY (10s), RAMP (10s), STEADY (20s), MAX_CONNECT (5s:
# a listener without audio by then did not get in).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-1000}
results=${2:-${TMPDIR:-/tmp}/onair-icecast-compare-$N-$(date -u +%Y%m%dT%H%M%SZ)}
FLASH_STEADY=${FLASH_STEADY:-10s}
RAMP=${RAMP:-10s}
STEADY=${STEADY:-20s}
MAX_CONNECT=${MAX_CONNECT:-5s}
mkdir -p "$results"
results=$(cd "$results" && pwd)

need_install=()
command -v icecast2 >/dev/null || need_install+=(icecast2)
command -v ffmpeg >/dev/null || need_install+=(ffmpeg)
if ((${#need_install[@]})); then
  echo "== install ${need_install[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need_install[@]}" >/dev/null
fi

# Each server gets as many descriptors as the machine allows.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < N + 200)); then
  echo "open file limit $(ulimit -n) is too low for $N listeners" >&2
  exit 1
fi

work=$(mktemp -d)
chmod 755 "$work" # Icecast drops to nobody and must read its web root here
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

echo "== build"
go build -o "$work/onair" ./cmd/onair
go build -o "$work/onair-load" ./cmd/onair-load
load="$work/onair-load"

echo "== a 60 s 128 kbit/s 44.1 kHz stereo MP3"
mp3="$work/tone60.mp3"
ffmpeg -nostdin -loglevel error -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=60" \
  -f lavfi -i "sine=frequency=660:sample_rate=44100:duration=60" \
  -filter_complex "[0:a][1:a]amerge=inputs=2[a]" -map "[a]" \
  -c:a libmp3lame -b:a 128k -ar 44100 -ac 2 -id3v2_version 0 -write_xing 0 "$mp3"

ice_port=$("$load" freeport)
onair_port=$("$load" freeport)
while [[ "$onair_port" == "$ice_port" ]]; do onair_port=$("$load" freeport); done
source_pw="src-$RANDOM$RANDOM"
admin_pw="adm-$RANDOM$RANDOM-password"
mkdir -p "$work/icecast-log"
chmod 777 "$work/icecast-log"
cat >"$work/icecast.xml" <<XML
<icecast>
  <location>loopback</location>
  <admin>icemaster@localhost</admin>
  <limits>
    <clients>$((N + 50))</clients>
    <sources>2</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>65535</burst-size>
  </limits>
  <authentication>
    <source-password>$source_pw</source-password>
    <relay-password>$source_pw</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>$admin_pw</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket>
    <port>$ice_port</port>
    <bind-address>127.0.0.1</bind-address>
  </listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>/usr/share/icecast2</basedir>
    <logdir>$work/icecast-log</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging>
    <accesslog>access.log</accesslog>
    <errorlog>error.log</errorlog>
    <loglevel>2</loglevel>
  </logging>
  <security>
    <chroot>0</chroot>
    <changeowner>
      <user>nobody</user>
      <group>nogroup</group>
    </changeowner>
  </security>
</icecast>
XML

# Each run gets freshly started servers, so that memory left over from an
# earlier run is not taken for a baseline. onair resumes its live station
# from its data dir on restart; Icecast gets a new ffmpeg source.
ice_pid="" ffmpeg_pid="" onair_pid=""
start_icecast() {
  icecast2 -c "$work/icecast.xml" >>"$results/icecast.out" 2>&1 &
  ice_pid=$!
  pids+=("$ice_pid")
  "$load" wait --server "http://127.0.0.1:$ice_port" --path /status-json.xsl --timeout 20s
  ffmpeg -nostdin -loglevel error -re -stream_loop -1 -i "$mp3" -c copy \
    -content_type audio/mpeg -f mp3 -id3v2_version 0 -write_xing 0 \
    "icecast://source:$source_pw@127.0.0.1:$ice_port/test.mp3" >>"$results/ffmpeg.out" 2>&1 &
  ffmpeg_pid=$!
  pids+=("$ffmpeg_pid")
  "$load" wait --server "http://127.0.0.1:$ice_port" --path /test.mp3 --timeout 20s
}
stop_icecast() { stop_pid "$ffmpeg_pid"; stop_pid "$ice_pid"; }
start_onair() {
  ONAIR_HTTP_ADDR="127.0.0.1:$onair_port" \
  ONAIR_DATA_DIR="$work/onair-data" \
  ONAIR_ADMIN_PASSWORD="$admin_pw" \
  ONAIR_WEBRTC_LOOPBACK_ONLY=true \
  ONAIR_LIMITS_STREAMS_PER_IP=100000 ONAIR_LIMITS_SOCKETS_PER_IP=100000 \
  ONAIR_LOG_LEVEL=warn \
    "$work/onair" serve >>"$results/onair.log" 2>&1 &
  onair_pid=$!
  pids+=("$onair_pid")
  "$load" wait --server "http://127.0.0.1:$onair_port" --timeout 30s
}
stop_onair() { stop_pid "$onair_pid"; }

echo "== set up: onair on 127.0.0.1:$onair_port, Icecast2 on 127.0.0.1:$ice_port"
start_onair
read -r slug _ < <("$load" prepare --server "http://127.0.0.1:$onair_port" --password "$admin_pw" --name "Compare" "$mp3")
[[ -n "${slug:-}" ]] || { echo "could not set up the onair station" >&2; exit 1; }
stop_onair

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
  echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "onair: $("$work/onair" version) ($(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ', uncommitted changes'))"
  echo "icecast: $(icecast2 -v 2>&1 | head -1)"
  echo "ffmpeg: $(ffmpeg -version | head -1)"
  echo "load average before: $(cut -d" " -f1-3 /proc/loadavg)"
  echo "listeners: $N; flash steady $FLASH_STEADY; ramp $RAMP then steady $STEADY; max connect $MAX_CONNECT"
} | tee "$results/environment.txt"

icecast_run() { # mode json [flags...]
  local mode=$1 json=$2
  shift 2
  start_icecast
  timeout 150 "$load" run --server "http://127.0.0.1:$ice_port" --stream-path /test.mp3 --label icecast2 \
    --pid "$ice_pid" --http "$N" --mode "$mode" --max-connect "$MAX_CONNECT" --expected-rate 16000 --baseline 3s --settle 3s \
    --json "$results/$json" "$@" | tee -a "$results/tables.txt"
  stop_icecast
}
onair_run() {
  local mode=$1 json=$2
  shift 2
  start_onair
  "$load" wait --server "http://127.0.0.1:$onair_port" --path "/stream/$slug" --timeout 20s
  timeout 150 "$load" run --server "http://127.0.0.1:$onair_port" --station "$slug" --label onair \
    --pid "$onair_pid" --http "$N" --mode "$mode" --max-connect "$MAX_CONNECT" --expected-rate 16000 --baseline 3s --settle 3s \
    --json "$results/$json" "$@" | tee -a "$results/tables.txt"
  stop_onair
}

echo "== flash crowd: $N at once (Icecast2, then onair)"
icecast_run flash icecast-flash.json --duration "$FLASH_STEADY"
onair_run flash onair-flash.json --duration "$FLASH_STEADY"
echo "== ramp over $RAMP, steady $STEADY (onair, then Icecast2)"
onair_run ramp onair-steady.json --ramp "$RAMP" --duration "$STEADY"
icecast_run ramp icecast-steady.json --ramp "$RAMP" --duration "$STEADY"

echo
{
  "$load" compare --title "== flash crowd: $N listeners at once" "$results/onair-flash.json" "$results/icecast-flash.json"
  echo
  "$load" compare --title "== steady: $N listeners after a $RAMP ramp" "$results/onair-steady.json" "$results/icecast-steady.json"
} | tee "$results/compare.txt"
echo
echo "reports in $results"
