#!/usr/bin/env python3
"""Open311 GeoReport v2 against GeoGrid with the PyPI `georeport` client (reads, in JSON and in XML through its
xmltodict parsing) and spec-shaped form POSTs (the client has none). Prints one JSON object with what it saw.

usage: open311-client.py ROOT TOKEN LON LAT
"""
import json, sys
import requests
from georeport import GeoReport

root, token, lon, lat = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
out = {}
for fmt in ("json", "xml"):
    client = GeoReport(root, api_key=token, output_format=fmt)
    services = client.get_service_list()
    out[f"services_{fmt}"] = [s["service_code"] for s in services]
    definition = client.get_service_definition("E05")
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
    out[f"definition_{fmt}"] = [a["code"] for a in attributes]
# A spec-shaped POST: form-encoded, api_key, lat/long, attribute[…].
form = {"api_key": token, "service_code": "E0504", "lat": str(lat), "long": str(lon), "description": "Car parked on the pavement",
        "first_name": "Chen", "last_name": "Jing", "phone": "138 0013 8000", "attribute[location_detail]": "outside no. 12", "media_url": "https://example.org/p.jpg"}
posted = requests.post(root + "/requests.json", data=form)
out["post_status"] = posted.status_code
out["post"] = posted.json()
posted_xml = requests.post(root + "/requests.xml", data={**form, "service_code": "C0105", "attribute[subcategory]": ""})
out["post_xml_status"] = posted_xml.status_code
out["post_xml"] = posted_xml.text
refused = requests.post(root + "/requests.json", data={**form, "api_key": "gg_not-a-token"})
out["refused_status"] = refused.status_code
out["refused"] = refused.json()
rid = out["post"][0]["service_request_id"]
for fmt in ("json", "xml"):
    client = GeoReport(root, output_format=fmt)
    one = client.get_service_request(rid)
    if isinstance(one, list):
        one = one[0]
    out[f"request_{fmt}"] = one
    many = client.get_service_requests(service_code="E0504", status="open")
    if isinstance(many, dict):
        many = [many]
    out[f"requests_{fmt}"] = [r["service_request_id"] for r in many]
print(json.dumps(out))
