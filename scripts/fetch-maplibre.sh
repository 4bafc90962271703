#!/usr/bin/env bash
# Fetches MapLibre GL JS for the demo map (GET /map) from the PyPI package `maplibre` (its srcjs/maplibre-gl.js
# and .css), checked against the wheel's published SHA-256, into var/maplibre/ (git ignores var/). No CDN is
# used at run time. MapLibre GL JS is BSD-3-Clause (its licence is kept beside the files).
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.3.6
url=https://files.pythonhosted.org/packages/cd/e8/d0e506ebf78554e6d6670101ccb562448fd959d70527a11cb380f6c3de77/maplibre-$version-py3-none-any.whl
sha256=eeafab617d4a1b71c0c174c71405f67c4b4e494fe1b27968d4d2359bc160e277
dest=var/maplibre
if [ -s "$dest/maplibre-gl.js" ] && [ -s "$dest/maplibre-gl.css" ] && grep -qx "$version" "$dest/VERSION" 2>/dev/null; then
  exit 0
fi
echo "setup: fetching MapLibre GL JS (PyPI maplibre $version) into $dest"
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 3 -o "$tmp/maplibre.whl" "$url"
echo "$sha256  $tmp/maplibre.whl" | sha256sum -c --quiet -
python3 - "$tmp/maplibre.whl" "$dest" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in ("maplibre-gl.js", "maplibre-gl.css"):
        with open(f"{dest}/{name}", "wb") as out:
            out.write(z.read(f"maplibre/srcjs/{name}"))
    licences = [n for n in z.namelist() if n.upper().endswith(("LICENSE", "LICENSE.TXT", "LICENSE.MD"))]
    for n in licences[:1]:
        open(f"{dest}/LICENSE-maplibre-python", "wb").write(z.read(n))
PY
echo "$version" > "$dest/VERSION"
