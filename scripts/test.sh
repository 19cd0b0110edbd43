#!/usr/bin/env bash
# The whole test suite: unit, integration (real binary, real sockets) and the
# benches in test mode (each runs once, so they are proven to work).
# Installs whatever the tests need that a fresh machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Redis tests start real redis-server processes (and use redis-cli).
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
fi

cargo test --all-targets "$@"

# The backend-parameterised suites again, on the Redis backend (a redis-server
# per test binary, started by tests/support/redis.rs).
SCOPEGATE_TEST_BACKEND=redis cargo test --test http_api --test sdk --test grpc "$@"
