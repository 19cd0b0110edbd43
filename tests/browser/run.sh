#!/usr/bin/env bash
# Momento's Web SDK (@gomomento/sdk-web, pinned in package-lock.json) in
# Debian's chromium, driven by playwright-core, against scopegate: gRPC-Web,
# CORS, /vend with basic auth, AuthClient minting, and the /demo page of
# `serve --dev`.
#
#   tests/browser/run.sh memory|redis
#
# Installs the packages with `npm ci` into target/browser/ (only when the lock
# changed), Debian's chromium with apt when /usr/bin/chromium is missing,
# bundles src/page.js with esbuild into target/browser/dist/, starts a
# redis-server for `redis`, and runs browser.test.js (which starts the
# gateways, the static page server and chromium). Everything it starts is
# stopped on every exit path. Expects target/debug/scopegate (override with
# SCOPEGATE_BIN).
set -euo pipefail

backend="${1:-}"
case "$backend" in
  memory | redis) ;;
  *)
    echo "usage: $0 memory|redis" >&2
    exit 2
    ;;
esac

started=$SECONDS
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export SCOPEGATE_BIN="${SCOPEGATE_BIN:-$repo/target/debug/scopegate}"
if [[ ! -x "$SCOPEGATE_BIN" ]]; then
  echo "scopegate binary not found at $SCOPEGATE_BIN (cargo build --bin scopegate, or set SCOPEGATE_BIN)" >&2
  exit 1
fi
command -v node >/dev/null || { echo "node (v20 or newer) is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }

# --- install: npm ci into target/browser, skipped while the lock is unchanged
cache_dir="$repo/target/browser"
mkdir -p "$cache_dir"
lock_hash="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"
stamp="$cache_dir/.installed-$lock_hash"
if [[ ! -f "$stamp" || ! -d "$cache_dir/node_modules/@gomomento/sdk-web" ]]; then
  echo "installing the Web SDK, esbuild and playwright-core (npm ci) into $cache_dir"
  rm -f "$cache_dir"/.installed-*
  cp "$here/package.json" "$here/package-lock.json" "$cache_dir/"
  (cd "$cache_dir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
export NODE_PATH="$cache_dir/node_modules"

# --- the browser: Debian's chromium (playwright's own builds are not fetched)
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  if [[ "$CHROMIUM" != /usr/bin/chromium ]]; then
    echo "no browser at CHROMIUM=$CHROMIUM" >&2
    exit 1
  fi
  echo "installing Debian's chromium (apt-get)"
  timeout 120 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq chromium >/dev/null
fi

# --- the page: src/page.js and the Web SDK in one browser bundle
dist="$cache_dir/dist"
rm -rf "$dist"
mkdir -p "$dist"
cp "$here/src/index.html" "$dist/"
timeout 60 "$cache_dir/node_modules/.bin/esbuild" "$here/src/page.js" \
  --bundle --format=iife --platform=browser --target=chrome120 \
  --outfile="$dist/page.js" --log-level=warning
export SCOPEGATE_BROWSER_DIST="$dist"

# --- the suite, bounded as a whole and per test; everything it starts
# (and Redis, for the redis backend) is stopped on every exit path
# shellcheck source=../support/suite.sh
source "$here/../support/suite.sh"
cd "$here"
status=0
run_bounded_suite "browser suite" 150 node --test --test-concurrency=1 --test-timeout=120000 ./browser.test.js || status=$?
echo "browser suite ($backend): exit $status after $((SECONDS - started)) s"
exit "$status"
