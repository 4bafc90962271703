#!/usr/bin/env bash
# HTTP throughput on loopback with wrk (issue 4), GeoGrid and Hummingbird's own static-bytes ceiling measured in
# the same run, 2 threads of wrk, 10 s per measure (bounded in time; loopback only):
#   - cached tiles (a z14 tile of grids and buildings, after one request) against static bytes of the same size;
#   - /locate and /nearest (k=5) at random points over the demo city against the same static ceiling.
#   benchmarks/http.sh [seconds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq wrk >/dev/null
fi
swift build -c release --product geo-cli >/dev/null
swift build -c release --product bench-static-server >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
.build/release/geo-cli demo --db "$work/demo.sqlite" >/dev/null
.build/release/geo-cli serve --db "$work/demo.sqlite" --port 18480 --log-level warning > "$work/serve.out" &
for _ in $(seq 100); do grep -q serving "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
base=http://127.0.0.1:18480
tile="$base/tiles/grids,buildings/14/9327/4742.mvt"
size=$(curl -s "$tile" | wc -c)
.build/release/bench-static-server 18481 "$size" &
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18481/static && break; sleep 0.2; done

rate() { wrk -t2 -c"$1" -d"${secs}s" "${@:2}" | awk '/Requests\/sec/ {print $2}'; }
printf "%-34s %14s %14s %8s\n" "measure (connections)" "GeoGrid req/s" "static req/s" "ratio"
for c in 4 16; do
  ours=$(rate "$c" "$tile"); ceiling=$(rate "$c" http://127.0.0.1:18481/static)
  printf "%-34s %14s %14s %7.0f%%\n" "cached tile, $size bytes ($c)" "$ours" "$ceiling" "$(echo "100 * $ours / $ceiling" | bc -l)"
done
ceiling=$(rate 16 http://127.0.0.1:18481/static)
for route in locate nearest; do
  extra=""; [ "$route" = nearest ] && extra="k=5"
  ours=$(BENCH_PATH=/$route BENCH_QUERY=$extra rate 16 -s benchmarks/random-points.lua "$base")
  printf "%-34s %14s %14s %7.0f%%\n" "/$route, random points (16)" "$ours" "$ceiling" "$(echo "100 * $ours / $ceiling" | bc -l)"
done
echo "(targets: cached tiles ≥ 50% of the static ceiling; locate/nearest ≥ 25% of it at 16 connections)"
