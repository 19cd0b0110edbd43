# The `collections` suite of scripts/load.sh (sourced from it, after its
# servers are up): per-call gateway CPU of DictionaryGet (one 100-byte field
# of a 10-field dictionary) and SortedSetFetch (a whole 10-element sorted set,
# with scores) against the scalar Get of a 100-byte value, on the same
# backend, in the same rounds: h2load -c H2LOAD_CLIENTS -m H2LOAD_STREAMS on
# the gateway on the memory backend and on the Redis backend. Writes
# $work/w_c_*.out and .cpu for scripts/load/collections_report.py.

H2LOAD_CLIENTS=${H2LOAD_CLIENTS:-4}
H2LOAD_STREAMS=${H2LOAD_STREAMS:-16}
# shellcheck source=common.sh
source scripts/load/common.sh

# The request messages, as gRPC frames (protobuf written out by hand:
# field numbers of cache_client.proto).
python3 - "$work" <<'PY'
import struct, sys
work = sys.argv[1]
def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out
def field(number, payload):  # length-delimited
    return varint(number << 3 | 2) + varint(len(payload)) + payload
def number(n, value):  # varint
    return varint(n << 3) + varint(value)
def frame(name, message):
    with open(f"{work}/{name}.grpc", "wb") as f:
        f.write(b"\0" + struct.pack(">I", len(message)) + message)
value = b"v" * 100
ttl, refresh = number(3, 3_600_000), number(4, 1)
frame("c_get", field(1, b"hot"))
frame("c_dict_set", field(1, b"dict") + b"".join(
    field(2, field(1, b"f%d" % i) + field(2, value)) for i in range(10)) + ttl + refresh)
frame("c_dict_get", field(1, b"dict") + field(2, b"f0"))
frame("c_zset_put", field(1, b"board") + b"".join(
    field(2, field(1, b"player-%02d" % i) + bytes([0x11]) + struct.pack("<d", float(i)))
    for i in range(10)) + ttl + refresh)
# with_scores = true, by_index {} (the whole set).
frame("c_zset_fetch", field(1, b"board") + number(3, 1) + field(4, b""))
PY

# grpc_status URL PATH FRAME: the grpc-status of one call.
grpc_status() {
  curl -s --http2-prior-knowledge -D - -o "$work/c_last.body" -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "authorization: $JWT" -H 'cache: bench' --data-binary "@$work/$3.grpc" "$1$2" \
    | tr -d '\r' | awk -F': ' 'tolower($1) == "grpc-status" {print $2}' || true
}

for gate in "$GATE" "$RGATE"; do
  curl -sf -X PUT -H "Authorization: $JWT" --data-binary "@$work/value" "$gate/cache/bench?key=hot&ttl_seconds=3600"
  for call in "DictionarySet c_dict_set" "SortedSetPut c_zset_put" "Get c_get" "DictionaryGet c_dict_get" "SortedSetFetch c_zset_fetch"; do
    set -- $call
    status=$(grpc_status "$gate" "/cache_client.Scs/$1" "$2")
    [ "$status" = 0 ] || { echo "gRPC $1 on $gate: grpc-status '$status', expected 0" >&2; exit 1; }
  done
  # The fetch answers all ten elements.
  [ "$(grep -ao 'player-' "$work/c_last.body" | wc -l)" = 10 ] || { echo "SortedSetFetch on $gate: not 10 elements" >&2; exit 1; }
done

# c_run NAME "LABEL=PID ..." URL FRAME
c_run() {
  local name=$1 procs=$2 url=$3 frame=$4
  wmeasure "$name" "$procs" h2load -c "$H2LOAD_CLIENTS" -m "$H2LOAD_STREAMS" -D "$DURATION" \
    -d "$work/$frame.grpc" -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "authorization: $JWT" -H 'cache: bench' "$url"
}

echo "load (collections): ${DURATION}s per run, h2load -c$H2LOAD_CLIENTS -m$H2LOAD_STREAMS, $ROUNDS rounds" >&2
for round in $(seq "$ROUNDS"); do
  for backend in m r; do
    # On Redis, Redis's own CPU is recorded too (the scripts run there).
    if [ $backend = m ]; then procs="server=$GATE_PID" url=$GATE; else procs="server=$RGATE_PID redis=$REDIS_PID" url=$RGATE; fi
    in_order "$round" \
      "c_run c_${backend}_get_$round '$procs' $url/cache_client.Scs/Get c_get" \
      "c_run c_${backend}_dict_$round '$procs' $url/cache_client.Scs/DictionaryGet c_dict_get" \
      "c_run c_${backend}_zset_$round '$procs' $url/cache_client.Scs/SortedSetFetch c_zset_fetch"
  done
done
