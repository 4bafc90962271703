#!/usr/bin/env bash
# Cases (issue 10), on the demo city, loopback only, bounded in time:
#  1. reports per second: POST /incidents at 16 connections with wrk for SECONDS, each placed in its grid, routed,
#     its situation package made and stored, its history, audit row and event written, synced (synchronous =
#     FULL) before its 201; then the store is checked: one case per 201.
#  2. at the same time, an SSE listener on /events measures each `created` event end to end: from the moment
#     the server began placing the report (the event's time) to its arrival at the listener.
#  3. importing N past cases from CSV with geo-cli incident import (grids, routing and lights included).
#   benchmarks/incidents.sh [seconds=10] [N=100000]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
n="${2:-100000}"
if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq wrk >/dev/null
fi
scripts/setup.sh test >/dev/null
swift build -c release --product geo-cli >/dev/null
cli=.build/release/geo-cli
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/demo.sqlite"
$cli demo --no-cases --db "$db" >/dev/null
token=$($cli token create --db "$db" --role dispatcher --name bench 2>/dev/null)
# One token sends the whole load: no per-token rate limit.
$cli serve --db "$db" --port 18491 --log-level warning --rate-limit 0 > "$work/serve.out" &
for _ in $(seq 100); do grep -q serving "$work/serve.out" 2>/dev/null && break; sleep 0.2; done

.venv-test/bin/python benchmarks/sse-latency.py http://127.0.0.1:18491/events "$((secs + 2))" > "$work/sse.out" &
for _ in $(seq 100); do grep -q ready "$work/sse.out" 2>/dev/null && break; sleep 0.1; done
out=$(BENCH_TOKEN="$token" wrk -t2 -c16 -d"${secs}s" -s benchmarks/post-incident.lua http://127.0.0.1:18491)
rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
wait %2 2>/dev/null || true
sse=$(tail -1 "$work/sse.out")
kill %1; wait 2>/dev/null || true
cases=$(sqlite3 "$db" "SELECT count(*) FROM incidents")
numbers=$(sqlite3 "$db" "SELECT count(DISTINCT case_number) FROM incidents")
placed=$(sqlite3 "$db" "SELECT count(*) FROM incidents WHERE grid_code IS NOT NULL")
situations=$(sqlite3 "$db" "SELECT count(*) FROM geogrid_incident_situations")
echo "$out" | grep -E "answered|Latency"
printf "reports at 16 connections: %s durable reports/s (target ≥ 2000: %.2f× it); non-2xx: %s\n" "$rate" "$(echo "$rate / 2000" | bc -l)" "${non2xx:-0}"
printf "store: %d cases (%d case numbers, %d placed in a grid, %d situation packages)\n" "$cases" "$numbers" "$placed" "$situations"
printf "SSE, report to listener, end to end, at that rate: %s (target p99 ≤ 50 ms)\n" "$sse"

echo "generating $n past cases…"
python3 - "$n" "$work/calls.csv" <<'PY'
import random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(5)
cats = ["E0102", "E0504", "fire", "C0105", "gas_leak", "E0301", "C0402"]
stages = ["", "registered", "dispatched", "closed", "closed"]
with open(path, "w") as f:
    f.write("lon,lat,time,category,stage,registered_at,dispatched_at,closed_at\n")
    for i in range(n):
        day, minute = rng.randint(1, 28), rng.randint(0, 1300)
        t = f"2026-11-{day:02d} {minute // 60:02d}:{minute % 60:02d}"
        stage = stages[i % len(stages)]
        reg = f"2026-11-{day:02d} {(minute + 30) // 60:02d}:{(minute + 30) % 60:02d}" if stage else ""
        dis = f"2026-11-{day:02d} {(minute + 60) // 60:02d}:{(minute + 60) % 60:02d}" if stage in ("dispatched", "closed") else ""
        clo = f"2026-11-{min(day + 2, 30):02d} {minute // 60:02d}:{minute % 60:02d}" if stage == "closed" else ""
        f.write(f"{24.9352 + rng.random() * 0.0182:.7f},{60.1642 + rng.random() * 0.0149:.7f},{t},{cats[i % len(cats)]},{stage},{reg},{dis},{clo}\n")
PY
imp="$work/import.sqlite"
$cli demo --no-cases --db "$imp" >/dev/null
start=$(date +%s.%N)
$cli incident import --db "$imp" "$work/calls.csv" 2> "$work/import.err"
end=$(date +%s.%N)
secs_import=$(echo "$end - $start" | bc -l)
tail -1 "$work/import.err"
imported=$(sqlite3 "$imp" "SELECT count(*) FROM incidents")
printf "import of %d past cases: %.2f s, %.0f cases/s (target ≥ 20000: %.2f× it), %d in the store, %d placed in a grid\n" "$n" "$secs_import" \
  "$(echo "$imported / $secs_import" | bc -l)" "$(echo "$imported / $secs_import / 20000" | bc -l)" "$imported" \
  "$(sqlite3 "$imp" "SELECT count(*) FROM incidents WHERE grid_code IS NOT NULL")"
