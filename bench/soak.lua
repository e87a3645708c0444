-- A mix of requests under load, configured by the environment (bench/soak.py sets it):
--   SOAK_MIX: one request per record, records separated by \30 (RS), fields by
--   \31 (US): method, path (may hold "{id}"), bearer token (may be empty),
--   JSON body (may be empty), ids (comma-separated, cycled through "{id}").
-- Each connection sends the records in turn. done() prints one machine-readable
-- line that bench/soak.py parses: latency over all requests, and answers by status.

local RS, US = "\30", "\31"

-- Empty fields included (LuaJIT's gmatch would skip or double them).
local function split(text, separator)
  local parts, start = {}, 1
  while true do
    local stop = string.find(text, separator, start, true)
    if not stop then
      parts[#parts + 1] = string.sub(text, start)
      return parts
    end
    parts[#parts + 1] = string.sub(text, start, stop - 1)
    start = stop + 1
  end
end

local mix = {}
for _, record in ipairs(split(os.getenv("SOAK_MIX") or "", RS)) do
  local f = split(record, US)
  local entry = { method = f[1], path = f[2], headers = {}, body = nil, ids = {} }
  if f[3] ~= "" then entry.headers["Authorization"] = "Bearer " .. f[3] end
  if f[4] ~= "" then
    entry.body = f[4]
    entry.headers["Content-Type"] = "application/json"
  end
  for id in string.gmatch(f[5] or "", "[^,]+") do entry.ids[#entry.ids + 1] = id end
  mix[#mix + 1] = entry
end

local threads = {}
function setup(thread)
  thread:set("offset", #threads * 7919)
  threads[#threads + 1] = thread
end

offset = 0
statuses = {}
local counter = 0

function request()
  counter = counter + 1
  local entry = mix[(counter % #mix) + 1]
  local target = entry.path
  if #entry.ids > 0 then
    target = string.gsub(target, "{id}", entry.ids[((offset + counter) % #entry.ids) + 1])
  end
  return wrk.format(entry.method, target, entry.headers, entry.body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    parts[#parts + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK_RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(parts, ", ")
  ))
end
