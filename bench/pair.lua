-- wrk script for bench/pair: GET $REQUEST_PATH with the bearer tokens in the file $TOKENS,
-- one per line, taken in turn.
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
