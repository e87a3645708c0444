-- One endpoint under load, configured by the environment (bench/run.py sets it):
--   BENCH_METHOD, BENCH_PATH (may hold "{id}"), BENCH_IDS_FILE (ids, one a
--   line, cycled through "{id}"), BENCH_SPLIT_IDS (non-empty: each thread
--   takes its own half of the ids, for ids usable once), BENCH_BODY (JSON),
--   BENCH_TOKEN (bearer token), BENCH_HEADERS ("Name: value" lines).
-- done() prints one machine-readable line that bench/run.py parses.

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local split = (os.getenv("BENCH_SPLIT_IDS") or "") ~= ""

local ids = {}
local id_file = os.getenv("BENCH_IDS_FILE")
if id_file and id_file ~= "" then
  for id in io.lines(id_file) do
    if id ~= "" then
      ids[#ids + 1] = id
    end
  end
end

local headers = {}
if token and token ~= "" then
  headers["Authorization"] = "Bearer " .. token
end
for name, value in string.gmatch(os.getenv("BENCH_HEADERS") or "", "([^:\n]+): ([^\n]*)") do
  headers[name] = value
end
if body and body ~= "" then
  headers["Content-Type"] = "application/json"
else
  body = nil
end

-- Each thread starts at its own place in the id pool, so two threads do not
-- queue on the same row lock; with split ids, at its own half of the pool.
local threads = 0
function setup(thread)
  if split then
    thread:set("offset", threads * math.floor(#ids / 2))
  else
    thread:set("offset", threads * 7919)
  end
  threads = threads + 1
end

offset = 0
local counter = 0

function request()
  local target = path
  if #ids > 0 then
    target = string.gsub(path, "{id}", ids[((offset + counter) % #ids) + 1])
    counter = counter + 1
  end
  return wrk.format(method, target, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "mean_us": %.1f, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(99), latency.max
  ))
end
