-- wrk script for scripts/load/wrk.sh.
--
-- Always: after the run, prints one line `WRK_JSON {...}` (completed
-- requests, duration, socket errors, responses with a status >= 400, p50 and
-- p99 latency) for the report to read.
--
-- With WRK_TOKENS=FILE (one credential a line): every request carries the
-- next credential of FILE in `Authorization`, cycling, so a gateway whose
-- verification cache holds one entry verifies every request cold. The
-- requests are formatted once, in init, so the client's cost per request
-- stays small.
local tokens_file = os.getenv("WRK_TOKENS")

if tokens_file and tokens_file ~= "" then
  local prepared = {}
  local next_index = 1

  function init(args)
    for line in io.lines(tokens_file) do
      if line ~= "" then
        prepared[#prepared + 1] = wrk.format(nil, nil, { Host = wrk.headers["Host"], Authorization = line })
      end
    end
    assert(#prepared > 0, "WRK_TOKENS: no credentials in " .. tokens_file)
  end

  function request()
    local r = prepared[next_index]
    next_index = next_index % #prepared + 1
    return r
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
