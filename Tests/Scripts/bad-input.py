#!/usr/bin/env python3
"""Sends bad input to a running GeoGrid server and prints, as JSON, what came back for each request.

usage: bad-input.py BASE TOKEN FIXTURES

Every file of the invalid-GeoJSON sets under FIXTURES (geojson-invalid-geometry's invalid_structure and
invalid_geometries, geojsonhint's bad files whose expected result holds an error, not only warnings) is POSTed
as it is to the items of the layer its geometry fits, to /incidents and to /plans. Then SQL-looking text in
filters and in the properties of writes. The caller judges the answers and checks the store.
"""
import http.client
import json
import os
import sys
import urllib.parse

base, token, fixtures = sys.argv[1], sys.argv[2], sys.argv[3]
url = urllib.parse.urlsplit(base)
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def request(method, path, body=None, content_type="application/geo+json"):
    headers = {"Authorization": "Bearer " + token}
    if body is not None:
        headers["Content-Type"] = content_type
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    answer = {"status": response.status, "type": response.getheader("Content-Type", "")}
    try:
        parsed = json.loads(data)
        answer["detail"] = parsed.get("detail") if isinstance(parsed, dict) else None
        answer["body"] = parsed
    except ValueError:
        answer["detail"] = None
    return answer


def layer_for(text):
    """The layer whose geometry kind comes first in the file, as the import tests choose it."""
    kinds = [('"Polygon"', "buildings"), ('"MultiPolygon"', "buildings"), ('"LineString"', "roads"),
             ('"MultiLineString"', "roads"), ('"Point"', "resources")]
    found = [(text.find(k), layer) for k, layer in kinds if k in text]
    return min(found)[1] if found else "buildings"


def invalid_files():
    names = []
    for folder in ("geojson-invalid-geometry/invalid_structure", "geojson-invalid-geometry/invalid_geometries"):
        for name in sorted(os.listdir(os.path.join(fixtures, folder))):
            # RFC 7946 §3.1.6: other windings must not be refused (they are valid GeoJSON, stored rewound).
            if name.endswith(".geojson") and "not_ccw" not in name and "not_cw" not in name:
                names.append(os.path.join(folder, name))
    bad = os.path.join(fixtures, "geojsonhint/bad")
    for name in sorted(os.listdir(bad)):
        if not name.endswith(".geojson"):
            continue
        result = os.path.join(bad, name[: -len(".geojson")] + ".result")
        try:
            expected = json.load(open(result))
        except (OSError, ValueError):
            expected = []
        if any(m.get("level") != "message" for m in expected):
            names.append(os.path.join("geojsonhint/bad", name))
    return names


results = []
for name in invalid_files():
    body = open(os.path.join(fixtures, name), "rb").read()
    text = body.decode("utf-8", "replace")
    for path in ("/collections/%s/items" % layer_for(text), "/incidents", "/plans"):
        answer = request("POST", path, body)
        answer.pop("body", None)
        results.append({"file": name, "path": path, **answer})

# SQL-looking text in filters: read as text, matched as text, never run.
sql = ["x' OR '1'='1", "'; DROP TABLE grids; --", "1; DELETE FROM incidents", "\" OR 1=1 --", "%' OR name LIKE '%"]
for text in sql:
    quoted = text.replace("'", "''")
    for path in ("/collections/grids/items?filter=" + urllib.parse.quote("code = '%s'" % quoted),
                 "/collections/buildings/items?filter=" + urllib.parse.quote(text),
                 "/search?q=" + urllib.parse.quote(text),
                 "/incidents?category=" + urllib.parse.quote(text),
                 "/incidents?grid=" + urllib.parse.quote(text)):
        answer = request("GET", path)
        matched = None
        if isinstance(answer.get("body"), dict):
            matched = answer["body"].get("numberMatched", len(answer["body"].get("features", answer["body"].get("results", []))))
        answer.pop("body", None)
        results.append({"file": "sql:" + text, "path": path, "matched": matched, **answer})

# Path traversal on every static route: the repository's Package.swift (beside var/, where the server was
# started) and /etc/passwd must never come back, however the dots and slashes are spelled.
targets = ["Package.swift", "etc/passwd"]
spellings = ["../../{t}", "..%2f..%2f{t}", "%2e%2e/%2e%2e/{t}", "%2e%2e%2f%2e%2e%2f{t}", "..%5c..%5c{t}", "%252e%252e%252f{t}",
             "....//....//{t}", "..;/..;/{t}", "%c0%ae%c0%ae/{t}", "/{t}", "%2f{t}"]
for prefix in ("/map/", "/console/", "/console/i18n/", "/fonts/", "/fonts/DejaVu%20Sans/", "/collections/", "/tiles/"):
    for spelling in spellings:
        for target in targets:
            path = prefix + spelling.format(t=target.replace("/", "%2f") if "%" in spelling else target)
            for suffix in ("", "/0-255.pbf") if prefix == "/fonts/" else ("",):
                connection.request("GET", path + suffix)
                response = connection.getresponse()
                data = response.read()
                results.append({"file": "traversal", "path": path + suffix, "status": response.status,
                                "type": response.getheader("Content-Type", ""),
                                "leaked": b"swift-tools-version" in data or b"root:x:" in data, "detail": None})

# SQL-looking text in the properties of writes: stored as given, read back as given.
sneaky = "Robert'); DROP TABLE incidents; -- \" OR 1=1"
case = request("POST", "/incidents", json.dumps({"lon": 24.9445, "lat": 60.17, "category": "fire", "title": sneaky,
                                                  "description": "1; DELETE FROM grids"}), "application/json")
results.append({"file": "sql:write", "path": "/incidents", "status": case["status"], "type": case["type"],
                "detail": case["detail"], "id": (case.get("body") or {}).get("id"),
                "title": ((case.get("body") or {}).get("properties") or {}).get("title")})
building = request("POST", "/collections/buildings/items", json.dumps({"type": "Feature", "properties": {"name": sneaky},
    "geometry": {"type": "Polygon", "coordinates": [[[24.9440, 60.1700], [24.9441, 60.1700], [24.9441, 60.1701], [24.9440, 60.1700]]]}}))
results.append({"file": "sql:write", "path": "/collections/buildings/items", "status": building["status"], "type": building["type"],
                "detail": building["detail"], "id": (building.get("body") or {}).get("id")})

print(json.dumps(results))
