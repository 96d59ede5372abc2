#!/usr/bin/env bash
# One case of the breaking-change corpus: superline-compat old/contract.proto new/contract.proto must
# print exactly the case's expected.txt and exit 1 when it lists a finding, 0 when it is empty.
# usage: run_case.sh <superline-compat> <case dir>
set -uo pipefail
compat=$1
case_dir=$2
expected="$case_dir/expected.txt"
actual=$("$compat" --quiet "$case_dir/old/contract.proto" "$case_dir/new/contract.proto")
status=$?
want_status=0
[ -s "$expected" ] && want_status=1
if ! diff -u "$expected" <(printf '%s' "$actual${actual:+$'\n'}"); then
  echo "run_case: $(basename "$case_dir"): the findings differ from expected.txt (- expected, + actual)"
  exit 1
fi
if [ "$status" -ne "$want_status" ]; then
  echo "run_case: $(basename "$case_dir"): exit status $status, expected $want_status"
  exit 1
fi
echo "run_case: $(basename "$case_dir"): ${actual:-no findings}"
