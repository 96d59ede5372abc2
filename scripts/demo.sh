#!/usr/bin/env bash
# Builds everything, starts the chat example server on the in-memory adapter, runs a scripted
# session with the generated C++ client against it, and stops the server.
set -euo pipefail
build=$("$(dirname "$0")/build.sh")
log=$(mktemp)
"$build/examples/chat/chat_server" --port 0 > "$log" 2>&1 &
server=$!
trap 'kill $server 2> /dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$log" && break
  sleep 0.05
done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
[ -n "$port" ] || { cat "$log"; exit 1; }
echo "chat_server: $(head -n 1 "$log")"
"$build/examples/chat/chat_client" --port "$port" --name alice --room lobby --text "hello, superline"
kill -TERM $server
wait $server
echo "chat_server: $(tail -n 1 "$log")"
