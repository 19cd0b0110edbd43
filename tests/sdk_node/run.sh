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

# --- processes we start, stopped on every exit path
# shellcheck source=../support/redis.sh
source "$here/../support/redis.sh"
test_pid=""
cleanup() {
  # `timeout` runs the suite in its own process group and passes a TERM on
  # to all of it: test files, and the gateways they started.
  if [[ -n "$test_pid" ]] && kill -0 "$test_pid" 2>/dev/null; then
    kill -TERM "$test_pid" 2>/dev/null || true
    wait "$test_pid" 2>/dev/null || true
  fi
  stop_test_redis
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export SCOPEGATE_TEST_BACKEND="$backend"
if [[ "$backend" == redis ]]; then
  start_test_redis
fi

# --- the suite: one gateway per file, files two at a time, every test bounded
cd "$here"
status=0
timeout --kill-after=10 170 node --test --test-concurrency=2 --test-timeout=30000 ./*.test.js &
test_pid=$!
wait "$test_pid" || status=$?
test_pid=""
if [[ $status -eq 124 ]]; then echo "the Node SDK suite did not finish within 170 s" >&2; fi
exit "$status"
