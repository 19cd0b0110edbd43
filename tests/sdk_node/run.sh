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
redis_pid=""
redis_dir=""
test_pid=""
cleanup() {
  # `timeout` runs the suite in its own process group and passes a TERM on
  # to all of it: test files, and the gateways they started.
  if [[ -n "$test_pid" ]] && kill -0 "$test_pid" 2>/dev/null; then
    kill -TERM "$test_pid" 2>/dev/null || true
    wait "$test_pid" 2>/dev/null || true
  fi
  if [[ -n "$redis_pid" ]]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  if [[ -n "$redis_dir" ]]; then rm -rf "$redis_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

export SCOPEGATE_TEST_BACKEND="$backend"
if [[ "$backend" == redis ]]; then
  command -v redis-server >/dev/null || {
    echo "redis-server is required for the redis backend (apt-get install redis-server)" >&2
    exit 1
  }
  redis_dir="$(mktemp -d)"
  port="$(free_port)"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$redis_dir" --logfile "$redis_dir/redis.log" &
  redis_pid=$!
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    if ! kill -0 "$redis_pid" 2>/dev/null; then
      echo "redis-server exited: $(cat "$redis_dir/redis.log")" >&2
      exit 1
    fi
    sleep 0.1
  done
  export SCOPEGATE_TEST_REDIS_URL="redis://127.0.0.1:$port"
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
