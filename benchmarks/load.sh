#!/usr/bin/env bash
# Mixed load with a pass/fail summary (issue 13): SECONDS of tiles, CQL2 items, locate, nearest, around, case
# reports and transitions, and Part 4 edits at 64 keep-alive connections on loopback, against the release
# geo-cli serving the demo city with PAST cases of history imported first. Prints p50/p99/max per route, and
# PASS/FAIL for zero errors, resident memory flat (under 5% growth over the second half), and the store
# consistent afterwards (checked with Python's sqlite3). Exits 1 on a FAIL. Loopback only, bounded in time.
#   benchmarks/load.sh [seconds=60] [past=100000]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
past="${2:-100000}"
swift build -c release --product geo-cli >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benchmarks/mixed-load.py .build/release/geo-cli "$work" --seconds "$secs" --past-cases "$past"
