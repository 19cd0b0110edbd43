# Sourced by the Node-based suite runners (tests/sdk_node/run.sh,
# tests/browser/run.sh): runs one bounded suite on $backend (memory, or a
# redis-server of its own) and stops everything it started on every exit
# path. `timeout` runs the suite in its own process group and passes a TERM
# on to all of it: node, the gateways, and whatever else the tests started.
#
#   run_bounded_suite NAME SECONDS command...
# shellcheck source=redis.sh
source "$(dirname "${BASH_SOURCE[0]}")/redis.sh"
test_pid=""
cleanup() {
  if [[ -n "$test_pid" ]] && kill -0 "$test_pid" 2>/dev/null; then
    kill -TERM "$test_pid" 2>/dev/null || true
    wait "$test_pid" 2>/dev/null || true
  fi
  stop_test_redis
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run_bounded_suite() {
  local name=$1 limit=$2 status=0
  shift 2
  export SCOPEGATE_TEST_BACKEND="$backend"
  if [[ "$backend" == redis ]]; then
    start_test_redis
  fi
  timeout --kill-after=10 "$limit" "$@" &
  test_pid=$!
  wait "$test_pid" || status=$?
  test_pid=""
  if [[ $status -eq 124 ]]; then echo "the $name did not finish within $limit s" >&2; fi
  return "$status"
}
