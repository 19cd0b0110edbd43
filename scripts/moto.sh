#!/usr/bin/env bash
# Installs moto (a local AWS: Secrets Manager for tests/aws_sm.rs) into
# target/aws-sm/venv, only when tests/aws_sm/requirements.txt changed
# (sha256 stamp), and prints the path of its moto_server.
#
#   scripts/moto.sh            # -> .../target/aws-sm/venv/bin/moto_server
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
REQUIREMENTS="$REPO/tests/aws_sm/requirements.txt"
VENV="$REPO/target/aws-sm/venv"
STAMP="$VENV/.requirements.sha256"

want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ ! -x "$VENV/bin/moto_server" || "$want" != "$have" ]]; then
  echo "moto: installing $REQUIREMENTS into $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$REQUIREMENTS" >&2
  echo "$want" >"$STAMP"
fi
echo "$VENV/bin/moto_server"
