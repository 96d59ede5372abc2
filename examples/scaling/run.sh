#!/usr/bin/env bash
# Boots a local redis-server and two chat_server nodes (A and B) on free loopback ports, runs
# scaling_check against them, and stops everything. usage: examples/scaling/run.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
[ -n "$build" ] || build=$("$root/scripts/build.sh")
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # through the EXIT trap: interrupted, it stops what it started too

port_is_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }
# A random free port; if another process takes it first, our redis-server exits and we try again.
# Readiness means *our* redis-server answers (its process_id), not merely that the port is open.
redis_port=""
for _ in $(seq 20); do
  candidate=$((20000 + RANDOM % 30000))
  port_is_free "$candidate" || continue
  redis-server --port "$candidate" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning \
    > "$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do
    kill -0 "$redis_pid" 2> /dev/null || break
    if redis-cli -p "$candidate" INFO server 2> /dev/null | grep -q "process_id:$redis_pid"; then
      redis_port=$candidate
      break
    fi
    sleep 0.05
  done
  if [ -n "$redis_port" ]; then
    pids+=("$redis_pid")
    break
  fi
  kill "$redis_pid" 2> /dev/null || true
done
[ -n "$redis_port" ] || { echo "could not start redis-server"; cat "$work/redis.log"; exit 1; }
echo "redis-server on 127.0.0.1:$redis_port"

# Starts node $1 and sets $node_port and $admin_port. Not run in a $(subshell): the pid must reach
# the cleanup.
start_node() {
  "$build/examples/chat/chat_server" --port 0 --redis "redis://127.0.0.1:$redis_port" --node "$1" \
    --admin-port 0 > "$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "admin on" "$work/$1.log" && break
    sleep 0.05
  done
  node_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$1.log")
  admin_port=$(sed -n 's/^admin on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$1.log")
}
# The body of GET $2 on 127.0.0.1:$1 (bash's own /dev/tcp: the admin port answers and closes).
http_body() {
  exec 3<> "/dev/tcp/127.0.0.1/$1"
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  sed '1,/^\r$/d' <&3
  exec 3<&-
}
start_node A
port_a=$node_port
admin_a=$admin_port
start_node B
port_b=$node_port
admin_b=$admin_port
[ -n "$port_a" ] && [ -n "$port_b" ] && [ -n "$admin_a" ] && [ -n "$admin_b" ] || { cat "$work"/*.log; exit 1; }
echo "chat_server A on 127.0.0.1:$port_a (admin $admin_a), B on 127.0.0.1:$port_b (admin $admin_b)"
echo "A /ready: $(http_body "$admin_a" /ready)"
echo "B /ready: $(http_body "$admin_b" /ready)"
"$build/examples/scaling/scaling_check" --a "$port_a" --b "$port_b"
