#!/usr/bin/env bash
# Configures (once) and builds the project into build/ (or build-<sanitizer>/ when SUPERLINE_SANITIZE
# is "address" or "thread"), installing missing dependencies first. Prints the build directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" >&2

sanitize=${SUPERLINE_SANITIZE:-}
build="$root/build${sanitize:+-$sanitize}"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" -DSUPERLINE_SANITIZE="$sanitize" >&2
fi
cmake --build "$build" --parallel "$(nproc)" >&2
echo "$build"
