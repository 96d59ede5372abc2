#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 under ASan+UBSan (in build-fuzz/) and runs each one.
#
#   scripts/fuzz.sh              every target for 10 s (as ctest -L fuzz): the short run CI does
#   scripts/fuzz.sh 600          every target for 10 minutes
#   scripts/fuzz.sh 600 ws_codec one target
#
# Targets: ws_codec, json_frame, binary_frame, handshake, channel_message (fuzz/*.cc). A crash, leak
# or UB report fails the run and leaves the input in build-fuzz/ (crash-*, leak-*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
only=${2:-}

scripts/setup.sh clang-14 libclang-rt-14-dev
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-fuzz "${generator[@]}" "${launcher[@]}" -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUPERLINE_SANITIZE=address \
  -DSUPERLINE_FUZZ=ON -DSUPERLINE_BUILD_TESTS=OFF -DSUPERLINE_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build build-fuzz --target fuzzers
cd build-fuzz
if [[ -n $only ]]; then
  ctest --output-on-failure -R "^fuzz\.$only\$"
else
  ctest --output-on-failure -L fuzz
fi
