#!/usr/bin/env bash
# Load test of the gateway, in four suites (SUITES, all by default):
#
# memory: oha against the gateway on the memory backend, side by side with a
#   minimal hyper server on the same stack (examples/bench_tools.rs `baseline`)
#   answering the same GET with the same bytes, and the gRPC counterparts
#   (`grpc-baseline`, `grpc-load`). Every figure is a ratio to that baseline.
#
# redis: a redis-server of its own (loopback, free port, no persistence) and a
#   gateway on `[backend] kind = "redis"` in front of it. In paired rounds:
#   `redis-benchmark` GET and SET straight to that Redis, then authorized GET
#   and PUT through the gateway to it (oha, HTTP/1.1) and gRPC Get and Set
#   through it (`grpc-load`), all with the same 100-byte values and the same
#   CONCURRENCY; and, in the same rounds, the same requests to the gateway on
#   the memory backend. Each is reported as a ratio to redis-benchmark in its
#   round. The CPU time of every process over every run is recorded too
#   (/proc and /usr/bin/time), and Redis's command counts (INFO commandstats).
#
# collections: DictionaryGet and SortedSetFetch (10 elements) against Get, CPU
#   per call on the same backend, memory and Redis (scripts/load/collections.sh,
#   scripts/load/collections_report.py; h2load).
#
# wrk: wrk and CPU per request (scripts/load/wrk.sh, scripts/load/wrk_report.py),
#   in alternating rounds: `wrk -t1 -c32` GET hit, 401 (bad signature) and cold
#   verification (a fresh credential per request, scripts/load/wrk.lua) on the
#   gateway against the bare hyper responder; the GET hit against HAProxy
#   checking the same HS256 JWT with jwt_verify and exp
#   (scripts/load/haproxy.cfg.template, the gateway's secret); gRPC Get with
#   `h2load -c4 -m16` on the gateway against `grpc-baseline`; and GET through
#   the gateway on Redis (wrk -c CONCURRENCY) against redis-benchmark GET at
#   CONCURRENCY. Each with the server's CPU per request (/proc/PID/stat
#   utime + stime) on both sides and the ratios. wrk, haproxy and h2load
#   (nghttp2-client) are installed with apt-get when missing.
#
# Every ratio is measured in the same run (the machine is shared and noisy;
# absolute numbers are not comparable between runs).
#
# Bounded: every oha and gRPC run lasts DURATION seconds; redis-benchmark
# sends a fixed count of requests (REDIS_REQUESTS; by default about DURATION
# seconds' worth, from a 20,000-request calibration); every load command is
# also killed after 6 x DURATION + 30 s. Everything on 127.0.0.1 only. oha is
# installed with cargo when missing (memory and redis suites only).
#
#   scripts/load.sh          # DURATION=8 CONCURRENCY=16 ROUNDS=3 RATE=20000 SUITES="memory redis wrk collections"
#   DURATION=5 ROUNDS=2 scripts/load.sh
#   SUITES=wrk scripts/load.sh     # only the wrk / CPU-per-request section
#   BACKENDS=redis REDIS_CONNECTIONS=8 scripts/load.sh   # BACKENDS alone: those suites, no wrk
#
# Knobs: SUITES (memory redis wrk; defaults to BACKENDS when that is set),
# DURATION, ROUNDS, CONCURRENCY, RATE, PORT (uses PORT..PORT+5 and
# PORT+10..PORT+15), COLD_URLS (credentials minted for the cold runs),
# REDIS_CONNECTIONS, REDIS_REQUESTS; for wrk: WRK_THREADS (1),
# WRK_CONNECTIONS (32), H2LOAD_CLIENTS (4), H2LOAD_STREAMS (16), WRK_PAIRS (hit 401
# cold grpc redis: the pairs to run),
# HAPROXY_NBTHREAD (nproc: one thread per core, like tokio's workers);
# BUILD=0 skips the cargo build (the release binaries must exist).
#
# Throughput is measured at saturation. Latency is also measured at a fixed
# RATE below saturation: at saturation on 2 cores the client and the servers
# compete for the CPU and p99 measures the scheduler more than the server.
#   DURATION=20 CONCURRENCY=64 scripts/load.sh
#
# Writes the tables to stdout and to target/load-report.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-20000}
CONCURRENCY=${CONCURRENCY:-16}
PORT=${PORT:-18480}
COLD_URLS=${COLD_URLS:-20000}
SUITES=${SUITES:-${BACKENDS:-memory redis wrk collections}}
BUILD=${BUILD:-1}
REDIS_CONNECTIONS=${REDIS_CONNECTIONS:-1}
REDIS_REQUESTS=${REDIS_REQUESTS:-}
LIMIT=$((DURATION * 6 + 30))

has() { [[ " $SUITES " == *" $1 "* ]]; }
for suite in $SUITES; do
  [[ " memory redis wrk collections " == *" $suite "* ]] || { echo "SUITES must name memory, redis, wrk and/or collections" >&2; exit 64; }
done
if has redis || has wrk || has collections; then
  for tool in redis-server redis-cli redis-benchmark; do
    command -v "$tool" > /dev/null || { echo "$tool is needed for SUITES=redis and wrk" >&2; exit 1; }
  done
fi

if has memory || has redis; then command -v oha >/dev/null || cargo install oha --locked; fi
if has wrk || has collections; then
  missing=()
  if has wrk; then
    command -v wrk > /dev/null || missing+=(wrk)
    command -v haproxy > /dev/null || missing+=(haproxy)
  fi
  command -v h2load > /dev/null || missing+=(nghttp2-client)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  fi
fi
[ "$BUILD" = 0 ] || cargo build --release --bin scopegate --example bench_tools
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

# shellcheck source=load/common.sh
source scripts/load/common.sh
bench_setup "$work" "127.0.0.1:$PORT" "127.0.0.1:$((PORT + 10))"

# Processes whose CPU time is recorded over every run: "label=pid".
track=()
# The gateway (memory backend); in the memory suite also a second one whose
# verification cache holds one entry, so that every request with a new
# credential is verified cold, and the baselines.
"$BIN" serve --config "$work/config.toml" > "$work/gate.log" 2>&1 & pids+=($!)
GATE_PID=$!
track+=("gate_memory=$!")
admins=($((PORT + 10)))
if has memory || has wrk; then
  SCOPEGATE_SERVER_LISTEN="127.0.0.1:$((PORT + 1))" SCOPEGATE_ADMIN_LISTEN="127.0.0.1:$((PORT + 11))" \
    SCOPEGATE_AUTH_VERIFICATION_CACHE_ENTRIES=1 \
    "$BIN" serve --config "$work/config.toml" > "$work/cold.log" 2>&1 & pids+=($!)
  COLD_PID=$!
  "$TOOLS" baseline "127.0.0.1:$((PORT + 2))" "$work/value" > "$work/baseline.log" 2>&1 & pids+=($!)
  BASE_PID=$!
  "$TOOLS" grpc-baseline "127.0.0.1:$((PORT + 3))" "$work/value" > "$work/grpc-baseline.log" 2>&1 & pids+=($!)
  GRPC_BASE_PID=$!
  admins+=($((PORT + 11)))
fi

# Redis of our own on a free loopback port, without persistence, and a
# gateway on the Redis backend in front of it (same key, same declared cache).
REDIS_PORT=
if has redis || has wrk || has collections; then
  REDIS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$work" --logfile "$work/redis.log" & pids+=($!)
  REDIS_PID=$!
  track+=("redis=$!")
  for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$REDIS_PORT" ping > /dev/null || { echo "redis-server on :$REDIS_PORT not ready" >&2; exit 1; }
  sed -e "s/127.0.0.1:$PORT\"/127.0.0.1:$((PORT + 4))\"/" -e "s/127.0.0.1:$((PORT + 10))\"/127.0.0.1:$((PORT + 14))\"/" \
    "$work/config.toml" > "$work/redis.toml"
  cat >> "$work/redis.toml" <<CONF
[backend]
kind = "redis"
url = "redis://127.0.0.1:$REDIS_PORT"
namespace = "bench"
connections = $REDIS_CONNECTIONS
CONF
  "$BIN" serve --config "$work/redis.toml" > "$work/gate-redis.log" 2>&1 & pids+=($!)
  RGATE_PID=$!
  track+=("gate_redis=$!")
  admins+=($((PORT + 14)))
  if has wrk; then
    # The same, on one worker thread (server.worker_threads = 1): the wrk
    # suite measures both against redis-benchmark.
    SCOPEGATE_SERVER_LISTEN="127.0.0.1:$((PORT + 5))" SCOPEGATE_ADMIN_LISTEN="127.0.0.1:$((PORT + 15))" \
      SCOPEGATE_SERVER_WORKER_THREADS=1 \
      "$BIN" serve --config "$work/redis.toml" > "$work/gate-redis-1.log" 2>&1 & pids+=($!)
    RGATE1_PID=$!
    RGATE1="http://127.0.0.1:$((PORT + 5))"
    admins+=($((PORT + 15)))
  fi
fi

for admin in "${admins[@]}"; do
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$admin/readyz" > /dev/null && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$admin/readyz" > /dev/null || { echo "gateway on admin :$admin not ready" >&2; exit 1; }
done

SCOPE='{"permissions":[{"role":"readwrite","cache":"bench"}]}'
TOKEN=$("$BIN" token mint --config "$work/config.toml" --disposable --ttl 1h --scope "$SCOPE")
JWT=$(python3 -c 'import base64,json,sys; print(json.loads(base64.urlsafe_b64decode(sys.argv[1]))["api_key"])' "$TOKEN")
GATE="http://127.0.0.1:$PORT"
RGATE="http://127.0.0.1:$((PORT + 4))"
curl -sf -X PUT -H "Authorization: $TOKEN" --data-binary "@$work/value" "$GATE/cache/bench?key=hot&ttl_seconds=3600"

# CPU ticks (user + system, 1/100 s) of a process so far.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# measured NAME OUT CMD...: runs CMD (bounded by LIMIT) with stdout to OUT and
# writes NAME.cpu: the CPU seconds of the command and of every tracked process
# over the run; with Redis, NAME.redis: INFO commandstats over the run.
measured() {
  local name=$1 out=$2 t i=0
  shift 2
  local before=()
  for t in "${track[@]}"; do before+=("$(ticks "${t#*=}")"); done
  [ -z "$REDIS_PORT" ] || redis-cli -p "$REDIS_PORT" config resetstat > /dev/null
  /usr/bin/time -f '%U %S' -o "$work/$name.time" timeout "$LIMIT" "$@" > "$out"
  {
    echo "client $(tail -n 1 "$work/$name.time" | awk '{print $1 + $2}')"
    for t in "${track[@]}"; do
      echo "${t%%=*} $(awk -v a="${before[$i]}" -v b="$(ticks "${t#*=}")" 'BEGIN {print (b - a) / 100}')"
      i=$((i + 1))
    done
  } > "$work/$name.cpu"
  [ -z "$REDIS_PORT" ] || redis-cli -p "$REDIS_PORT" info commandstats > "$work/$name.redis"
}

run() {
  local name=$1
  shift
  echo "  $name ..." >&2
  measured "$name" "$work/$name.json" oha -z "${DURATION}s" -c "$CONCURRENCY" --no-tui --output-format json "$@"
}

# gRPC (cache_client.Scs over one HTTP/2 channel, as the SDKs connect).
grpc() {
  local name=$1
  shift
  echo "  $name ..." >&2
  measured "$name" "$work/$name.json" "$TOOLS" grpc-load "$@" "$DURATION" "$CONCURRENCY"
}

if has memory; then
  # A credential with a valid shape but a bad signature: the full 401 path.
  BAD=$(python3 -c 'import base64,json,sys; j=json.loads(base64.urlsafe_b64decode(sys.argv[1]))["api_key"]; print(j[:-4] + ("AAAA" if j[-4:] != "AAAA" else "BBBB"))' "$TOKEN")
  "$TOOLS" urls "$work/config.toml" "http://127.0.0.1:$((PORT + 1))/cache/bench?key=hot" "$COLD_URLS" "$SCOPE" > "$work/urls.txt"
  curl -sf -X PUT -H "Authorization: $TOKEN" --data-binary "@$work/value" "http://127.0.0.1:$((PORT + 1))/cache/bench?key=hot&ttl_seconds=3600"

  echo "load (memory): ${DURATION}s per scenario, $CONCURRENCY connections, $ROUNDS rounds" >&2
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

  # gRPC against a minimal server on the same stack answering the same encoded GetResponse.
  for round in $(seq "$ROUNDS"); do
    grpc "grpc_baseline_$round" "http://127.0.0.1:$((PORT + 3))" "$JWT" get
    grpc "grpc_get_$round" "$GATE" "$JWT" get
  done
  grpc grpc_set "$GATE" "$JWT" set
fi

if has redis; then
  curl -sf -X PUT -H "Authorization: $TOKEN" --data-binary "@$work/value" "$RGATE/cache/bench?key=hot&ttl_seconds=3600"
  # redis-benchmark's GET and SET use the one key `key:__rand_int__` (no -r):
  # give it the same 100 bytes first, so its GETs are hits like the gateway's.
  redis-cli -p "$REDIS_PORT" -x set 'key:__rand_int__' < "$work/value" > /dev/null
  bench() {
    local name=$1 test=$2
    echo "  $name ..." >&2
    measured "$name" "$work/$name.csv" redis-benchmark -p "$REDIS_PORT" -c "$CONCURRENCY" -n "$REDIS_REQUESTS" \
      -t "$test" -d 100 -P 1 --csv
  }
  if [ -z "$REDIS_REQUESTS" ]; then
    # About DURATION seconds' worth of GETs, so both sides of a pair run about as long.
    calibration=$(timeout "$LIMIT" redis-benchmark -p "$REDIS_PORT" -c "$CONCURRENCY" -n 20000 -t get -d 100 -P 1 --csv \
      | awk -F'"' '$2 == "GET" {print $4}')
    REDIS_REQUESTS=$(awk -v r="$calibration" -v d="$DURATION" 'BEGIN {n = int(r * d); print (n < 20000 ? 20000 : (n > 5000000 ? 5000000 : n))}')
  fi
  echo "load (redis): ${DURATION}s per scenario (redis-benchmark: $REDIS_REQUESTS requests), $CONCURRENCY connections, $ROUNDS rounds, Redis on :$REDIS_PORT" >&2
  for round in $(seq "$ROUNDS"); do
    bench "rb_get_$round" get
    run "r_get_$round" -H "Authorization: $TOKEN" "$RGATE/cache/bench?key=hot"
    run "m_get_$round" -H "Authorization: $TOKEN" "$GATE/cache/bench?key=hot"
    grpc "r_grpc_get_$round" "$RGATE" "$JWT" get
    grpc "m_grpc_get_$round" "$GATE" "$JWT" get
    bench "rb_set_$round" set
    run "r_put_$round" -m PUT -d "$(cat "$work/value")" -H "Authorization: $TOKEN" "$RGATE/cache/bench?key=put&ttl_seconds=3600"
    run "m_put_$round" -m PUT -d "$(cat "$work/value")" -H "Authorization: $TOKEN" "$GATE/cache/bench?key=put&ttl_seconds=3600"
    grpc "r_grpc_set_$round" "$RGATE" "$JWT" set
    grpc "m_grpc_set_$round" "$GATE" "$JWT" set
  done
fi

# shellcheck source=load/wrk.sh
if has wrk; then source scripts/load/wrk.sh; fi
# shellcheck source=load/collections.sh
if has collections; then source scripts/load/collections.sh; fi

mkdir -p target
: > target/load-report.md
status=0
if has memory || has redis; then
python3 - "$work" "$DURATION" "$CONCURRENCY" "$ROUNDS" "$RATE" "$SUITES" "$REDIS_CONNECTIONS" "$REDIS_REQUESTS" <<'PY' | tee target/load-report.md || status=1
import json, statistics, sys
work, duration, concurrency, rounds, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
backends, redis_connections, redis_requests = sys.argv[6].split(), sys.argv[7], sys.argv[8]
def load(name):
    with open(f"{work}/{name}.json") as f:
        return json.load(f)
def rps(d): return d["summary"]["requestsPerSec"]
def p(d, q): return d["latencyPercentiles"][q] * 1000
def codes(d): return {int(k): v for k, v in d.get("statusCodeDistribution", {}).items()}
def median(runs, f): return statistics.median(f(d) for d in runs)
R = range(1, rounds + 1)
ok = True

if "memory" in backends:
    base = [load(f"baseline_{r}") for r in R]
    hits = [load(f"get_hit_{r}") for r in R]
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
    base_rate = [load(f"baseline_rate_{r}") for r in R]
    hits_rate = [load(f"get_hit_rate_{r}") for r in R]
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
    grpc_base = [load(f"grpc_baseline_{r}") for r in R]
    grpc_get = [load(f"grpc_get_{r}") for r in R]
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

if "redis" in backends:
    def cpu(name):
        with open(f"{work}/{name}.cpu") as f:
            return {k: float(v) for k, v in (line.split() for line in f if line.strip())}
    def calls(name, command):
        # INFO commandstats over the run: cmdstat_get:calls=N,...
        with open(f"{work}/{name}.redis") as f:
            for line in f:
                if line.startswith(f"cmdstat_{command}:"):
                    return int(line.split("calls=")[1].split(",")[0])
        return 0
    def bench(name):
        # redis-benchmark --csv: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        with open(f"{work}/{name}.csv") as f:
            lines = [l.strip().replace('"', "").split(",") for l in f if l.strip()]
        row = lines[-1]
        return {"kind": "rb", "rps": float(row[1]), "p50": float(row[4]), "p99": float(row[6]), "name": name}
    def oha(name, expected):
        global ok
        d = load(name)
        if set(codes(d)) != {expected}:
            ok = False
            print(f"unexpected statuses in {name}: {codes(d)}", file=sys.stderr)
        return {"kind": "oha", "rps": rps(d), "p50": p(d, "p50"), "p99": p(d, "p99"), "name": name,
                "count": sum(codes(d).values())}
    def grpc(name):
        global ok
        d = load(name)
        if d["errors"]:
            ok = False
            print(f"errors in {name}: {d['errors']}", file=sys.stderr)
        return {"kind": "grpc", "rps": d["rps"], "p50": d["p50"], "p99": d["p99"], "name": name, "count": d["ok"]}
    procs = {"rb": "redis-benchmark, redis-server", "r": "oha/tonic client, scopegate, redis-server", "m": "oha/tonic client, scopegate"}
    print()
    print(f"Redis backend: paired rounds, {concurrency} connections (gRPC: {concurrency} concurrent calls on one HTTP/2 channel), "
          f"100-byte values, one hot key; redis-benchmark -n {redis_requests} -P 1; oha and gRPC {duration}s per run; "
          f"gateway pool: {redis_connections} multiplexed Redis connections; median of {rounds} rounds")
    print()
    print("| op | scenario | processes sharing the 2 cores | req/s | vs redis-benchmark (paired) | p50 ms | p99 ms | CPU µs per request: client / scopegate / redis-server | Redis commands per request |")
    print("|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for op, rb_test, http_name, http_code, grpc_op in [("GET", "get", "get", 200, "get"), ("SET", "set", "put", 204, "set")]:
        direct = [bench(f"rb_{rb_test}_{r}") for r in R]
        scen = [
            (f"redis-benchmark {op} straight to Redis (RESP)", "rb", "", direct),
            (f"scopegate to Redis, HTTP {http_name.upper()} (oha)", "r", "http", [oha(f"r_{http_name}_{r}", http_code) for r in R]),
            (f"scopegate to Redis, gRPC {op.title()} (tonic)", "r", "grpc", [grpc(f"r_grpc_{grpc_op}_{r}") for r in R]),
            (f"scopegate on the memory backend, HTTP {http_name.upper()} (oha)", "m", "http", [oha(f"m_{http_name}_{r}", http_code) for r in R]),
            (f"scopegate on the memory backend, gRPC {op.title()} (tonic)", "m", "grpc", [grpc(f"m_grpc_{grpc_op}_{r}") for r in R]),
        ]
        for label, who, proto, runs in scen:
            ratio = statistics.median(x["rps"] / d["rps"] for x, d in zip(runs, direct))
            summary[(op, who, proto)] = ratio
            def per_k(x, key):
                c = cpu(x["name"])
                n = x.get("count") or int(redis_requests)  # redis-benchmark: its request count
                return c.get(key, 0.0) * 1e6 / n
            cli = statistics.median(per_k(x, "client") for x in runs)
            gate = statistics.median(per_k(x, {"r": "gate_redis", "m": "gate_memory"}.get(who, "none")) for x in runs)
            red = statistics.median(per_k(x, "redis") for x in runs)
            cmd = rb_test if op == "GET" else ("psetex" if who == "r" else "set")
            per_req = statistics.median(calls(x["name"], cmd) / (x.get("count") or int(redis_requests)) for x in runs)
            gate_s = "-" if who == "rb" else f"{gate:.0f}"
            print(f"| {op} | {label} | {procs[who]} | {statistics.median(x['rps'] for x in runs):,.0f} | **{ratio:.2f}** "
                  f"| {statistics.median(x['p50'] for x in runs):.3f} | {statistics.median(x['p99'] for x in runs):.3f} "
                  f"| {cli:.0f} / {gate_s} / {red:.0f} | {per_req:.2f} |")
    print()
    print("rounds (req/s): " + "; ".join(
        f"{n} " + ", ".join(f"{x:,.0f}" for x in xs) for n, xs in [
            ("redis-benchmark GET", [bench(f"rb_get_{r}")["rps"] for r in R]),
            ("scopegate-Redis HTTP GET", [load(f"r_get_{r}")["summary"]["requestsPerSec"] for r in R]),
            ("redis-benchmark SET", [bench(f"rb_set_{r}")["rps"] for r in R]),
            ("scopegate-Redis HTTP PUT", [load(f"r_put_{r}")["summary"]["requestsPerSec"] for r in R]),
        ]))
    get_ratio = summary[("GET", "r", "http")]
    print()
    print(f"Target: authorized GET through scopegate to Redis at >= 50% of redis-benchmark GET at the same concurrency: "
          f"HTTP {get_ratio:.2f} ({'met' if get_ratio >= 0.5 else 'NOT met'}), "
          f"gRPC {summary[('GET', 'r', 'grpc')]:.2f} ({'met' if summary[('GET', 'r', 'grpc')] >= 0.5 else 'NOT met'})")

print()
print(f"every response had its expected status: {ok}")
if not ok:
    sys.exit(1)
PY
fi
if has wrk; then
  python3 scripts/load/wrk_report.py "$work" duration="$DURATION" rounds="$ROUNDS" wrk_threads="$WRK_THREADS" \
    wrk_connections="$WRK_CONNECTIONS" h2load_clients="$H2LOAD_CLIENTS" h2load_streams="$H2LOAD_STREAMS" \
    concurrency="$CONCURRENCY" haproxy_nbthread="$HAPROXY_NBTHREAD" haproxy_version="$(haproxy -v | head -n 1 | cut -d ' ' -f 1-3)" \
    redis_requests="$REDIS_REQUESTS" cold_urls="$COLD_URLS" | tee -a target/load-report.md || status=1
fi
if has collections; then
  python3 scripts/load/collections_report.py "$work" "$ROUNDS" "$DURATION" "$H2LOAD_CLIENTS" "$H2LOAD_STREAMS" \
    | tee -a target/load-report.md || status=1
fi
exit "$status"
