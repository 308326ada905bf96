-- wrk script for scripts/bench-proxy.sh.
--
-- BENCH_URL    absolute-form request target (http://host:port/path) for a
--              forward proxy; unset when wrk talks to the origin directly
-- BENCH_HOST   the Host header to send with it
-- BENCH_MARKER when set, every answer is sorted: "passed" if its body holds
--              the marker (the origin's page), "failed" if its status is 5xx,
--              "blocked" otherwise (a block page or a redirect to one)
--
-- Prints one line that the script parses:
--   RESULT requests=N duration_us=N bytes=N p50_us=N p99_us=N ...

local url = os.getenv("BENCH_URL")
local host = os.getenv("BENCH_HOST")
local marker = os.getenv("BENCH_MARKER")

if url and url ~= "" then
  wrk.path = url
end
if host and host ~= "" then
  wrk.headers["Host"] = host
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  passed = 0
  blocked = 0
  failed = 0
end

if marker and marker ~= "" then
  function response(status, headers, body)
    if status >= 500 then
      failed = failed + 1
    elseif body and string.find(body, marker, 1, true) then
      passed = passed + 1
    else
      blocked = blocked + 1
    end
  end
end

function done(summary, latency, requests)
  local p, b, f = 0, 0, 0
  for _, t in ipairs(threads) do
    p = p + (t:get("passed") or 0)
    b = b + (t:get("blocked") or 0)
    f = f + (t:get("failed") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d "
      .. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d "
      .. "passed=%d blocked=%d failed=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50.0), latency:percentile(99.0),
    e.connect, e.read, e.write, e.status, e.timeout, p, b, f))
end
