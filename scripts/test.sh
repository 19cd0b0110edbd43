#!/usr/bin/env bash
# The whole test suite: unit, integration (real binary, real sockets) and the
# benches in test mode (each runs once, so they are proven to work).
# Installs whatever the tests need that a fresh machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --all-targets "$@"
