"""The table of the `collections` suite of scripts/load.sh (scripts/load/collections.sh).

usage: collections_report.py WORK_DIR ROUNDS DURATION H2LOAD_CLIENTS H2LOAD_STREAMS

Reads WORK_DIR/w_c_{m,r}_{get,dict,zset}_ROUND.out (h2load's output) and
.cpu ("clk_tck N", then "server TICKS"). Prints a markdown table of calls per
second and gateway CPU per call, and each collection call's CPU as a ratio to
Get on the same backend (target: within 1.5x); exits 1 when a run had a
failed call.
"""
import re
import statistics
import sys

work, rounds, duration, clients, streams = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ok = True


def run(name):
    """(calls per second, gateway CPU µs per call, Redis CPU µs per call or None) of one h2load run."""
    global ok
    out = open(f"{work}/w_{name}.out").read()
    finished = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    req = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", out)
    data = re.search(r"\((\d+)\) data", out)
    if not (finished and req and data):
        print(f"{name}: cannot read h2load's output", file=sys.stderr)
        ok = False
        return 0.0, 0.0, None
    done, succeeded, failed, errored, timeout = (int(g) for g in req.groups())
    # Every answer carries its data (an error would be trailers only).
    if failed or errored or timeout or int(data.group(1)) < 100 * succeeded:
        print(f"{name}: {failed} failed, {errored} errored, {timeout} timeout, "
              f"{int(data.group(1)) / max(succeeded, 1):.0f} bytes per call", file=sys.stderr)
        ok = False
    cpu = dict(line.split() for line in open(f"{work}/w_{name}.cpu").read().splitlines() if line.strip())
    per_call = lambda label: int(cpu[label]) * 1e6 / int(cpu["clk_tck"]) / max(succeeded, 1)
    return float(finished.group(1)), per_call("server"), per_call("redis") if "redis" in cpu else None


med = statistics.median
print()
print("## Collections: CPU per call against a scalar Get")
print()
print(f"h2load -c{clients} -m{streams}, {duration}s per run, median of {rounds} rounds (the three calls of a "
      "backend adjacent in time, their order alternating); CPU is the gateway's utime + stime from /proc over "
      "the run per completed call, and on the Redis backend Redis's own beside it. DictionaryGet reads one 100-byte "
      "field of a 10-field dictionary; SortedSetFetch the whole 10-element sorted set with scores; Get a 100-byte value.")
print()
print("| backend | call | calls/s | gateway CPU µs/call | gateway CPU ratio to Get | target ≤ 1.5 | Redis CPU µs/call |")
print("|---|---|---:|---:|---:|---|---:|")
for backend, label in (("m", "memory"), ("r", "Redis")):
    runs = {op: [run(f"c_{backend}_{op}_{r}") for r in range(1, rounds + 1)] for op in ("get", "dict", "zset")}
    for op, name in (("get", "Get"), ("dict", "DictionaryGet"), ("zset", "SortedSetFetch (10)")):
        ratio = med(c[1] / g[1] if g[1] else float("nan") for c, g in zip(runs[op], runs["get"]))
        verdict = "" if op == "get" else ("met" if ratio <= 1.5 else "NOT met")
        redis = "" if backend == "m" else f"{med(x[2] for x in runs[op]):.1f}"
        print(f"| {label} | {name} | {med(x[0] for x in runs[op]):,.0f} | {med(x[1] for x in runs[op]):.1f} "
              f"| **{ratio:.2f}** | {verdict} | {redis} |")
print()
print(f"every call succeeded: {ok}")
sys.exit(0 if ok else 1)
