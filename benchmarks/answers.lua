-- Shared by the wrk scripts that POST (dofile'd from the repository root, where the benchmarks run wrk): counts
-- the answers that were not 201 and prints the count with the latency percentiles.
local refused = 0
response = function(status, headers, body)
  if status ~= 201 then refused = refused + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("answered %d, p50 %.1f ms, p99 %.1f ms, not 201: %d\n", summary.requests, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, refused))
end
