"""The table of the `wrk` suite of scripts/load.sh (scripts/load/wrk.sh).

usage: wrk_report.py WORK_DIR key=value...  (duration, rounds, wrk_threads,
wrk_connections, h2load_clients, h2load_streams, concurrency,
haproxy_nbthread, haproxy_version, redis_requests, cold_urls)

Reads WORK_DIR/w_NAME.out (the client's output) and w_NAME.cpu ("clk_tck N",
then "LABEL TICKS" per server process over the run). Prints a markdown table;
exits 1 when a run had an unexpected status, socket error or gRPC failure.
"""
import json
import os
import re
import statistics
import sys

work = sys.argv[1]
opt = dict(a.split("=", 1) for a in sys.argv[2:])
rounds = range(1, int(opt["rounds"]) + 1)
ok = True


def fail(message):
    global ok
    ok = False
    print(message, file=sys.stderr)


def read(name, ext):
    with open(f"{work}/w_{name}.{ext}") as f:
        return f.read()


def cpu_us(name, labels, count):
    """Server CPU (sum over LABELS) in µs per completed request."""
    lines = dict(line.split() for line in read(name, "cpu").splitlines() if line.strip())
    tck = int(lines.pop("clk_tck"))
    return sum(int(lines[label]) for label in labels) * 1e6 / tck / max(count, 1)


def wrk(name, expect):
    out = read(name, "out")
    m = re.search(r"^WRK_JSON (\{.*\})$", out, re.M)
    if not m:
        fail(f"{name}: no WRK_JSON line in wrk's output")
        return 0.0, 0
    d = json.loads(m.group(1))
    n = d["requests"]
    socket_errors = {k: d[k] for k in ("connect", "read", "write", "timeout") if d[k]}
    if socket_errors:
        fail(f"{name}: socket errors {socket_errors}")
    if expect == 200 and (d["status"] or d["bytes"] < 100 * n):
        fail(f"{name}: {d['status']} of {n} responses >= 400, {d['bytes'] / max(n, 1):.0f} bytes per response")
    if expect == 401 and d["status"] != n:
        fail(f"{name}: {n - d['status']} of {n} responses were not errors, expected 401s")
    return n / (d["duration_us"] / 1e6), n


def h2load(name):
    out = read(name, "out")
    finished = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    req = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                    r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    codes = re.search(r"status codes: (\d+) 2xx", out)
    data = re.search(r"\((\d+)\) data", out)
    if not (finished and req and codes and data):
        fail(f"{name}: cannot read h2load's output")
        return 0.0, 0
    done, succeeded, failed, errored, timeout = (int(req.group(i)) for i in (3, 4, 5, 6, 7))
    # With -D, a stream whose headers came before the end but whose body did
    # not is counted 2xx without being done: at most the streams in flight.
    if failed or errored or timeout or int(codes.group(1)) < done:
        fail(f"{name}: {failed} failed, {errored} errored, {timeout} timeout, {codes.group(1)} 2xx of {done}")
    # Every answer is a GetResponse hit in a DATA frame of 109 bytes (5 + 4 + 100);
    # an error would be trailers only, with no data.
    if int(data.group(1)) < 100 * succeeded:
        fail(f"{name}: {int(data.group(1)) / max(succeeded, 1):.0f} bytes of data per call, expected hits of 109")
    return float(finished.group(1)), succeeded


def redis_benchmark(name):
    rows = [line.replace('"', "").split(",") for line in read(name, "out").splitlines() if line.startswith('"GET"')]
    if not rows:
        fail(f"{name}: no GET line in redis-benchmark's output")
        return 0.0, 0
    return float(rows[-1][1]), int(opt["redis_requests"])


# (label, gateway runs, reference runs): each side (reader, CPU labels).
def side(prefix, reader, labels):
    runs = []
    for r in rounds:
        rps, n = reader(f"{prefix}_{r}")
        runs.append((rps, cpu_us(f"{prefix}_{r}", labels, n)))
    return runs


def ran(prefix):
    """Whether the pair was run (WRK_PAIRS picks them)."""
    return os.path.exists(f"{work}/w_{prefix}_1.out")


c, t = opt["wrk_connections"], opt["wrk_threads"]
rows = [
    (f"GET hit, gateway vs bare hyper responder (wrk -t{t} -c{c})",
     ("gate_hit", lambda n: wrk(n, 200), ["server"]), ("bare_hit", lambda n: wrk(n, 200), ["server"])),
    (f"401 (bad signature), gateway vs bare responder (wrk -t{t} -c{c})",
     ("gate_401", lambda n: wrk(n, 401), ["server"]), ("bare_401", lambda n: wrk(n, 200), ["server"])),
    (f"cold verify (fresh credential per request), gateway vs bare responder (wrk -t{t} -c{c})",
     ("gate_cold", lambda n: wrk(n, 200), ["server"]), ("bare_cold", lambda n: wrk(n, 200), ["server"])),
    (f"GET hit, gateway vs HAProxy jwt_verify (wrk -t{t} -c{c})",
     ("gate_hit", lambda n: wrk(n, 200), ["server"]), ("hap_hit", lambda n: wrk(n, 200), ["server"])),
    (f"gRPC Get, gateway vs minimal gRPC responder on hyper (h2load -c{opt['h2load_clients']} -m{opt['h2load_streams']})",
     ("gate_grpc", h2load, ["server"]), ("tonic_grpc", h2load, ["server"])),
    (f"Redis GET, gateway on Redis (wrk -t{t} -c{opt['concurrency']}) vs redis-benchmark GET -c{opt['concurrency']}",
     ("rgate_get", lambda n: wrk(n, 200), ["server", "redis"]), ("rb_get", redis_benchmark, ["redis"])),
    (f"Redis GET, gateway on Redis with server.worker_threads = 1 (wrk -t{t} -c{opt['concurrency']}) vs redis-benchmark GET -c{opt['concurrency']}",
     ("rgate1_get", lambda n: wrk(n, 200), ["server", "redis"]), ("rb_get", redis_benchmark, ["redis"])),
]
rows = [(label, side(*gate), side(*ref)) for label, gate, ref in rows if ran(gate[0])]
redis_split = side("rgate_get", lambda n: wrk(n, 200), ["server"]) if ran("rgate_get") else []


def med(xs):
    return statistics.median(xs)


print()
print(f"## wrk and CPU per request")
print()
print(f"{opt['duration']}s per run, median of {len(rounds)} rounds, each pair adjacent in time (odd rounds the "
      f"reference first, even rounds the gateway first); ratios are gateway / reference, the median of the per-round "
      f"ratios. CPU is the server's utime + stime from /proc/PID/stat over the run divided by the requests the "
      f"client completed (the client's CPU is not counted). {opt['haproxy_version']}, nbthread {opt['haproxy_nbthread']}.")
print()
print("| comparison | req/s gateway | req/s reference | throughput ratio | CPU µs/req gateway | CPU µs/req reference | CPU ratio |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label, gate, ref in rows:
    thr = med(g[0] / r[0] if r[0] else float("nan") for g, r in zip(gate, ref))
    cpu = med(g[1] / r[1] if r[1] else float("nan") for g, r in zip(gate, ref))
    print(f"| {label} | {med(g[0] for g in gate):,.0f} | {med(r[0] for r in ref):,.0f} | **{thr:.2f}** "
          f"| {med(g[1] for g in gate):.1f} | {med(r[1] for r in ref):.1f} | **{cpu:.2f}** |")
print()
print("rounds (req/s / CPU µs per request, gateway then reference):")
for label, gate, ref in rows:
    fmt = lambda runs: ", ".join(f"{x:,.0f} / {y:.1f}" for x, y in runs)
    print(f"- {label.split(' (')[0]}: {fmt(gate)}; {fmt(ref)}")
print()
notes = {
    "gate_hit": "- GET hit: the gateway's verification cache holds the credential; HAProxy verifies the HMAC-SHA256 "
    "and reads alg and exp on every request (it has no cache), then answers the same 100 bytes with "
    "`http-request return`, proxying nothing.",
    "gate_401": "- 401: the same credential with its signature altered; the bare responder answers it 200 like any request.",
    "gate_cold": f"- cold verify: a second gateway whose verification cache holds one entry, each request the next of "
    f"{opt['cold_urls']} pre-minted credentials (scripts/load/wrk.lua); the bare responder is sent the same requests.",
    "gate_grpc": "- gRPC: the same 10-byte Get frame and headers to both; h2load sees HTTP statuses only, so every answer's "
    "DATA bytes are checked to be a hit (an error is trailers only); grpc-status 0 is checked with curl before the runs.",
}
for prefix, note in notes.items():
    if ran(prefix):
        print(note)
if redis_split:
    print(f"- Redis GET: gateway CPU is scopegate + redis-server (scopegate alone: "
          f"{med(x[1] for x in redis_split):.1f} µs), reference CPU is redis-server; redis-benchmark sends "
          f"{opt['redis_requests']} requests per run, its CPU is not counted.")
print()
print(f"every wrk/h2load response had its expected status: {ok}")
sys.exit(0 if ok else 1)
