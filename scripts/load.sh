#!/usr/bin/env bash
# Load test of the gateway with oha, side by side with a minimal hyper server
# on the same stack (examples/bench_tools.rs `baseline`) answering the same GET
# with the same bytes. Every figure is reported as a ratio to that baseline,
# measured in the same run (the machine is shared and noisy; absolute numbers
# are not comparable between runs).
#
# Bounded: every scenario runs DURATION seconds at CONCURRENCY connections,
# against 127.0.0.1 only. oha is installed with cargo when missing.
#
#   scripts/load.sh                     # DURATION=8 CONCURRENCY=16 ROUNDS=3 RATE=20000
#
# Throughput is measured at saturation. Latency is also measured at a fixed
# RATE below saturation: at saturation on 2 cores the client and the servers
# compete for the CPU and p99 measures the scheduler more than the server.
#   DURATION=20 CONCURRENCY=64 scripts/load.sh
#
# Writes the table to stdout and to target/load-report.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-20000}
CONCURRENCY=${CONCURRENCY:-16}
PORT=${PORT:-18480}
COLD_URLS=${COLD_URLS:-20000}

command -v oha >/dev/null || cargo install oha --locked
cargo build --release --bin scopegate --example bench_tools
BIN=target/release/scopegate
TOOLS=target/release/examples/bench_tools

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$BIN" keygen > "$work/k1.secret"
cat > "$work/config.toml" <<EOF
[server]
listen = "127.0.0.1:$PORT"
[admin]
listen = "127.0.0.1:$((PORT + 10))"
[[keys]]
kid = "k1"
alg = "HS256"
secret_file = "k1.secret"
signing = true
[[caches]]
name = "bench"
EOF
head -c 100 /dev/zero | tr '\0' 'v' > "$work/value"

# The gateway; a second one whose verification cache holds one entry, so that
# every request with a new credential is verified cold; and the baseline.
"$BIN" serve --config "$work/config.toml" > "$work/gate.log" 2>&1 & pids+=($!)
SCOPEGATE_SERVER_LISTEN="127.0.0.1:$((PORT + 1))" SCOPEGATE_ADMIN_LISTEN="127.0.0.1:$((PORT + 11))" \
  SCOPEGATE_AUTH_VERIFICATION_CACHE_ENTRIES=1 \
  "$BIN" serve --config "$work/config.toml" > "$work/cold.log" 2>&1 & pids+=($!)
"$TOOLS" baseline "127.0.0.1:$((PORT + 2))" "$work/value" > "$work/baseline.log" 2>&1 & pids+=($!)
"$TOOLS" grpc-baseline "127.0.0.1:$((PORT + 3))" "$work/value" > "$work/grpc-baseline.log" 2>&1 & pids+=($!)

for admin in $((PORT + 10)) $((PORT + 11)); do
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$admin/readyz" > /dev/null && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$admin/readyz" > /dev/null || { echo "gateway on admin :$admin not ready" >&2; exit 1; }
done

SCOPE='{"permissions":[{"role":"readwrite","cache":"bench"}]}'
TOKEN=$("$BIN" token mint --config "$work/config.toml" --disposable --ttl 1h --scope "$SCOPE")
# A credential with a valid shape but a bad signature: the full 401 path.
BAD=$(python3 -c 'import base64,json,sys; j=json.loads(base64.urlsafe_b64decode(sys.argv[1]))["api_key"]; print(j[:-4] + ("AAAA" if j[-4:] != "AAAA" else "BBBB"))' "$TOKEN")
GATE="http://127.0.0.1:$PORT"
curl -sf -X PUT -H "Authorization: $TOKEN" --data-binary "@$work/value" "$GATE/cache/bench?key=hot&ttl_seconds=3600"
"$TOOLS" urls "$work/config.toml" "http://127.0.0.1:$((PORT + 1))/cache/bench?key=hot" "$COLD_URLS" "$SCOPE" > "$work/urls.txt"
curl -sf -X PUT -H "Authorization: $TOKEN" --data-binary "@$work/value" "http://127.0.0.1:$((PORT + 1))/cache/bench?key=hot&ttl_seconds=3600"

run() {
  local name=$1
  shift
  echo "  $name ..." >&2
  oha -z "${DURATION}s" -c "$CONCURRENCY" --no-tui --output-format json "$@" > "$work/$name.json"
}

echo "load: ${DURATION}s per scenario, $CONCURRENCY connections, $ROUNDS rounds" >&2
# The baseline and the GET hit alternate, round after round, so drift on a
# shared machine hits both alike; the report takes the median of the rounds.
for round in $(seq "$ROUNDS"); do
  run "baseline_$round" "http://127.0.0.1:$((PORT + 2))/cache/bench?key=hot"
  run "get_hit_$round" -H "Authorization: $TOKEN" "$GATE/cache/bench?key=hot"
  run "baseline_rate_$round" -q "$RATE" "http://127.0.0.1:$((PORT + 2))/cache/bench?key=hot"
  run "get_hit_rate_$round" -q "$RATE" -H "Authorization: $TOKEN" "$GATE/cache/bench?key=hot"
done
run put -m PUT -d "$(cat "$work/value")" -H "Authorization: $TOKEN" "$GATE/cache/bench?key=put&ttl_seconds=3600"
run cold_verify --urls-from-file "$work/urls.txt"
run unauthorized -H "Authorization: $BAD" "$GATE/cache/bench?key=hot"

# gRPC (cache_client.Scs over one HTTP/2 channel, as the SDKs connect), against
# a minimal server on the same stack answering the same encoded GetResponse.
JWT=$(python3 -c 'import base64,json,sys; print(json.loads(base64.urlsafe_b64decode(sys.argv[1]))["api_key"])' "$TOKEN")
grpc() {
  local name=$1
  shift
  echo "  $name ..." >&2
  "$TOOLS" grpc-load "$@" "$DURATION" "$CONCURRENCY" > "$work/$name.json"
}
for round in $(seq "$ROUNDS"); do
  grpc "grpc_baseline_$round" "http://127.0.0.1:$((PORT + 3))" "$JWT" get
  grpc "grpc_get_$round" "$GATE" "$JWT" get
done
grpc grpc_set "$GATE" "$JWT" set

mkdir -p target
python3 - "$work" "$DURATION" "$CONCURRENCY" "$ROUNDS" "$RATE" <<'PY' | tee target/load-report.md
import json, statistics, sys
work, duration, concurrency, rounds, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def load(name):
    with open(f"{work}/{name}.json") as f:
        return json.load(f)
def rps(d): return d["summary"]["requestsPerSec"]
def p(d, q): return d["latencyPercentiles"][q] * 1000
def codes(d): return {int(k): v for k, v in d.get("statusCodeDistribution", {}).items()}
def median(runs, f): return statistics.median(f(d) for d in runs)
base = [load(f"baseline_{r}") for r in range(1, rounds + 1)]
hits = [load(f"get_hit_{r}") for r in range(1, rounds + 1)]
base_rps, base_p50, base_p99 = median(base, rps), median(base, lambda d: p(d, "p50")), median(base, lambda d: p(d, "p99"))
rows = [
    ("baseline: minimal hyper server, same bytes", base, 200),
    ("authorized GET hit", hits, 200),
    ("authorized PUT", [load("put")], 204),
    ("GET, fresh credential every request (cold verify)", [load("cold_verify")], 200),
    ("GET with a bad signature (401 path)", [load("unauthorized")], 401),
]
print(f"oha, {duration}s per run, {concurrency} connections, loopback; baseline and GET hit: median of {rounds} alternating rounds")
print()
print("| scenario | req/s | vs baseline | p50 ms | p99 ms | p99 vs baseline |")
print("|---|---|---|---|---|---|")
ok = True
for name, runs, expected in rows:
    for d in runs:
        if set(codes(d)) != {expected}:
            ok = False
            print(f"unexpected statuses in {name}: {codes(d)}", file=sys.stderr)
    r, p50, p99 = median(runs, rps), median(runs, lambda d: p(d, "p50")), median(runs, lambda d: p(d, "p99"))
    print(f"| {name} | {r:,.0f} | {r / base_rps:.2f} | {p50:.3f} | {p99:.3f} | {p99 / base_p99:.2f} |")
paired = statistics.median(rps(h) / rps(b) for h, b in zip(hits, base))
print()
print(f"GET hit / baseline throughput, median of the per-round ratios (each pair adjacent in time): {paired:.2f}")
print("rounds (req/s, p99 ms): baseline " + ", ".join(f"{rps(d):,.0f} / {p(d, 'p99'):.2f}" for d in base)
      + "; GET hit " + ", ".join(f"{rps(d):,.0f} / {p(d, 'p99'):.2f}" for d in hits))
base_rate = [load(f"baseline_rate_{r}") for r in range(1, rounds + 1)]
hits_rate = [load(f"get_hit_rate_{r}") for r in range(1, rounds + 1)]
print()
print(f"Latency at a fixed {rate} req/s (below saturation), median of {rounds} alternating rounds:")
print()
print("| scenario | p50 ms | p90 ms | p99 ms | p99 vs baseline |")
print("|---|---|---|---|---|")
rate_p99 = median(base_rate, lambda d: p(d, "p99"))
for name, runs in [("baseline", base_rate), ("authorized GET hit", hits_rate)]:
    for d in runs:
        if set(codes(d)) != {200}:
            ok = False
    p99 = median(runs, lambda d: p(d, "p99"))
    print(f"| {name} | {median(runs, lambda d: p(d, 'p50')):.3f} | {median(runs, lambda d: p(d, 'p90')):.3f} | {p99:.3f} | {p99 / rate_p99:.2f} |")
grpc_base = [load(f"grpc_baseline_{r}") for r in range(1, rounds + 1)]
grpc_get = [load(f"grpc_get_{r}") for r in range(1, rounds + 1)]
grpc_set = [load("grpc_set")]
g_rps = statistics.median(d["rps"] for d in grpc_base)
g_p99 = statistics.median(d["p99"] for d in grpc_base)
print()
print(f"gRPC (tonic client, one HTTP/2 channel, {concurrency} concurrent calls), median of {rounds} alternating rounds:")
print()
print("| scenario | calls/s | vs baseline | p50 ms | p99 ms | p99 vs baseline |")
print("|---|---|---|---|---|---|")
for name, runs in [("baseline: minimal gRPC server, same bytes", grpc_base), ("authorized Get hit", grpc_get), ("authorized Set", grpc_set)]:
    if any(d["errors"] for d in runs):
        ok = False
        print(f"errors in {name}: {[d['errors'] for d in runs]}", file=sys.stderr)
    r = statistics.median(d["rps"] for d in runs)
    p50 = statistics.median(d["p50"] for d in runs)
    p99 = statistics.median(d["p99"] for d in runs)
    print(f"| {name} | {r:,.0f} | {r / g_rps:.2f} | {p50:.3f} | {p99:.3f} | {p99 / g_p99:.2f} |")
grpc_paired = statistics.median(h["rps"] / b["rps"] for h, b in zip(grpc_get, grpc_base))
print()
print(f"Get hit / baseline calls per second, median of the per-round ratios: {grpc_paired:.2f}")
print()
print(f"every response had its expected status: {ok}")
if not ok:
    sys.exit(1)
PY
