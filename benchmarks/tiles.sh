#!/usr/bin/env bash
# Uncached vector tiles (issue 4): every z14 tile over N synthetic buildings (default 200,000, the import
# benchmark's generator: a 20 x 20 km city), encoded by
#   GeoGrid  geo-cli serve with its tile cache off, fetched over one keep-alive connection on loopback;
#   PostGIS  ST_AsMVT(ST_AsMVTGeom(...)) over a GiST index, the same properties, extent and buffer, run in one
#            psql session (no HTTP at all: PostGIS's share of a pg_tileserv/Martin request);
# in the same run. Prints tiles/s, ms per tile, and PostGIS's time over GeoGrid's (target ≥ 5).
# Needs Debian's postgresql-15-postgis-3 (installed when missing).  benchmarks/tiles.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200000}"
. benchmarks/postgis.sh
pg_install
swift build -c release --product geo-cli >/dev/null
cli="$PWD/.build/release/geo-cli"
work="$(mktemp -d /tmp/geogrid-tiles.XXXXXX)"
chmod 755 "$work"
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  pg_stop "$work"
  rm -rf "$work"
}
trap cleanup EXIT

python3 benchmarks/make-buildings.py "$n" "$work/buildings.ndjson"
chmod 644 "$work/buildings.ndjson"
"$cli" init --db "$work/g.sqlite" >/dev/null
"$cli" import --db "$work/g.sqlite" --layer buildings --format geojsonseq "$work/buildings.ndjson" >/dev/null 2>&1

pg_start "$work"
pg_load_buildings "$work" "$work/buildings.ndjson"
pg_sql "VACUUM ANALYZE buildings"
pg() { su postgres -c "psql -h $work/pg -q -v ON_ERROR_STOP=1 -d postgres $*"; }

# The z14 tiles over the data's extent.
python3 - "$work" <<'PY'
import math, sys
work = sys.argv[1]
def tile(lon, lat, z=14):
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
x0, y1 = tile(24.80, 60.10); x1, y0 = tile(24.80 + 20000 / (111320 * math.cos(math.radians(60.2))), 60.10 + 20000 / 110574)
tiles = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
open(f"{work}/tiles.txt", "w").write("".join(f"14/{x}/{y}\n" for x, y in tiles))
with open(f"{work}/tiles.sql", "w") as f:
    for x, y in tiles:
        f.write(f"SELECT length(ST_AsMVT(t, 'buildings', 4096, 'geom', 'id')) FROM (SELECT b.id, b.name, b.floors, b.households, b.population, b.grid_code, "
                f"ST_AsMVTGeom(ST_Transform(b.geom, 3857), ST_TileEnvelope(14, {x}, {y}), 4096, 64, true) AS geom FROM buildings b "
                f"WHERE b.geom && ST_Transform(ST_TileEnvelope(14, {x}, {y}, margin => 64.0 / 4096), 4326)) AS t;\n")
PY
tiles=$(wc -l < "$work/tiles.txt")
chmod 644 "$work"/tiles.*

"$cli" serve --db "$work/g.sqlite" --port 18490 --tile-cache-mib 0 --log-level warning > "$work/serve.out" &
for _ in $(seq 200); do grep -q serving "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
fetch() {
  python3 - "$work/tiles.txt" <<'PY'
import http.client, sys, time
tiles = open(sys.argv[1]).read().split()
c = http.client.HTTPConnection("127.0.0.1", 18490)
t0, total = time.time(), 0
for t in tiles:
    c.request("GET", f"/tiles/buildings/{t}.mvt")
    r = c.getresponse(); total += len(r.read())
    assert r.status in (200, 204), r.status
print(f"{time.time() - t0:.3f} {total}")
PY
}
fetch >/dev/null  # warm: the store's pages in the OS cache, as PostGIS's after its load
read -r ours bytes_ours < <(fetch)
t0=$(date +%s.%N)
pg -At -f "$work/tiles.sql" > "$work/pg.out"
t1=$(date +%s.%N)
theirs=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
bytes_pg=$(paste -sd+ "$work/pg.out" | bc)
python3 - "$tiles" "$ours" "$theirs" "$bytes_ours" "$bytes_pg" "$n" <<'PY'
import sys
tiles, ours, theirs, bo, bp, n = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print(f"{tiles} z14 building tiles over {n:,} buildings, uncached, one connection")
print(f"{'':10} {'seconds':>8} {'tiles/s':>9} {'ms/tile':>8} {'MB':>7}")
print(f"{'GeoGrid':10} {ours:8.2f} {tiles / ours:9.0f} {1000 * ours / tiles:8.2f} {bo / 1e6:7.1f}   (HTTP included)")
print(f"{'PostGIS':10} {theirs:8.2f} {tiles / theirs:9.0f} {1000 * theirs / tiles:8.2f} {bp / 1e6:7.1f}   (SQL only)")
print(f"PostGIS time / GeoGrid time: {theirs / ours:.1f} (target ≥ 5)")
PY
