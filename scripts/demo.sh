#!/usr/bin/env bash
# The README's first command: install what is missing, build, load the demo city into the embedded store
# (var/demo.sqlite), and serve it on http://127.0.0.1:8080/ until Ctrl-C.
#   GEOGRID_DB=path      another store file            GEOGRID_HOST / GEOGRID_PORT   where to listen
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
echo "demo: building geo-cli (release; the first build takes several minutes)"
swift build -c release --product geo-cli
store="${GEOGRID_DB:-var/demo.sqlite}"
host="${GEOGRID_HOST:-127.0.0.1}"
port="${GEOGRID_PORT:-8080}"
.build/release/geo-cli demo --db "$store"
.build/release/geo-cli info --db "$store"
# Tokens for trying the edits at once (the store keeps only their hashes; these lines are the only copy).
dispatcher=$(.build/release/geo-cli token create --db "$store" --role dispatcher --name "demo dispatcher" 2>/dev/null)
planner=$(.build/release/geo-cli token create --db "$store" --role planner --name "demo planner" 2>/dev/null)
worker=$(.build/release/geo-cli token create --db "$store" --role grid_worker --scope 910091004001004 --name "demo grid worker (Kluuvi 04)" 2>/dev/null)
cat <<MSG

The console: http://$host:$port/console   (?lang=zh-CN for Chinese; sign in with a token below)
The map:   http://$host:$port/map   (click a point: its grid and worker, nearest resources, surroundings)
Tiles:     http://$host:$port/tiles/grids,buildings,roads,resources.json (TileJSON), http://$host:$port/style.json
Open $store in QGIS (Layer > Add Layer > Add SpatiaLite Layer) or with: ogrinfo $store
Ask the server, for example:
  curl 'http://$host:$port/locate?lon=24.9445&lat=60.1700'
  curl 'http://$host:$port/nearest?lon=24.9445&lat=60.1700&type=hydrant&k=3'
  curl 'http://$host:$port/around?lon=24.9445&lat=60.1700&radius=150'

Tokens for this demo store (shown once; make more with geo-cli token create):
  dispatcher: $dispatcher
  planner:    $planner
  grid worker of 910091004001004 (the console on a phone): $worker
Edit with them (OGC API Features Part 4), for example take resource 1 out of service as the dispatcher:
  curl -X PATCH -H 'Authorization: Bearer $dispatcher' -H 'Content-Type: application/merge-patch+json' \\
       -d '{"properties":{"status":"out_of_service"}}' http://$host:$port/collections/resources/items/1
or add a building as the planner (POST a GeoJSON Feature to /collections/buildings/items); geo-cli audit --db $store lists every write.

Cases (the demo holds a week of them; the map lists the open ones by light, live):
  curl -X POST -H 'Authorization: Bearer $dispatcher' -H 'Content-Type: application/json' \\
       -d '{"lon":24.9445,"lat":60.1700,"category":"fire","floor":3,"title":"smoke in the stairwell"}' http://$host:$port/incidents
  curl 'http://$host:$port/incidents?light=red'     curl 'http://$host:$port/incidents/overdue?by=department'
  curl -N 'http://$host:$port/events'               curl 'http://$host:$port/open311/v2/services.json'
MSG
exec .build/release/geo-cli serve --db "$store" --host "$host" --port "$port"
