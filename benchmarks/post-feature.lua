-- wrk script: POST one new hydrant (a GeoJSON Feature) at a random point over the demo city per request, with
-- the bearer token in $BENCH_TOKEN.
local token = os.getenv("BENCH_TOKEN")
math.randomseed(7)
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/geo+json" }
request = function()
  local lon = 24.9352 + math.random() * 0.0182
  local lat = 60.1642 + math.random() * 0.0149
  local body = string.format('{"type":"Feature","properties":{"type":"hydrant","name":"bench","FLOW":%d},"geometry":{"type":"Point","coordinates":[%.7f,%.7f]}}',
    math.random(500, 1500), lon, lat)
  return wrk.format("POST", "/collections/resources/items", headers, body)
end
dofile("benchmarks/answers.lua")
