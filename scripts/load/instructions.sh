#!/usr/bin/env bash
# User-space instructions per request of the gateway and of the bare
# responders, under valgrind's callgrind: a count this VM's noise does not
# move (repeated runs agree within 0.2 %), for A/B work on the hot path. The
# kernel's share is not counted (see docs/PERFORMANCE.md).
#
#   scripts/load/instructions.sh            # HTTP GET hit and gRPC Get, both servers
#   N=20000 BIN=path/to/scopegate scripts/load/instructions.sh
#
# Each server warms up on 2,000 requests, its counters are zeroed, it serves N
# more (h2load), and the counters are dumped. Loopback only; every wait is
# bounded. Needs valgrind and h2load (nghttp2-client).
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-20000}
BIN=${BIN:-target/release/scopegate}
TOOLS=${TOOLS:-target/release/examples/bench_tools}
for tool in valgrind callgrind_control h2load curl; do
  command -v "$tool" > /dev/null || { echo "$tool is needed" >&2; exit 1; }
done
[ -x "$BIN" ] && [ -x "$TOOLS" ] || cargo build --release --bin scopegate --example bench_tools

work=$(mktemp -d)
vpid=
cleanup() {
  [ -z "$vpid" ] || kill -- "-$vpid" 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# shellcheck source=common.sh
source scripts/load/common.sh
PORT=$(port)
bench_setup "$work" "127.0.0.1:$PORT" "127.0.0.1:$(port)"
printf '\x00\x00\x00\x00\x05\x0a\x03hot' > "$work/get.grpc"
TOKEN=$("$BIN" token mint --config "$work/config.toml" --disposable --ttl 1h \
  --scope '{"permissions":[{"role":"readwrite","cache":"bench"}]}')
JWT=$(python3 -c 'import base64,json,sys; print(json.loads(base64.urlsafe_b64decode(sys.argv[1]))["api_key"])' "$TOKEN")

# load PROTOCOL URL N: h2load's requests, HTTP/1.1 GET or gRPC Get.
load() {
  if [ "$1" = http ]; then
    timeout 600 h2load --h1 -n "$3" -c 32 -H "authorization: $JWT" "$2/cache/bench?key=hot"
  else
    timeout 600 h2load -n "$3" -c 4 -m 16 -d "$work/get.grpc" -H 'content-type: application/grpc' \
      -H 'te: trailers' -H "authorization: $JWT" -H 'cache: bench' "$2/cache_client.Scs/Get"
  fi
}

# count NAME PROTOCOL PORT CMD...: instructions per request of CMD serving PROTOCOL on PORT.
runs=0
count() {
  local name=$1 protocol=$2 port=$3 out total run
  shift 3
  runs=$((runs + 1))
  run=$runs
  setsid valgrind --tool=callgrind --callgrind-out-file="$work/cg.$run.%p" "$@" > "$work/$run.log" 2>&1 &
  vpid=$!
  local h2=()
  [ "$protocol" = http ] || h2=(--http2-prior-knowledge)
  for _ in $(seq 200); do
    curl -s "${h2[@]}" -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.3
  done
  curl -sf -o /dev/null -X PUT -H "Authorization: $JWT" --data-binary "@$work/value" \
    "http://127.0.0.1:$port/cache/bench?key=hot&ttl_seconds=3600" || true
  load "$protocol" "http://127.0.0.1:$port" 2000 > /dev/null
  callgrind_control -z "$vpid" > /dev/null 2>&1
  out=$(load "$protocol" "http://127.0.0.1:$port" "$N")
  callgrind_control -d "$vpid" > /dev/null 2>&1
  grep -q "succeeded, 0 failed" <<< "$out" || { echo "$name: not every request succeeded" >&2; exit 1; }
  # The dump after zeroing holds the load's instructions alone.
  total=$(cat "$work"/cg."$run".*.1 | awk '/^(summary|totals):/ {print $2}' | sort -n | tail -1)
  kill -- "-$vpid" 2> /dev/null || true
  wait "$vpid" 2> /dev/null || true
  vpid=
  printf '%-28s %8d instructions per request\n' "$name" $((total / N))
}

base=$(port)
count "bare responder (HTTP)" http "$base" "$TOOLS" baseline "127.0.0.1:$base" "$work/value"
count "gateway (HTTP GET hit)" http "$PORT" "$BIN" serve --config "$work/config.toml"
base=$(port)
count "minimal server (gRPC)" grpc "$base" "$TOOLS" grpc-baseline "127.0.0.1:$base" "$work/value"
count "gateway (gRPC Get hit)" grpc "$PORT" "$BIN" serve --config "$work/config.toml"
