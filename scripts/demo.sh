#!/usr/bin/env bash
# The README's first command: install what is missing, build, and load the demo city into the
# embedded store (var/demo.sqlite), then show what is in it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
swift build -c release --product geo-cli
store="${GEOGRID_DB:-var/demo.sqlite}"
.build/release/geo-cli demo --db "$store"
.build/release/geo-cli info --db "$store"
echo
echo "Open $store in QGIS (Layer > Add Layer > Add SpatiaLite Layer) or with: ogrinfo $store"
