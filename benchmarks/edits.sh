#!/usr/bin/env bash
# Committed edits per second (issue 9): single-feature POSTs of a hydrant to /collections/resources/items at 16
# connections on loopback with wrk, each validated, indexed, audited and synced (synchronous = FULL) before its
# 201. Then the store is checked: the rows and audit entries added equal the 201s wrk counted. Loopback only,
# bounded in time.
#   benchmarks/edits.sh [seconds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq wrk >/dev/null
fi
swift build -c release --product geo-cli >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/demo.sqlite"
.build/release/geo-cli demo --no-cases --db "$db" >/dev/null
token=$(.build/release/geo-cli token create --db "$db" --role admin --name bench 2>/dev/null)
# One token sends the whole load: no per-token rate limit.
.build/release/geo-cli serve --db "$db" --port 18490 --log-level warning --rate-limit 0 > "$work/serve.out" &
for _ in $(seq 100); do grep -q serving "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
before=$(sqlite3 "$db" "SELECT count(*) FROM resources")
out=$(BENCH_TOKEN="$token" wrk -t2 -c16 -d"${secs}s" -s benchmarks/post-feature.lua http://127.0.0.1:18490)
rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
kill %1; wait 2>/dev/null || true
after=$(sqlite3 "$db" "SELECT count(*) FROM resources")
audited=$(sqlite3 "$db" "SELECT count(*) FROM geogrid_audit WHERE operation = 'create'")
echo "$out" | grep -E "answered|Latency"
printf "single-feature POSTs at 16 connections: %s committed edits/s (target ≥ 1000); non-2xx: %s\n" "$rate" "${non2xx:-0}"
printf "store: %d rows added, %d audited creates\n" "$((after - before))" "$audited"
