#!/usr/bin/env bash
# Compiles every ```cpp block of a Markdown file as a translation unit of its own, so the README's
# examples cannot drift from the API. usage: compile_code_blocks.sh FILE.md COMPILER FLAGS...
set -euo pipefail
doc=$1
compiler=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk -v dir="$work" '
  /^```cpp$/ { n++; file = sprintf("%s/block%d.cc", dir, n); inside = 1; next }
  /^```/     { inside = 0; next }
  inside     { print > file }
' "$doc"
blocks=("$work"/block*.cc)
[ -e "${blocks[0]}" ] || { echo "no \`\`\`cpp block in $doc"; exit 1; }
failed=0
for block in "${blocks[@]}"; do
  if "$compiler" -fsyntax-only "$@" -x c++ "$block" 2> "$block.log"; then
    echo "ok: $(basename "$block") ($(wc -l < "$block") lines)"
  else
    echo "FAILED: $(basename "$block"):"
    cat -n "$block"
    cat "$block.log"
    failed=1
  fi
done
exit "$failed"
