-- wrk script: POST /incidents, one new case at a random point over the demo city per request (a rotating
-- category, fires among them, each with its situation package), with the bearer token in $BENCH_TOKEN; counts
-- the answers that were not 201.
local token = os.getenv("BENCH_TOKEN")
math.randomseed(11)
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local categories = { "E0102", "E0504", "fire", "C0105", "gas_leak", "medical", "E0301" }
local n = 0
request = function()
  n = n + 1
  local lon = 24.9352 + math.random() * 0.0182
  local lat = 60.1642 + math.random() * 0.0149
  local body = string.format('{"lon":%.7f,"lat":%.7f,"category":"%s","title":"bench %d","channel":"hotline"}', lon, lat, categories[n % #categories + 1], n)
  return wrk.format("POST", "/incidents", headers, body)
end
local refused = 0
response = function(status, headers, body)
  if status ~= 201 then refused = refused + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("answered %d, p50 %.1f ms, p99 %.1f ms\n", summary.requests, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
