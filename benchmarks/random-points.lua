-- wrk script: GET $BENCH_PATH?lon=…&lat=…[&$BENCH_QUERY] with random points over the demo city (seeded).
local path = os.getenv("BENCH_PATH") or "/locate"
local extra = os.getenv("BENCH_QUERY") or ""
math.randomseed(42)
request = function()
  local lon = 24.9352 + math.random() * 0.0182
  local lat = 60.1642 + math.random() * 0.0149
  local q = string.format("%s?lon=%.7f&lat=%.7f", path, lon, lat)
  if extra ~= "" then q = q .. "&" .. extra end
  return wrk.format("GET", q)
end
