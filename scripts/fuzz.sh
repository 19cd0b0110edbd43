#!/usr/bin/env bash
# Runs each fuzz target of fuzz/ for a bounded time and prints one line per
# target: executions, corpus size, result. Exits non-zero if any target
# crashed (a panic, a failed property, a timeout or an out-of-memory).
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# Works on stable Rust: cargo-fuzz's flags are made acceptable with
# RUSTC_BOOTSTRAP=1 and the build uses no sanitizer (`-s none`), with debug
# assertions and overflow checks on. cargo-fuzz is installed into
# target/tools when missing. Targets run one at a time, each as one
# in-process libFuzzer worker (libFuzzer's default; note that -jobs=1 would
# fork a child that logs to ./fuzz-0.log instead), from a copy of the committed seeds (fuzz/corpus/<t>)
# in fuzz/target/fuzz-corpus/<t>, so the repository's corpus never grows.
# Crash inputs land in fuzz/artifacts/<t>/ (git-ignored).
#
# Environment: FUZZ_MAX_LEN (default 4096) caps input size; FUZZ_RSS_MB
# (default 2048) caps memory; FUZZ_EXTRA adds libFuzzer flags.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-20}
shift || true
all=(credential_raw credential_signed scope_json scope_proto http_query config)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
case "$seconds" in
  ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [seconds-per-target] [target...]" >&2; exit 2 ;;
esac

tools="$root/target/tools"
if [ ! -x "$tools/bin/cargo-fuzz" ]; then
  echo "installing cargo-fuzz into $tools" >&2
  cargo install cargo-fuzz --locked --root "$tools" >&2
fi
export PATH="$tools/bin:$PATH"
export RUSTC_BOOTSTRAP=1

# The build flags of every run (the same ones `cargo fuzz run` rebuilds with).
flags=(-s none --debug-assertions --codegen-units 16)
echo "building fuzz targets (fuzz/target)..." >&2
cargo fuzz build "${flags[@]}" >&2

status=0
summary=()
for t in "${targets[@]}"; do
  seeds="fuzz/corpus/$t"
  work="fuzz/target/fuzz-corpus/$t"
  artifacts="fuzz/artifacts/$t"
  if [ ! -d "$seeds" ]; then
    echo "unknown target $t (no $seeds)" >&2
    exit 2
  fi
  mkdir -p "$work" "$artifacts"
  cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  log="fuzz/target/fuzz-$t.log"
  echo "fuzzing $t for ${seconds}s..." >&2
  set +e
  # The outer timeout bounds a hung build or run; libFuzzer's own
  # -max_total_time ends a healthy run.
  timeout --kill-after=30 $((seconds + 600)) \
    cargo fuzz run "${flags[@]}" "$t" "$work" -- \
      -max_total_time="$seconds" \
      -max_len="${FUZZ_MAX_LEN:-4096}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
      -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$root/$artifacts/" ${FUZZ_EXTRA:-} \
      >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  corpus=$(find "$work" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    status=1
    crash=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
    why=$(grep -m1 -E "panicked at|ERROR: libFuzzer|SUMMARY" "$log" | cut -c1-160)
    result="CRASH (exit $rc) ${crash:-no artifact} ${why:+- $why} (log: $log)"
  fi
  line=$(printf '%-18s %10s execs %7s/s  corpus %6s  %s' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$result")
  echo "$line"
  summary+=("$line")
done
echo "---" >&2
printf '%s\n' "${summary[@]}" >&2
exit $status
