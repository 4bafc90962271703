"""An independent CQL2 oracle: the cql2 package (PyPI; cql2-rs, written apart from GeoGrid) parses each filter
and matches it against every feature of a layer as GDAL's ogr2ogr exported it from the store.

usage: cql2-oracle.py LAYER.geojson < filters.json > ids.json
Each filter is [text, lang]; the answer is, per filter, [the sorted ids it matches, the filter as cql2-json by
cql2's own conversion] (or an error string).
"""
import json
import sys

import cql2

features = json.load(open(sys.argv[1]))["features"]
items = []
for f in features:
    props = dict(f["properties"])
    # The store's extra attributes arrive from GDAL as the JSON column's text: spread out, as the server does.
    extra = props.pop("extra_properties", None)
    if extra:
        # GDAL gives the column as text, or as the object itself when it recognises JSON.
        for k, v in (json.loads(extra) if isinstance(extra, str) else extra).items():
            props.setdefault(k, v)
    # Booleans come from SQLite as 0/1.
    # No top-level "type": cql2-rs would read a property called type (a resource's) from it first.
    items.append({"id": f["id"], "geometry": f["geometry"], "properties": props})

answers = []
for text, lang in json.load(sys.stdin):
    try:
        expr = cql2.parse_text(text) if lang == "cql2-text" else cql2.parse_json(text)
        ids = []
        for item in items:
            try:
                if expr.matches(item):
                    ids.append(item["id"])
            except Exception:  # noqa: BLE001 - a comparison with a missing or null property: unknown, no match
                pass
        answers.append([sorted(ids), json.dumps(expr.to_json())])
    except Exception as e:  # noqa: BLE001 - reported to the test as the filter's answer
        answers.append(f"error: {e}")
json.dump(answers, sys.stdout)
