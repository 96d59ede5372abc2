#!/usr/bin/env bash
# Fails if any process still carries the marker the test run gave every test that starts processes
# (SUPERLINE_TEST_RUN=<build dir>, inherited by chat_server, redis-server and anything else they
# start): whatever a test started must be stopped on success, failure and interruption alike.
# usage: no_process_left.sh <marker value>
set -u
marker="SUPERLINE_TEST_RUN=$1"
left=0
for environ in /proc/[0-9]*/environ; do
  pid=${environ#/proc/}
  pid=${pid%/environ}
  [ "$pid" = "$$" ] && continue
  if tr '\0' '\n' < "$environ" 2> /dev/null | grep -qxF "$marker"; then
    echo "left running by the tests: pid $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null)"
    left=1
  fi
done
[ "$left" = 0 ] && echo "no process of the test run is left"
exit "$left"
