#!/usr/bin/env python3
"""Makes the seed corpora of the fuzz targets (Fuzz/Corpus/<target>/), from the test fixtures and independent
tools, so each target starts from inputs that reach deep into its parser:

- geojson: every file of the invalid-GeoJSON sets and geojsonhint (Tests/Fixtures, MIT / ISC), and the same
  features as GeoJSON text sequences.
- wkt: the WKT of a few JTS test files (Tests/Fixtures/jts-testxml and ../shared, EDL-1.0), kept under 2 KB.
- spatialite-blob: those geometries as SpatiaLite itself writes them (sqlite3 + mod_spatialite GeomFromText),
  the one independent writer of the format here.
- csv: lon/lat and WKT files written here, untidy ones included (quotes, CRLF, BOM, semicolons).
- cql2: the filters CQL2Tests checks against SpatiaLite, and their CQL2 JSON from PyPI `cql2`.
- query: query strings of the routes' parameters, good and bad.

Run from the repository root with the test venv's Python (`.venv-test/bin/python Fuzz/make-corpus.py`). The
output is committed; libFuzzer adds what it finds to a scratch copy, not to these folders.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fuzz", "Corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def geojson():
    files = sorted(glob.glob(os.path.join(ROOT, "Tests/Fixtures/geojson-invalid-geometry/**/*.geojson"), recursive=True)
                   + glob.glob(os.path.join(ROOT, "Tests/Fixtures/geojsonhint/**/*.geojson"), recursive=True))
    for path in files:
        data = open(path, "rb").read()
        if len(data) > 16384:
            continue
        put("geojson", data)
        try:
            doc = json.loads(data)
        except ValueError:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("features"), list):
            put("geojson", "".join("\x1e" + json.dumps(f) + "\n" for f in doc["features"]))


def wkt_strings():
    paths = [os.path.join(ROOT, "Tests/Fixtures/jts-testxml/TestPreparedPointPredicate.xml")]
    shared = os.path.join(ROOT, "..", "shared", "fixtures", "jts-testxml", "general")
    for name in ["TestRelateAA.xml", "TestRelateLL.xml", "TestRelatePA.xml", "TestValid.xml", "TestOverlayEmpty.xml", "TestSimple.xml"]:
        if os.path.exists(os.path.join(shared, name)):
            paths.append(os.path.join(shared, name))
    seen = []
    for path in paths:
        text = open(path, encoding="utf-8").read()
        for m in re.finditer(r"<(?:a|b)[^>]*>\s*([A-Z][A-Z ]*\(.*?\)|[A-Z]+ EMPTY)\s*</(?:a|b)>", text, re.S):
            w = " ".join(m.group(1).split())
            if len(w) < 2048 and w not in seen:
                seen.append(w)
    return seen[:160]


def wkt_and_blobs(wkts):
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension("mod_spatialite")
    for w in wkts + ["SRID=4326;POINT(24.94 60.17)", "POINT EMPTY", "POLYGON((0 0,1 0,1 1,0 0),(0.2 0.2,0.3 0.2,0.3 0.3,0.2 0.2))"]:
        put("wkt", w)
        try:
            (blob,) = db.execute("SELECT GeomFromText(?, 4326)", (w.split(";")[-1],)).fetchone()
        except sqlite3.Error:
            continue
        if blob is not None:
            put("spatialite-blob", bytes(blob))


def csv():
    rows = [
        "id,name,lon,lat\n1,Kallio,24.95,60.18\n2,\"Töölö, north\",24.92,60.19\n",
        "name;lon;lat\r\nA;24.9;60.1\r\nB;24.91;60.11\r\n",
        "\ufeffwkt,name\n\"POINT(24.94 60.17)\",a\n\"LINESTRING(24.9 60.1, 24.95 60.15)\",\"b \"\"quoted\"\"\"\n",
        "geometry,kind\n\"POLYGON((24.9 60.1,24.95 60.1,24.95 60.15,24.9 60.1))\",area\n\"MULTIPOINT((1 2),(3 4))\",x\n",
        "x,y,floors\n24.9,60.1,5\n,,\n24.9,abc,3\n",
        "lat,lon\n60.1,24.9\n60.2\n",
        "longitude,latitude,note\n24.9,60.1,\"multi\nline\"\n",
    ]
    for r in rows:
        put("csv", r)
    for w in wkt_strings()[:30]:
        put("csv", 'wkt,name\n"%s",jts\n' % w.replace('"', '""'))


def cql2():
    src = open(os.path.join(ROOT, "Tests/CLITests/CQL2Tests.swift"), encoding="utf-8").read()
    body = src[src.index("static let corpus"):src.index("    ]\n", src.index("static let corpus"))]
    filters = [json.loads('"' + m + '"') for m in re.findall(r'"((?:[^"\\]|\\.)*)"', body) if not m.isidentifier()]
    filters += ["stage = 'dispatched'", "FLOW >= 1000", "name = 'O''Brien'", "A_CONTAINS(tags, ('a','b'))", "floors + 1 > 2",
                "CASEI(name) = casei('KALLIO')", "floors > -5.5e1", "S_INTERSECTS(geometry, ENVELOPE(24.9, 60.1, 24.95, 60.2))"]
    try:
        import cql2 as c
    except ImportError:
        c = None
    for f in filters:
        put("cql2", f)
        if c is not None:
            try:
                put("cql2", json.dumps(c.parse_text(f).to_json()))
            except Exception:
                pass


def query():
    for q in ["lon=24.94&lat=60.17&radius=500&type=hydrant,fire_station&k=5", "lon=24.94&lat=60.17&crs=gcj02", "lon=200&lat=x",
              "bbox=24.9,60.1,24.95,60.2&limit=10&offset=20", "bbox=24.95,60.2,24.9,60.1", "bbox=1,2,3", "bbox=1,,2,3,4",
              "datetime=2026-01-01/2026-12-31", "datetime=../2026-06-01T12:00:00Z", "datetime=2026-12-31/2026-01-01", "datetime=a/b/c",
              "stage=dispatched,handling&light=red&open=true&since=2026-11-01&until=2026-11-30T23:59:59%2B08:00",
              "community=110101001001&street=110101001&department=fire&category=fire&channel=hotline&limit=100000",
              "filter=floors+%3E+5&filter-lang=cql2-text&sortby=-floors,%2Bname&properties=name,floors",
              "limit=0&offset=-1", "limit=99999999999999999999", "k=1e400&radius=NaN", "%ZZ=%&&=x&a=b=c", "a=%E4%BD%A0%E5%A5%BD+%F0%9F%94%A5"]:
        put("query", q)


if __name__ == "__main__":
    if os.path.isdir(OUT) and "--keep" not in sys.argv:
        shutil.rmtree(OUT)
    geojson()
    wkt_and_blobs(wkt_strings())
    csv()
    cql2()
    query()
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))))
