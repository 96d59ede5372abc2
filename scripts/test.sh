#!/usr/bin/env bash
# Builds everything and runs the whole test suite with ctest. Extra arguments go to ctest
# (e.g. -L unit, -R Chat, --repeat until-fail:3). SUPERLINE_SANITIZE=address|thread selects a
# sanitizer build in its own directory.
set -euo pipefail
build=$("$(dirname "$0")/build.sh")
cd "$build"
ctest --output-on-failure --parallel 2 "$@"
