#!/usr/bin/env bash
# Builds everything, starts the chat example server on the in-memory adapter with the browser page
# (examples/chat/web) on the same port, runs a scripted session with the generated C++ client
# against it and prints the page's URL. From a terminal the server then keeps running until Ctrl-C,
# so the page can be opened in a browser; otherwise it is stopped at once.
set -euo pipefail
build=$("$(dirname "$0")/build.sh")
log=$(mktemp)
"$build/examples/chat/chat_server" --port 0 --static "$build/examples/chat/web" > "$log" 2>&1 &
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
echo
echo "The chat page: http://127.0.0.1:$port/?name=you (add &wire=protobuf for the binary wire;"
echo "open it in two tabs with two names)."
if [ -t 0 ]; then
  echo "Serving until Ctrl-C."
  trap 'kill -TERM $server 2> /dev/null || true' INT
  wait $server || true
else
  kill -TERM $server
  wait $server
fi
echo "chat_server: $(tail -n 1 "$log")"
