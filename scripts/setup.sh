#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12 packages, only when something is missing.
# Safe to run again; needs root (or sudo) only when it has to install. Extra package names given as
# arguments are installed too (scripts/fuzz.sh adds clang's).
set -euo pipefail

packages=(protobuf-compiler libprotobuf-dev libprotoc-dev libboost1.81-dev libhiredis-dev libabsl-dev
          libgtest-dev libgmock-dev libbenchmark-dev redis-server cmake ninja-build g++ ccache pkg-config "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
