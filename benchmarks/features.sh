#!/usr/bin/env bash
# OGC API Features reads against peers (issue 9), the same 200,000 synthetic buildings in each, wrk at 4
# connections (2 threads), measured in one run, loopback only, bounded in time:
#   - a CQL2 filter (a comparison and an S_INTERSECTS with a box of about 1 km²), a page of 100: GeoGrid against
#     tipg (PyPI) over PostGIS holding the same buildings;
#   - items pages of 100 (without and with bbox) and single items: GeoGrid against pygeoapi (PyPI) serving the
#     same SpatiaLite file with its SQLiteGPKG provider under gunicorn with 2 workers.
#   benchmarks/features.sh [seconds=10] [buildings=200000]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"; n="${2:-200000}"
source benchmarks/postgis.sh
pg_install
if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq wrk >/dev/null
fi
# The peers, in a virtual environment of Debian's Python (it loads mod_spatialite, which pygeoapi needs).
venv=.venv-bench
if ! "$venv/bin/python" -c "import tipg, pygeoapi, uvicorn, gunicorn" >/dev/null 2>&1; then
  rm -rf "$venv"; /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "tipg==1.6.1" "uvicorn==0.54.0" "pygeoapi==0.21.0" "gunicorn==27.0.1"
fi
swift build -c release --product geo-cli >/dev/null
work=$(mktemp -d); chmod 755 "$work"
trap 'kill $(jobs -p) 2>/dev/null || true; pg_stop "$work"; rm -rf "$work"' EXIT

/usr/bin/python3 benchmarks/make-buildings.py "$n" "$work/buildings.ndjson"
db="$work/city.sqlite"
.build/release/geo-cli init --db "$db" >/dev/null
.build/release/geo-cli import --db "$db" --layer buildings "$work/buildings.ndjson" 2>/dev/null
# tipg connects over TCP only: this cluster also listens on 127.0.0.1, on a port of its own (psql follows PGPORT).
export PGPORT=18494
pg_start "$work" "-c listen_addresses=127.0.0.1 -c port=$PGPORT"
pg_load_buildings "$work" "$work/buildings.ndjson"

.build/release/geo-cli serve --db "$db" --port 18491 --log-level warning > "$work/serve.out" &
DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres" TIPG_DB_SCHEMAS='["public"]' \
  "$venv/bin/uvicorn" tipg.main:app --host 127.0.0.1 --port 18492 --log-level warning > "$work/tipg.out" 2>&1 &
cat > "$work/pygeoapi.yml" <<YML
server:
  bind: {host: 127.0.0.1, port: 18493}
  url: http://127.0.0.1:18493
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {default_items: 10, max_items: 10000}
  map: {url: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', attribution: OSM}
logging: {level: ERROR}
metadata:
  identification: {title: bench, description: bench, keywords: [bench], keywords_type: theme, terms_of_service: none, url: 'http://127.0.0.1'}
  license: {name: none, url: 'http://127.0.0.1'}
  provider: {name: bench, url: 'http://127.0.0.1'}
  contact: {name: bench}
resources:
  buildings:
    type: collection
    title: Buildings
    description: Buildings
    keywords: [buildings]
    extents: {spatial: {bbox: [-180, -90, 180, 90], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}
    providers:
      - {type: feature, name: SQLiteGPKG, data: $db, id_field: id, table: buildings}
YML
"$venv/bin/pygeoapi" openapi generate "$work/pygeoapi.yml" --output-file "$work/openapi.yml" >/dev/null 2>&1
PYGEOAPI_CONFIG="$work/pygeoapi.yml" PYGEOAPI_OPENAPI="$work/openapi.yml" \
  "$venv/bin/gunicorn" -w 2 -b 127.0.0.1:18493 --chdir "$work" pygeoapi.flask_app:APP > "$work/pygeoapi.out" 2>&1 &
wait_for() { for _ in $(seq 150); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "no answer from $1" >&2; cat "$work"/*.out >&2; exit 1; }
wait_for http://127.0.0.1:18491/health
wait_for http://127.0.0.1:18492/collections
wait_for "http://127.0.0.1:18493/collections/buildings/items?limit=1&f=json"

rate() { wrk -t2 -c4 -d"${secs}s" "$1" | awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "non-2xx: " $NF > "/dev/stderr"}'; }
enc() { /usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
# A box of about 1 km² in the city's middle, and every building of more than 5 floors in it.
box="24.97,60.18,24.988,60.189"
ours_filter=$(enc "floors > 5 AND S_INTERSECTS(geometry, BBOX($box))")
# tipg gives a BBOX literal SRID 0, which PostGIS will not compare with 4326: the same box as a polygon.
IFS=, read -r x0 y0 x1 y1 <<< "$box"
tipg_filter="$(enc "floors > 5 AND S_INTERSECTS(geom, POLYGON(($x0 $y0, $x1 $y0, $x1 $y1, $x0 $y1, $x0 $y0)))")"
g=http://127.0.0.1:18491/collections/buildings; t=http://127.0.0.1:18492/collections/public.buildings; p=http://127.0.0.1:18493/collections/buildings
# The answers agree before they are timed: the same number of buildings match.
m1=$(curl -s "$g/items?filter=$ours_filter&limit=100" | /usr/bin/python3 -c 'import json,sys; d = json.load(sys.stdin); print(d.get("numberMatched", str(d)[:300]))')
m2=$(curl -s "$t/items?filter=$tipg_filter&limit=100" | /usr/bin/python3 -c 'import json,sys; d = json.load(sys.stdin); print(d.get("numberMatched", str(d)[:300]))')
echo "CQL2 filter matches: GeoGrid $m1, tipg $m2"
[ "$m1" = "$m2" ] || { echo "the two answers differ: not timed" >&2; exit 1; }
printf "%-44s %12s %12s %8s\n" "measure (4 connections)" "GeoGrid/s" "peer/s" "ratio"
row() { ours=$(rate "$2"); peer=$(rate "$3"); printf "%-44s %12s %12s %7.1fx\n" "$1" "$ours" "$peer" "$(echo "$ours / $peer" | bc -l)"; }
row "CQL2 filter, page of 100 (tipg)" "$g/items?filter=$ours_filter&limit=100" "$t/items?filter=$tipg_filter&limit=100"
row "items page of 100 (pygeoapi)" "$g/items?limit=100" "$p/items?limit=100&f=json"
row "items page of 100 with bbox (pygeoapi)" "$g/items?limit=100&bbox=$box" "$p/items?limit=100&bbox=$box&f=json"
row "single item (pygeoapi)" "$g/items/4242" "$p/items/4242?f=json"
echo "(targets: ≥ 10× tipg for the CQL2 filter; ≥ 10× pygeoapi for pages and single items)"
