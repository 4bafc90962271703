#!/usr/bin/env bash
# Installs the Debian packages GeoGrid needs that this machine lacks, and nothing else.
#   scripts/setup.sh run    the C libraries the build and the store need
#   scripts/setup.sh test   those, plus the independent oracles and clients the tests use (GDAL, QGIS, osmium,
#                           shapely, pyproj, curl, headless Chromium and its driver)
set -euo pipefail
cd "$(dirname "$0")/.."

run_packages=(pkg-config libsqlite3-dev libspatialite-dev libsqlite3-mod-spatialite libgeos-dev libproj-dev zlib1g-dev
  curl ca-certificates python3 python3-pil python3-numpy fonts-dejavu-core)
test_packages=(gdal-bin osmium-tool python3 python3-shapely python3-pyproj python3-venv curl sqlite3 python3-qgis qgis-providers
  chromium chromium-driver fonts-noto-cjk)

case "${1:-run}" in
  run) wanted=("${run_packages[@]}") ;;
  test) wanted=("${run_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: scripts/setup.sh [run|test]" >&2; exit 2 ;;
esac

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (6.0 or later) is not on PATH; install it from swift.org first" >&2
  exit 1
fi

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# MapLibre GL JS for the demo map, from PyPI, and label glyphs from DejaVu Sans (both modes: the tests check
# the map page and the glyphs too).
scripts/fetch-maplibre.sh
if [ ! -s "var/glyphs/DejaVu Sans Bold/0-255.pbf" ] || [ scripts/make-glyphs.py -nt "var/glyphs/DejaVu Sans Bold/0-255.pbf" ]; then
  echo "setup: making label glyphs into var/glyphs"
  /usr/bin/python3 scripts/make-glyphs.py var/glyphs >/dev/null
fi

# Test clients from PyPI, in a virtual environment of their own that git ignores: mapbox-vector-tile decodes
# our tiles independently of our encoder; openapi-spec-validator checks our OpenAPI document; cql2 (cql2-rs)
# parses and evaluates CQL2 filters as an oracle; OWSLib is an OGC API Features Part 4 client; georeport is an
# Open311 GeoReport v2 client (with xmltodict for its XML); sseclient-py reads Server-Sent Events; selenium drives
# Debian's headless Chromium (through /usr/bin/chromedriver: nothing is downloaded) for the console's tests.
if [ "${1:-run}" = test ]; then
  venv=.venv-test
  if ! "$venv/bin/python" -c "import mapbox_vector_tile, openapi_spec_validator, cql2, owslib, georeport, sseclient, selenium, schemathesis" >/dev/null 2>&1; then
    echo "setup: installing the test clients (mapbox-vector-tile, openapi-spec-validator, cql2, OWSLib, georeport, sseclient-py, selenium, schemathesis) into $venv"
    [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "mapbox-vector-tile==2.2.0" "openapi-spec-validator==0.7.1" \
      "cql2==0.6.0" "OWSLib==0.35.0" "georeport==0.3.1" "sseclient-py==1.8.0" "selenium==4.27.1" \
      "schemathesis==4.32.5"
  fi
fi
