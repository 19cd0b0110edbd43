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

REDIS_PID=""
REDIS_DIR=""
cleanup() {
  if [[ -n "$REDIS_PID" ]] && kill -0 "$REDIS_PID" 2>/dev/null; then
    kill "$REDIS_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$REDIS_PID" 2>/dev/null || true
  fi
  [[ -n "$REDIS_DIR" ]] && rm -rf "$REDIS_DIR"
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
  command -v redis-server >/dev/null || {
    echo "redis-server is required for the redis backend (scripts/test.sh installs it)" >&2
    exit 1
  }
  REDIS_PORT="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  REDIS_DIR="$(mktemp -d)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" &
  REDIS_PID=$!
  ok=""
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then ok=1; break; fi
    sleep 0.05
  done
  [[ -n "$ok" ]] || { echo "redis-server did not start on $REDIS_PORT" >&2; exit 1; }
  export SCOPEGATE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
fi

# --- the suite -------------------------------------------------------------
cd "$HERE"
# The whole run is bounded too (per-test timeouts bound each test already).
timeout --signal=TERM --kill-after=10 170 \
  "$VENV/bin/python" -m pytest -q --timeout="$PER_TEST_TIMEOUT" "$@"
