#!/usr/bin/env bash
# Import speed: N building polygons from newline-delimited GeoJSON, loaded and spatially indexed, by
#   GeoGrid     geo-cli import (validation included: structure, ranges, GEOS validity, fields)
#   SpatiaLite  its own loader, ImportGeoJSON() with a spatial index, on the same features as one FeatureCollection
#   PostGIS     COPY of the same file into a jsonb staging table, INSERT … ST_GeomFromGeoJSON, CREATE INDEX (GiST)
# all on this machine in the same run. Prints seconds, features/s and each peer's time over GeoGrid's,
# and the time and peak memory of exporting the layer again (streamed: flat memory).
# Needs: scripts/setup.sh run, plus Debian's postgresql-15-postgis-3 (installed here when missing).
#   benchmarks/import.sh [N]        (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
scripts/setup.sh run
. benchmarks/postgis.sh
pg_install
swift build -c release --product geo-cli >/dev/null
cli="$PWD/.build/release/geo-cli"

work="$(mktemp -d /tmp/geogrid-bench.XXXXXX)"
chmod 755 "$work"
cleanup() {
  pg_stop "$work"
  rm -rf "$work"
}
trap cleanup EXIT

echo "generating $n buildings…"
python3 benchmarks/make-buildings.py "$n" "$work/buildings.ndjson"
(echo '{"type":"FeatureCollection","features":['; sed '$!s/$/,/' "$work/buildings.ndjson"; echo ']}') > "$work/buildings.geojson"
chmod 644 "$work"/buildings.*
echo "file: $(du -h "$work/buildings.ndjson" | cut -f1)"

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

# GeoGrid
"$cli" init --db "$work/geogrid.sqlite" >/dev/null
t0=$(now)
/usr/bin/time -f "%M" -o "$work/rss" "$cli" import --db "$work/geogrid.sqlite" --layer buildings "$work/buildings.ndjson" 2>/dev/null
t1=$(now)
ours=$(elapsed "$t0" "$t1")
rss_mb=$(( $(cat "$work/rss") / 1024 ))
# Export streams: its memory must stay flat whatever the layer's size.
t0=$(now)
/usr/bin/time -f "%M" -o "$work/rss-export" "$cli" export --db "$work/geogrid.sqlite" --layer buildings --format geojsonseq -o "$work/export.ndjson" 2>/dev/null
t1=$(now)
export_s=$(elapsed "$t0" "$t1")
export_mb=$(( $(cat "$work/rss-export") / 1024 ))
[ "$(wc -l < "$work/export.ndjson")" -eq "$n" ] || { echo "export wrote a different count" >&2; exit 1; }
rm -f "$work/export.ndjson"

# SpatiaLite's own loader
sqlite3 "$work/spatialite.sqlite" "SELECT load_extension('mod_spatialite'); SELECT InitSpatialMetadata(1);" >/dev/null
t0=$(now)
SPATIALITE_SECURITY=relaxed sqlite3 "$work/spatialite.sqlite" \
  "SELECT load_extension('mod_spatialite'); SELECT ImportGeoJSON('$work/buildings.geojson', 'buildings', 'geom', 1, 4326, 'LOWER');" >/dev/null
t1=$(now)
spatialite=$(elapsed "$t0" "$t1")
[ "$(sqlite3 "$work/spatialite.sqlite" "SELECT count(*) FROM buildings")" = "$n" ] || { echo "SpatiaLite loaded a different count" >&2; exit 1; }

# PostGIS: a private cluster listening on a Unix socket only.
pg_start "$work" "-c max_wal_size=4GB -c maintenance_work_mem=1GB"
PG_WORK="$work" pg_sql "CREATE EXTENSION postgis"
t0=$(now)
pg_load_buildings "$work" "$work/buildings.ndjson"
t1=$(now)
postgis=$(elapsed "$t0" "$t1")

python3 - "$n" "$ours" "$spatialite" "$postgis" "$rss_mb" "$export_s" "$export_mb" <<'PY'
import sys
n, ours, sl, pg, rss, ex, ex_mb = int(sys.argv[1]), *map(float, sys.argv[2:5]), sys.argv[5], float(sys.argv[6]), sys.argv[7]
print(f"\nimport of {n:,} building polygons (NDJSON), loaded and indexed")
print(f"{'':12}{'seconds':>10}{'features/s':>14}{'× GeoGrid time':>17}")
for name, t in (("GeoGrid", ours), ("SpatiaLite", sl), ("PostGIS", pg)):
    print(f"{name:12}{t:>10.2f}{n / t:>14,.0f}{t / ours:>17.2f}")
print(f"GeoGrid peak memory: {rss} MB (the input file is memory-mapped); GeoGrid validates every feature (GEOS), the peers do not")
print(f"export of the same {n:,} features to NDJSON: {ex:.2f} s, peak memory {ex_mb} MB")
PY
