-- wrk script: rotate through presigned request paths read from a file.
--   wrk ... -s rotate.lua http://127.0.0.1:PORT/ -- PATHS_FILE METHOD BODY_BYTES
-- Each thread starts at a different offset. done() prints one JSON line with counts and latency
-- percentiles (microseconds), which s3bench.py parses.
local paths, n, i, method, body = {}, 0, 0, "GET", nil
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  for line in io.lines(args[1]) do
    n = n + 1
    paths[n] = line
  end
  method = args[2]
  local size = tonumber(args[3])
  if size > 0 then body = string.rep("x", size) end
  i = (id * 7919) % n
end

function request()
  i = i % n + 1
  return wrk.format(method, paths[i], nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors_status":%d,"errors_socket":%d,' ..
    '"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
