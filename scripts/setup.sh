#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12 packages, only when something is missing,
# and the TypeScript client's npm packages from its lockfile.
# Safe to run again; needs root (or sudo) only when it has to install. Extra package names given as
# arguments are installed too (scripts/fuzz.sh adds clang's).
set -euo pipefail

packages=(protobuf-compiler libprotobuf-dev libprotoc-dev libboost1.81-dev libhiredis-dev libabsl-dev
          libgtest-dev libgmock-dev libbenchmark-dev libssl-dev redis-server cmake ninja-build g++ ccache
          pkg-config prometheus "$@")
# libssl-dev: OpenSSL's SHA-256 for the contract id (codegen). prometheus: promtool checks /metrics,
# and a real server scrapes it in a test.

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm by command, not by package: a machine may have them from another package of
# nodejs (one that bundles npm, which Debian's npm package would conflict with).
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)
# Debian's Chromium, for the browser tests (playwright-core drives it; it downloads no browser).
command -v chromium > /dev/null || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The TypeScript client's toolchain (clients/ts: typescript, protoc-gen-es, esbuild, ...), exactly
# as its committed lockfile pins it; again only when the lockfile changed since the last install.
ts="$(cd "$(dirname "$0")/.." && pwd)/clients/ts"
if [ ! -f "$ts/node_modules/.package-lock.json" ] || [ "$ts/package-lock.json" -nt "$ts/node_modules/.package-lock.json" ]; then
  echo "setup: npm ci in clients/ts"
  (cd "$ts" && npm ci --no-audit --no-fund --loglevel=error)
fi
