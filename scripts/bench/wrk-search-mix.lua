-- wrk script for scripts/bench-monitoring.sh: school-like traffic through a
-- forward proxy where one request in SEARCH_EVERY is a web search.
--
-- ORIGIN_PORT  the origin's port on 127.0.0.1; searches go to
--              http://www.bing.com:ORIGIN_PORT/search?q=..., which the
--              proxy's [proxy.resolve] sends to the same origin
-- SEARCH_EVERY one request in this many is a search (default 10)
--
-- One search in twenty is a worrying one (self-harm, in plain words and
-- disguised), so the monitor raises alerts and folds repeats as it would in
-- a school; the rest are ordinary homework searches.
--
-- Prints one line the script parses:
--   RESULT requests=N duration_us=N p50_us=N p99_us=N errors=N not_2xx_3xx=N

local port = os.getenv("ORIGIN_PORT")
local every = tonumber(os.getenv("SEARCH_EVERY") or "10")

local ordinary = {
  "volcano+facts+for+kids", "how+to+make+slime", "bbc+bitesize+gcse+maths",
  "times+tables+games", "photosynthesis+diagram", "romans+in+britain",
  "how+do+plants+grow", "french+verbs+conjugation", "world+war+2+timeline",
  "fractions+worksheet+year+5", "rainforest+animals", "how+to+draw+a+cat",
  "solar+system+planets+order", "shakespeare+macbeth+summary",
  "water+cycle+explained", "football+results", "minecraft+house+ideas",
  "how+to+spell+necessary", "capital+of+australia", "what+is+a+noun",
}
local worrying = {
  "how+to+kill+myself", "s3lf+h4rm", "ways+to+hurt+myself",
}

local page, search, n

function init(args)
  n = 0
  page = wrk.format("GET", "http://127.0.0.1:" .. port .. "/1k.html",
    { ["Host"] = "127.0.0.1:" .. port })
  -- Nineteen ordinary searches, then a worrying one, three times over.
  search = {}
  for w = 1, #worrying do
    for k = 1, 19 do
      search[#search + 1] = ordinary[((w - 1) * 19 + k - 1) % #ordinary + 1]
    end
    search[#search + 1] = worrying[w]
  end
end

function request()
  n = n + 1
  if n % every == 0 then
    local term = search[(n / every) % #search + 1]
    return wrk.format("GET", "http://www.bing.com:" .. port .. "/search?q=" .. term,
      { ["Host"] = "www.bing.com:" .. port })
  end
  return page
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d not_2xx_3xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
