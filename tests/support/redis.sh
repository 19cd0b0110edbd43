# Sourced by the SDK and browser suites' run.sh: a throwaway redis-server on
# a free loopback port for the `redis` backend. `start_test_redis` starts it
# and exports SCOPEGATE_TEST_REDIS_URL; `stop_test_redis` (call it from the
# EXIT trap) stops it and removes its folder. Bounded: 5 s to listen.

test_redis_pid=""
test_redis_dir=""

start_test_redis() {
  command -v redis-server >/dev/null || {
    echo "redis-server is required for the redis backend (scripts/test.sh installs it)" >&2
    return 1
  }
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  test_redis_dir="$(mktemp -d)"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$test_redis_dir" --logfile "$test_redis_dir/redis.log" &
  test_redis_pid=$!
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      export SCOPEGATE_TEST_REDIS_URL="redis://127.0.0.1:$port"
      return 0
    fi
    if ! kill -0 "$test_redis_pid" 2>/dev/null; then
      echo "redis-server exited: $(cat "$test_redis_dir/redis.log")" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "redis-server did not listen on $port within 5 s" >&2
  return 1
}

stop_test_redis() {
  if [[ -n "$test_redis_pid" ]] && kill -0 "$test_redis_pid" 2>/dev/null; then
    kill "$test_redis_pid" 2>/dev/null || true
    wait "$test_redis_pid" 2>/dev/null || true
  fi
  if [[ -n "$test_redis_dir" ]]; then rm -rf "$test_redis_dir"; fi
  test_redis_pid=""
  test_redis_dir=""
}
