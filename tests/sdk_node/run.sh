#!/usr/bin/env bash
# Momento's Node.js SDK (@gomomento/sdk, pinned in package-lock.json) against
# scopegate, with Node's built-in test runner.
#
#   tests/sdk_node/run.sh memory|redis
#
# Installs the SDK with `npm ci` into target/sdk_node/ (only when
# package-lock.json changed), starts a redis-server for `redis`, runs every
# *.test.js here (each file starts its own gateway), and cleans up on exit.
# Expects target/debug/scopegate (override with SCOPEGATE_BIN).
set -euo pipefail

backend="${1:-}"
case "$backend" in
  memory | redis) ;;
  *)
    echo "usage: $0 memory|redis" >&2
    exit 2
    ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export SCOPEGATE_BIN="${SCOPEGATE_BIN:-$repo/target/debug/scopegate}"
if [[ ! -x "$SCOPEGATE_BIN" ]]; then
  echo "scopegate binary not found at $SCOPEGATE_BIN (cargo build --bin scopegate, or set SCOPEGATE_BIN)" >&2
  exit 1
fi
command -v node >/dev/null || { echo "node (v20 or newer) is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }

# --- install: npm ci into target/sdk_node, skipped while the lock is unchanged
cache_dir="$repo/target/sdk_node"
mkdir -p "$cache_dir"
lock_hash="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"
stamp="$cache_dir/.installed-$lock_hash"
if [[ ! -f "$stamp" || ! -d "$cache_dir/node_modules/@gomomento/sdk" ]]; then
  echo "installing the Node SDK (npm ci) into $cache_dir"
  rm -f "$cache_dir"/.installed-*
  cp "$here/package.json" "$here/package-lock.json" "$cache_dir/"
  (cd "$cache_dir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
export NODE_PATH="$cache_dir/node_modules"

# --- the suite, bounded as a whole and per test; everything it starts
# (and Redis, for the redis backend) is stopped on every exit path
# shellcheck source=../support/suite.sh
source "$here/../support/suite.sh"
cd "$here"
status=0
run_bounded_suite "Node SDK suite" 170 node --test --test-concurrency=2 --test-timeout=30000 ./*.test.js || status=$?
exit "$status"
