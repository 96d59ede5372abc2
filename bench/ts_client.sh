#!/usr/bin/env bash
# w8: the generated TypeScript client in Node receiving a room broadcast, on each wire, beside a
# hand-written ws + JSON.parse client (the peer), in alternating rounds; then the browser bundle's
# size. Medians of the rounds are printed as a table; raw lines go to bench/out/<time>-w8.jsonl.
#
#   bench/ts_client.sh [--rounds N] [--clients K] [--messages M]      (default: 5 rounds, 50, 1000)
#
# chat_server and the sender run on core 0, the receiving Node process on core 1: the receivers
# are the busiest process, so the figure is theirs (check recv_cpu_pct against sender_cpu_ms).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5 clients=50 messages=1000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    *) echo "usage: bench/ts_client.sh [--rounds N] [--clients K] [--messages M]" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build-bench "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DSUPERLINE_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench --target chat_server chat_ts
esbuild=clients/ts/node_modules/.bin/esbuild
tsconfig=build-bench/examples/chat/tsconfig.json
$esbuild bench/ts_client/receive.ts --bundle --platform=node --format=esm --target=node20 --tsconfig=$tsconfig \
  --external:ws --outfile=build-bench/bench/ts_client/receive.js --log-level=warning
ln -sfn "$PWD/clients/ts/node_modules" build-bench/bench/ts_client/node_modules

server_cpu=(); client_cpu=(); sender_cpu=()
if [[ $(nproc) -ge 2 ]]; then server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); sender_cpu=(--sender-cpu 0); fi
mkdir -p bench/out
out="bench/out/$(date -u +%Y%m%dT%H%M%SZ)-w8.jsonl"
log=$(mktemp)
pid=""
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -f "$log"' EXIT
for ((round = 1; round <= rounds; round++)); do
  echo "== round $round of $rounds" >&2
  for system in typed:json typed:protobuf raw:json; do
    "${server_cpu[@]}" build-bench/examples/chat/chat_server --port 0 --heartbeat-ms 0 >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.05; done
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
    result=$("${client_cpu[@]}" node build-bench/bench/ts_client/receive.js --port "$port" --server-pid "$pid" \
      --client "${system%%:*}" --wire "${system##*:}" --clients "$clients" --messages "$messages" "${sender_cpu[@]}" || echo '{"errors":-1}')
    kill $pid; wait $pid 2>/dev/null || true; pid=""
    echo "{\"bench\":\"w8\",\"system\":\"$system\",${result#\{}" | tee -a "$out"
  done
done
cp bench/ts_client/size.mjs build-bench/bench/ts_client/  # beside the node_modules link
size=$(cd build-bench/bench/ts_client && node size.mjs "$OLDPWD/$tsconfig")
echo "{\"bench\":\"bundle\",${size#\{}" | tee -a "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
runs = [r for r in rows if r["bench"] == "w8" and r.get("errors") == 0]
keys = ["recv_msgs_per_s", "recv_cpu_us_per_msg", "recv_cpu_pct", "server_cpu_us_per_msg", "server_cpu_pct", "sender_cpu_ms"]
print("\nw8 medians (%d rounds): receivers in one Node process; a closed-loop sender, window 16, 1 KB" % max(1, len(runs) // 3))
print("%-16s" % "system" + "".join("%24s" % k for k in keys))
med = {}
for system in ["typed:json", "typed:protobuf", "raw:json"]:
    mine = [r for r in runs if r["system"] == system]
    if not mine:
        continue
    med[system] = {k: statistics.median(r[k] for r in mine) for k in keys}
    print("%-16s" % system + "".join("%24s" % med[system][k] for k in keys))
if "raw:json" in med:
    for system in ["typed:json", "typed:protobuf"]:
        if system in med:
            print("%s / raw:json: msgs/s %.2fx, CPU per message %.2fx" % (system,
                  med[system]["recv_msgs_per_s"] / med["raw:json"]["recv_msgs_per_s"],
                  med[system]["recv_cpu_us_per_msg"] / med["raw:json"]["recv_cpu_us_per_msg"]))
for r in rows:
    if r["bench"] == "bundle":
        print("bundle (ChatUserClient + ChatAgentClient, minified): %d B, gzip %d B; without @bufbuild/protobuf %d B, gzip %d B"
              % (r["bundle_min_bytes"], r["bundle_gzip_bytes"], r["without_protobuf_es_min_bytes"], r["without_protobuf_es_gzip_bytes"]))
PY
