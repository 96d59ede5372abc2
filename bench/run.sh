#!/usr/bin/env bash
# Side-by-side benchmarks: every workload against superline and each peer, in alternating rounds,
# then a table of medians and superline/peer ratios (bench/summarize.py).
#
#   bench/run.sh [--rounds N] [--baseline REF] [--no-peers] [w1 ... w7]   (default: 3 rounds, all)
#
#   --baseline REF  also builds git revision REF (in build-bench-baseline/) and runs its chat_server
#                   as "superline@base" / "superline-pb@base" beside the current tree in w1, w2, w4,
#                   w5 and w6: a change's before and after in one run, alternating.
#   --no-peers      skips Socket.IO, ws and the epoll echo (no npm install)
#
#   w1  room broadcast of 1 KB to 1,000 and to 10,000 connections (one sender, 16 in flight)
#   w2  bursts: 10 senders, 32 in flight each, 1 KB, to a room of 1,000
#   w3  two nodes through one local redis-server, 1,000 subscribers split across them
#   w4  memory: server RSS per idle connection at 10,000 connections
#   w5  request/response round trips, 100 connections, closed loop (+ the raw epoll echo)
#   w6  connection storm: 10,000 upgrades + joins, 500 in flight
#   w7  slow consumers (superline only): 1,000 connections, one 1 KB message in flight, all healthy
#       vs 10% not reading; the healthy clients' latency, and the server's RSS afterwards
#
# Servers run on core 0 and loadgen on core 1 when there are two cores. Peers (Socket.IO 4 with
# @socket.io/redis-adapter, ws) are installed from npm into bench/peers at pinned versions.
# Raw results go to bench/out/<time>.jsonl, one loadgen JSON object per line.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
workloads=()
baseline=""
peers=(ws socketio)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    --no-peers) peers=(); shift ;;
    w[1-7]) workloads+=("$1"); shift ;;
    *) echo "usage: bench/run.sh [--rounds N] [--baseline REF] [--no-peers] [w1 w2 w3 w4 w5 w6 w7]" >&2; exit 2 ;;
  esac
done
[[ ${#workloads[@]} -eq 0 ]] && workloads=(w1 w2 w3 w4 w5 w6 w7)

need=()
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v redis-server >/dev/null || need+=(redis-server)
command -v python3 >/dev/null || need+=(python3)
if [[ ${#need[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then echo "bench/run.sh: install ${need[*]} (apt-get, as root)" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
scripts/setup.sh

generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-bench "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DSUPERLINE_BUILD_BENCH=ON -DSUPERLINE_BUILD_TESTS=OFF -DSUPERLINE_TYPESCRIPT=OFF >/dev/null
cmake --build build-bench --target chat_server loadgen epoll_echo
[[ ${#peers[@]} -gt 0 ]] && (cd bench/peers && npm install --no-audit --no-fund --loglevel=error)
ours=(superline superline-pb)
if [[ -n $baseline ]]; then
  base_src=build-bench-baseline/src
  git worktree remove --force "$base_src" 2>/dev/null || rm -rf "$base_src"
  git worktree prune
  git worktree add --detach "$base_src" "$baseline" >/dev/null
  cmake -S "$base_src" -B build-bench-baseline/build "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DSUPERLINE_BUILD_TESTS=OFF -DSUPERLINE_TYPESCRIPT=OFF >/dev/null
  cmake --build build-bench-baseline/build --target chat_server
  ours+=(superline@base superline-pb@base)
fi

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt 10100 ]]; then
  echo "bench/run.sh: w1, w4 and w6 need 10,100 file descriptors per process; the limit is $(ulimit -n)" >&2
fi
server_cpu=(); client_cpu=()
if [[ $(nproc) -ge 2 ]]; then server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); fi

bin=build-bench
mkdir -p bench/out
out="bench/out/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
pids=()
port=""
pid=""

# start LOG CMD...: runs a server, waits for "listening on HOST:PORT", sets $port and $pid.
start() {
  local log=$1; shift
  "${server_cpu[@]}" "$@" >"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do
    port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2 || true)
    [[ -n $port ]] && return 0
    sleep 0.05
  done
  echo "bench/run.sh: server did not start: $*" >&2; cat "$log" >&2; return 1
}
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

# run WORKLOAD SYSTEM LOADGEN-ARGS...: one loadgen run against the server(s) just started.
run() {
  local workload=$1 system=$2; shift 2
  local result
  result=$("${client_cpu[@]}" "$bin/bench/loadgen" --port "$first_port" --server-pid "$first_pid" "$@" || true)
  [[ -z $result ]] && result='{"errors":-1}'
  echo "{\"bench\":\"$workload\",\"system\":\"$system\",${result#\{}" | tee -a "$out"
}

logdir=$(mktemp -d)
redis_port=0
start_redis() {
  redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${server_cpu[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    >"$logdir/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "bench/run.sh: redis-server did not start" >&2; return 1
}

# one SYSTEM: starts the system's single-node server; sets $first_port, $first_pid and $protocol.
one() {
  case $1 in
    superline|superline-pb) start "$logdir/s.log" "$bin/examples/chat/chat_server" --port 0 --heartbeat-ms 0 ;;
    *@base) start "$logdir/s.log" build-bench-baseline/build/examples/chat/chat_server --port 0 --heartbeat-ms 0 ;;
    ws) PORT=0 start "$logdir/s.log" node bench/peers/ws_server.js ;;
    socketio) PORT=0 start "$logdir/s.log" node bench/peers/socketio_server.js ;;
    epoll) start "$logdir/s.log" "$bin/bench/epoll_echo" ;;
  esac
  first_port=$port first_pid=$pid
  case $1 in superline-pb*) protocol=pb ;; socketio) protocol=socketio ;; *) protocol=json ;; esac
}

for ((round = 1; round <= rounds; round++)); do
  echo "== round $round of $rounds" >&2
  for w in "${workloads[@]}"; do
    case $w in
      w1)
        for system in "${ours[@]}" "${peers[@]}"; do
          one $system; run w1-1k $system --protocol $protocol --conns 1000 --messages 200 --window 16; stop_all
          one $system; run w1-10k $system --protocol $protocol --conns 10000 --messages 20 --window 16; stop_all
        done ;;
      w2)
        for system in "${ours[@]}" "${peers[@]}"; do
          one $system
          run w2 $system --protocol $protocol --conns 1000 --senders 10 --messages 50 --window 32
          stop_all
        done ;;
      w3)
        for system in superline superline-pb ${peers[@]:+socketio}; do
          start_redis
          if [[ $system == socketio ]]; then
            PORT=0 REDIS_URL="redis://127.0.0.1:$redis_port" start "$logdir/a.log" node bench/peers/socketio_server.js
            first_port=$port first_pid=$pid
            PORT=0 REDIS_URL="redis://127.0.0.1:$redis_port" start "$logdir/b.log" node bench/peers/socketio_server.js
            protocol=socketio
          else
            start "$logdir/a.log" "$bin/examples/chat/chat_server" --port 0 --heartbeat-ms 0 \
              --redis "redis://127.0.0.1:$redis_port" --node a
            first_port=$port first_pid=$pid
            start "$logdir/b.log" "$bin/examples/chat/chat_server" --port 0 --heartbeat-ms 0 \
              --redis "redis://127.0.0.1:$redis_port" --node b
            [[ $system == superline-pb ]] && protocol=pb || protocol=json
          fi
          run w3 $system --protocol $protocol --port2 "$port" --conns 1000 --messages 200 --window 16
          stop_all
        done ;;
      w4)
        for system in "${ours[@]}" "${peers[@]}"; do
          one $system; run w4 $system --protocol $protocol --workload connect --conns 10000 --hold-ms 2000; stop_all
        done ;;
      w5)
        for system in "${ours[@]}" ${peers[@]:+epoll} "${peers[@]}"; do
          one $system; run w5 $system --protocol $protocol --workload echo --conns 100 --messages 1000; stop_all
        done ;;
      w6)
        for system in superline ${baseline:+superline@base} "${peers[@]}"; do
          one $system
          run w6 $system --protocol $protocol --workload connect --conns 10000 --concurrency 500
          stop_all
        done ;;
      w7)
        for slow in 0 10; do
          one superline
          run w7 "$slow%-slow" --protocol json --conns 1000 --messages 1000 --window 1 --slow-pct $slow
          echo "{\"bench\":\"w7-rss\",\"system\":\"$slow%-slow\",\"rss_kb\":$(awk '/VmRSS/{print $2}' /proc/$first_pid/status)}" >>"$out"
          stop_all
        done ;;
    esac
  done
done
rm -rf "$logdir"
echo "raw results: $out" >&2
python3 bench/summarize.py "$out"
