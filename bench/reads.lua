-- wrk script for the benchmark's reads and bench/pair: GET $REQUEST_PATH with the bearer tokens
-- in the file $TOKENS, one per line, taken in turn. At the end it prints one line of JSON with
-- the figures the benchmark records (times in microseconds).
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do
  tokens[#tokens + 1] = line
end
local path = os.getenv("REQUEST_PATH")
local sent = 0

request = function()
  sent = sent + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[sent % #tokens + 1] })
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'wrk-json {"requests":%d,"failed":%d,"status_errors":%d,"seconds":%.6f,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.max))
end
