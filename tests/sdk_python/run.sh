#!/usr/bin/env bash
# Momento's Python SDK (momento==1.29.1) against scopegate.
#
#   tests/sdk_python/run.sh memory|redis [extra pytest args]
#
# Creates target/sdk_python/venv with `python3 -m venv` and installs
# requirements.txt only when it changed (sha256 stamp). Expects
# target/debug/scopegate (SCOPEGATE_BIN overrides). For `redis` it starts its
# own redis-server on a free port and stops it on every exit path.
set -euo pipefail

BACKEND="${1:-}"
case "$BACKEND" in
  memory | redis) shift ;;
  *) echo "usage: $0 memory|redis [pytest args]" >&2; exit 2 ;;
esac

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$REPO/target/sdk_python/venv"
STAMP="$VENV/.requirements.sha256"
export SCOPEGATE_BIN="${SCOPEGATE_BIN:-$REPO/target/debug/scopegate}"
export SCOPEGATE_TEST_BACKEND="$BACKEND"
export PYTHONDONTWRITEBYTECODE=1  # keep the source tree clean
PER_TEST_TIMEOUT="${PER_TEST_TIMEOUT:-30}"

if [[ ! -x "$SCOPEGATE_BIN" ]]; then
  echo "scopegate binary not found: $SCOPEGATE_BIN (run: cargo build --bin scopegate)" >&2
  exit 2
fi

# shellcheck source=../support/redis.sh
source "$HERE/../support/redis.sh"
cleanup() {
  stop_test_redis
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the venv, reinstalled only when requirements.txt changes --------------
want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ ! -x "$VENV/bin/python" || "$want" != "$have" ]]; then
  echo "sdk_python: installing requirements into $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$HERE/requirements.txt"
  echo "$want" >"$STAMP"
fi

# --- redis, when asked -----------------------------------------------------
if [[ "$BACKEND" == redis ]]; then
  start_test_redis
  export SCOPEGATE_REDIS_URL="$SCOPEGATE_TEST_REDIS_URL"
fi

# --- the suite -------------------------------------------------------------
cd "$HERE"
# The whole run is bounded too (per-test timeouts bound each test already).
timeout --signal=TERM --kill-after=10 170 \
  "$VENV/bin/python" -m pytest -q --timeout="$PER_TEST_TIMEOUT" "$@"
