#!/usr/bin/env bash
# The package test: install superline from a build tree, move the installed tree elsewhere (it must
# not remember where it was installed, nor this machine's library paths), build an out-of-tree
# consumer with find_package(superline) and superline_generate() on C++17, run it; then edit the
# file its contract imports and check the contract is regenerated; add a method to the contract and
# check the rebuild fails naming the missing handler, implement it, and check the rebuild passes;
# write the contract's baseline (superline_check_compat) and check a renamed field fails the build.
# usage: run.sh <superline build dir> <scratch dir>
set -euo pipefail
build=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/installed" > "$work/install.log"
cp -r "$work/installed" "$work/prefix"
rm -rf "$work/installed"
if grep -rn "$build\|$work/installed\|libhiredis\.so" "$work/prefix/lib" --include='*.cmake'; then
  echo "the installed package names a path of the machine it was built on"
  exit 1
fi
cp -r "$here/project" "$work/src"

generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$work/src" -B "$work/build" "${generator[@]}" "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  > "$work/configure.log"
# The consumer asks for C++17; superline's targets require C++20 of what links them.
grep -q 'std=\(gnu\|c\)++20' "$work/build/compile_commands.json" || {
  echo "the consumer is not compiled as C++20 although it links superline"
  exit 1
}

echo "== build the consumer against the installed package"
cmake --build "$work/build" > "$work/build1.log" 2>&1 || { cat "$work/build1.log"; exit 1; }
out=$("$work/build/consumer")
[ "$out" = "Hello, superline" ] || { echo "unexpected output: $out"; exit 1; }
echo "ok: $out"

echo "== write the contract's baseline, as a release would: the build then checks against it"
cmake --build "$work/build" --target hello_compat_baseline > "$work/baseline.log" 2>&1 || { cat "$work/baseline.log"; exit 1; }
[ -s "$work/src/hello.baseline.binpb" ] || { echo "hello_compat_baseline wrote no baseline"; exit 1; }
cmake "$work/build" > "$work/configure2.log"
cmake --build "$work/build" > "$work/build1a.log" 2>&1 || { cat "$work/build1a.log"; exit 1; }
grep -q "checking hello_compat against hello.baseline.binpb" "$work/build1a.log" || {
  echo "the build did not check the contract against its baseline:"
  cat "$work/build1a.log"
  exit 1
}
echo "ok: baseline written, the unchanged contract passes the check"

echo "== edit only the file the contract imports: the contract's generated code is made again"
generated="$work/build/superline_gen/hello.superline.h"
before=$(date -r "$generated" +%s%N)
sed -i 's|^// (the package test edits this file.*|// edited by the package test|' "$work/src/hello_types.proto"
cmake --build "$work/build" > "$work/build1b.log" 2>&1 || { cat "$work/build1b.log"; exit 1; }
after=$(date -r "$generated" +%s%N)
[ "$before" != "$after" ] || { echo "hello.superline.h was not regenerated after hello_types.proto changed"; exit 1; }
echo "ok: hello.superline.h regenerated"

echo "== add a method to the contract: the build must fail naming the missing handler"
sed -i 's|  // (the package test adds a method here)|  rpc Wave(Name) returns (Greeting);|' "$work/src/hello.proto"
if cmake --build "$work/build" > "$work/build2.log" 2>&1; then
  echo "the build passed although Wave has no handler"
  exit 1
fi
grep -q "Everyone::Handlers::wave\|Shared::Handlers::wave" "$work/build2.log" || {
  echo "the failure does not name the missing handler:"
  cat "$work/build2.log"
  exit 1
}
echo "ok: the compiler names the missing handler 'wave'"

echo "== implement it: the build passes"
cat > "$work/src/wave.inc" <<'INC'
superline::Reply<hello::Greeting> wave(superline::Call<hello::Greeting, hello::Hello::Shared>&, const hello::Name&) override {
  return hello::Greeting();
}
INC
cmake --build "$work/build" > "$work/build3.log" 2>&1 || { cat "$work/build3.log"; exit 1; }
"$work/build/consumer" > /dev/null
echo "ok: regenerated, implemented, built and ran"

echo "== rename a field the last release's clients send: the build fails naming the change"
sed -i 's|message Name { string name = 1; }|message Name { string full_name = 1; }|' "$work/src/hello_types.proto"
sed -i 's|set_name|set_full_name|g; s|\.name()|.full_name()|g' "$work/src/main.cc" "$work/src/wave.inc"
if cmake --build "$work/build" > "$work/build4.log" 2>&1; then
  echo "the build passed although Name.name was renamed (JSON clients of the last release send \"name\")"
  exit 1
fi
grep -q 'FIELD_RENAMED \[json, source\]: field "name" (1) of hello.Name was renamed to "full_name"' "$work/build4.log" || {
  echo "the failure does not name the renamed field:"
  cat "$work/build4.log"
  exit 1
}
echo "ok: superline_check_compat fails the build with FIELD_RENAMED"
