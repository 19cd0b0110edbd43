#!/usr/bin/env bash
# The whole test suite: unit, integration (real binary, real sockets), the
# benches in test mode (each runs once, so they are proven to work), and
# Momento's Node.js and Python SDKs against the real gateway, on both
# backends, and the deploy/ checks. Installs whatever the tests need that a
# fresh machine lacks (redis-server and chromium with apt; the SDKs, esbuild,
# playwright-core and kubernetes-validate with npm ci and pip into target/,
# cached).
set -euo pipefail
cd "$(dirname "$0")/.."
# The Secrets Manager tests run against moto (PyPI), which scripts/moto.sh
# installs: here a moto that cannot be installed is a failure, not a skip.
export SCOPEGATE_REQUIRE_MOTO=1

# The Redis tests start real redis-server processes (and use redis-cli).
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
fi

cargo test --all-targets "$@"
# The binary the SDK suites run (the integration tests built it already).
cargo build --bin scopegate

# The Kubernetes manifests, offline: kustomize builds, schemas, the
# ConfigMap's config through check-config, the Dockerfile's rules.
deploy/check.sh

# Momento's Node.js, Python and Web SDKs (the last in headless Chromium),
# each against its own gateways.
tests/sdk_node/run.sh memory
tests/sdk_python/run.sh memory
tests/browser/run.sh memory

# The SDK suites again, on the Redis backend (they start their own
# redis-server; the Rust suites ran on both backends above, `both_backends!`).
tests/sdk_node/run.sh redis
tests/sdk_python/run.sh redis
tests/browser/run.sh redis
