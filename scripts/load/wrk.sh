# The `wrk` suite of scripts/load.sh (sourced from it, after its servers are
# up; it uses its variables: work, BIN, TOOLS, JWT, SCOPE, PORT, GATE, RGATE, RGATE1,
# REDIS_PORT, REDIS_REQUESTS, the *_PID of every server, pids, LIMIT,
# DURATION, ROUNDS, CONCURRENCY, COLD_URLS).
#
# In alternating rounds (odd rounds the reference first, even rounds the
# gateway first), with the server CPU of every run read from /proc/PID/stat:
#   - wrk -t WRK_THREADS -c WRK_CONNECTIONS: GET hit, 401 (bad signature) and
#     cold verification (a fresh credential per request) on the gateway, each
#     against the bare hyper responder (bench_tools baseline) sent the same
#     requests; and the GET hit against HAProxy verifying the same HS256 JWT
#     with jwt_verify (scripts/load/haproxy.cfg.template);
#   - h2load -c H2LOAD_CLIENTS -m H2LOAD_STREAMS: gRPC Get on the gateway
#     against the minimal gRPC server (bench_tools grpc-baseline);
#   - Redis GET: wrk -c CONCURRENCY through the gateway on the Redis backend
#     (at the default thread count, and on one thread: RGATE1) against
#     redis-benchmark GET -c CONCURRENCY straight to the same Redis.
# Writes $work/w_*.out (the client's output) and $work/w_*.cpu (the CPU ticks
# of each server process over the run) for scripts/load/wrk_report.py.

# WRK_PAIRS: which pairs to run (all by default), e.g. WRK_PAIRS=redis while
# tuning one path; the report leaves out the rows of the others.
WRK_PAIRS=${WRK_PAIRS:-hit 401 cold grpc redis}
for pair in $WRK_PAIRS; do
  [[ " hit 401 cold grpc redis " == *" $pair "* ]] || { echo "WRK_PAIRS must name hit, 401, cold, grpc and/or redis" >&2; exit 64; }
done
pair() { [[ " $WRK_PAIRS " == *" $1 "* ]]; }
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
H2LOAD_CLIENTS=${H2LOAD_CLIENTS:-4}
H2LOAD_STREAMS=${H2LOAD_STREAMS:-16}
HAPROXY_NBTHREAD=${HAPROXY_NBTHREAD:-$(nproc)}
WRK_LUA=scripts/load/wrk.lua
# shellcheck source=common.sh
source scripts/load/common.sh

# wrk_run NAME PID URL [AUTHORIZATION]: wrk against URL, the server's CPU read
# from PID. Without AUTHORIZATION, every request takes the next credential of
# $work/tokens.txt.
wrk_run() {
  local name=$1 pid=$2 url=$3
  if [ $# -ge 4 ]; then
    wmeasure "$name" "server=$pid" wrk -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d "${DURATION}s" \
      -s "$WRK_LUA" -H "Authorization: $4" "$url"
  else
    wmeasure "$name" "server=$pid" env WRK_TOKENS="$work/tokens.txt" wrk -t "$WRK_THREADS" \
      -c "$WRK_CONNECTIONS" -d "${DURATION}s" -s "$WRK_LUA" "$url"
  fi
}

h2load_run() {
  local name=$1 pid=$2 url=$3
  wmeasure "$name" "server=$pid" h2load -c "$H2LOAD_CLIENTS" -m "$H2LOAD_STREAMS" -D "$DURATION" \
    -d "$work/get.grpc" -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "authorization: $JWT" -H 'cache: bench' "$url"
}


# expect CODE CURL_ARGS...: fails the run unless the request answers CODE.
expect() {
  local want=$1 got
  shift
  got=$(curl -s -o /dev/null -w '%{http_code}' "$@" || true)
  [ "$got" = "$want" ] || { echo "expected $want, got $got: curl $*" >&2; exit 1; }
}

# HAProxy on a free loopback port, with the gateway's own HS256 secret.
HAPROXY_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret=$(tr -d '[:space:]' < "$work/k1.secret")
[[ $secret =~ ^[A-Za-z0-9_.~+/=-]+$ ]] || { echo "the HS256 secret has characters HAProxy's config would need escaped" >&2; exit 1; }
sed -e "s|@PORT@|$HAPROXY_PORT|" -e "s|@NBTHREAD@|$HAPROXY_NBTHREAD|" -e "s|@SECRET@|$secret|" \
  -e "s|@BODY_FILE@|$work/value|" scripts/load/haproxy.cfg.template > "$work/haproxy.cfg"
haproxy -c -q -f "$work/haproxy.cfg"
haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 & pids+=($!)
HAPROXY_PID=$!
HAP="http://127.0.0.1:$HAPROXY_PORT"
for _ in $(seq 50); do
  curl -s -o /dev/null "$HAP/" && break
  sleep 0.1
done

# Credentials: the valid JWT, one with a bad signature (the full 401 path),
# COLD_URLS fresh ones for the cold runs, and, to check that HAProxy checks
# exp and holds the gateway's secret, the same claims re-signed with the
# secret, expired and not.
BAD_JWT=${JWT:0:-4}$([ "${JWT: -4}" != AAAA ] && echo AAAA || echo BBBB)
"$TOOLS" urls "$work/config.toml" "http://127.0.0.1:$((PORT + 1))/cache/bench?key=hot" "$COLD_URLS" "$SCOPE" \
  | sed 's/^.*[?&]token=//' > "$work/tokens.txt"
read -r EXPIRED RESIGNED < <(python3 - "$JWT" "$secret" <<'PY'
import base64, hashlib, hmac, json, sys, time
head, payload, _ = sys.argv[1].split(".")
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
def sign(exp):
    claims["exp"] = exp
    body = head + "." + base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    mac = hmac.new(sys.argv[2].encode(), body.encode(), hashlib.sha256).digest()
    return body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
print(sign(int(time.time()) - 10), sign(int(time.time()) + 3600))
PY
)
# The gRPC request body: the 5-byte gRPC prefix (uncompressed, length 5) and
# GetRequest { cache_key: "hot" } (field 1, bytes, length 3).
printf '\x00\x00\x00\x00\x05\x0a\x03hot' > "$work/get.grpc"

# Every server holds `hot` = the value, and answers as expected.
for gate in "$GATE" "http://127.0.0.1:$((PORT + 1))" "$RGATE" "$RGATE1"; do
  curl -sf -X PUT -H "Authorization: $JWT" --data-binary "@$work/value" "$gate/cache/bench?key=hot&ttl_seconds=3600"
  expect 200 -H "Authorization: $JWT" "$gate/cache/bench?key=hot"
done
redis-cli -p "$REDIS_PORT" -x set 'key:__rand_int__' < "$work/value" > /dev/null
expect 401 -H "Authorization: $BAD_JWT" "$GATE/cache/bench?key=hot"
expect 200 -H "Authorization: $(head -n 1 "$work/tokens.txt")" "http://127.0.0.1:$((PORT + 1))/cache/bench?key=hot"
expect 200 -H "Authorization: $JWT" "$HAP/cache/bench?key=hot"
expect 200 -H "Authorization: $RESIGNED" "$HAP/cache/bench?key=hot"
expect 401 -H "Authorization: $EXPIRED" "$HAP/cache/bench?key=hot"
expect 401 -H "Authorization: $BAD_JWT" "$HAP/cache/bench?key=hot"
expect 401 "$HAP/cache/bench?key=hot"
for url in "$GATE" "http://127.0.0.1:$((PORT + 3))"; do
  status=$(curl -s --http2-prior-knowledge -D - -o /dev/null -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "authorization: $JWT" -H 'cache: bench' --data-binary "@$work/get.grpc" "$url/cache_client.Scs/Get" \
    | tr -d '\r' | awk -F': ' 'tolower($1) == "grpc-status" {print $2}' || true)
  [ "$status" = 0 ] || { echo "gRPC Get on $url: grpc-status '$status', expected 0" >&2; exit 1; }
done

if [ -z "$REDIS_REQUESTS" ]; then
  # About DURATION seconds' worth of GETs, so both sides of a pair run about as long.
  calibration=$(timeout "$LIMIT" redis-benchmark -p "$REDIS_PORT" -c "$CONCURRENCY" -n 20000 -t get -d 100 -P 1 --csv \
    | awk -F'"' '$2 == "GET" {print $4}')
  REDIS_REQUESTS=$(awk -v r="$calibration" -v d="$DURATION" 'BEGIN {n = int(r * d); print (n < 20000 ? 20000 : (n > 5000000 ? 5000000 : n))}')
fi

BARE="http://127.0.0.1:$((PORT + 2))/cache/bench?key=hot"
COLD="http://127.0.0.1:$((PORT + 1))/cache/bench?key=hot"
echo "load (wrk): ${DURATION}s per run, wrk -t$WRK_THREADS -c$WRK_CONNECTIONS, h2load -c$H2LOAD_CLIENTS -m$H2LOAD_STREAMS," \
  "Redis GET at $CONCURRENCY connections (redis-benchmark: $REDIS_REQUESTS requests), HAProxy nbthread $HAPROXY_NBTHREAD, $ROUNDS rounds" >&2
for round in $(seq "$ROUNDS"); do
  pair hit && in_order "$round" \
    'wrk_run "bare_hit_$round" "$BASE_PID" "$BARE" "$JWT"' \
    'wrk_run "hap_hit_$round" "$HAPROXY_PID" "$HAP/cache/bench?key=hot" "$JWT"' \
    'wrk_run "gate_hit_$round" "$GATE_PID" "$GATE/cache/bench?key=hot" "$JWT"'
  pair 401 && in_order "$round" \
    'wrk_run "bare_401_$round" "$BASE_PID" "$BARE" "$BAD_JWT"' \
    'wrk_run "gate_401_$round" "$GATE_PID" "$GATE/cache/bench?key=hot" "$BAD_JWT"'
  pair cold && in_order "$round" \
    'wrk_run "bare_cold_$round" "$BASE_PID" "$BARE"' \
    'wrk_run "gate_cold_$round" "$COLD_PID" "$COLD"'
  pair grpc && in_order "$round" \
    'h2load_run "tonic_grpc_$round" "$GRPC_BASE_PID" "http://127.0.0.1:$((PORT + 3))/cache_client.Scs/Get"' \
    'h2load_run "gate_grpc_$round" "$GATE_PID" "$GATE/cache_client.Scs/Get"'
  if pair redis; then in_order "$round" \
    'wmeasure "rb_get_$round" "redis=$REDIS_PID" redis-benchmark -p "$REDIS_PORT" -c "$CONCURRENCY" -n "$REDIS_REQUESTS" -t get -d 100 -P 1 --csv' \
    'wmeasure "rgate_get_$round" "server=$RGATE_PID redis=$REDIS_PID" wrk -t "$WRK_THREADS" -c "$CONCURRENCY" -d "${DURATION}s" -s "$WRK_LUA" -H "Authorization: $JWT" "$RGATE/cache/bench?key=hot"' \
    'wmeasure "rgate1_get_$round" "server=$RGATE1_PID redis=$REDIS_PID" wrk -t "$WRK_THREADS" -c "$CONCURRENCY" -d "${DURATION}s" -s "$WRK_LUA" -H "Authorization: $JWT" "$RGATE1/cache/bench?key=hot"'
  fi
done
