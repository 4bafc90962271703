-- wrk script: POST /incidents, one new case at a random point over the demo city per request (a rotating
-- category, fires among them, each with its situation package), with the bearer token in $BENCH_TOKEN.
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
dofile("benchmarks/answers.lua")
