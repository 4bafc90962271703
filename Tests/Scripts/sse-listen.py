#!/usr/bin/env python3
"""Listens to a GeoGrid /events stream with sseclient-py and prints each event as a JSON line with the moment it
arrived (time.time()), until COUNT events or TIMEOUT seconds. A `--last-event-id N` resumes after event N.

usage: sse-listen.py URL COUNT TIMEOUT [--last-event-id N]
"""
import json, sys, threading, time
import requests, sseclient

url, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
headers = {"Accept": "text/event-stream"}
if "--last-event-id" in sys.argv:
    headers["Last-Event-ID"] = sys.argv[sys.argv.index("--last-event-id") + 1]
response = requests.get(url, stream=True, headers=headers, timeout=(5, timeout + 5))
# Stop reading after the timeout even when no event comes (a closed response ends the iteration).
threading.Timer(timeout, response.close).start()
seen = 0
print(json.dumps({"ready": True, "status": response.status_code, "type": response.headers.get("Content-Type")}), flush=True)
try:
    for event in sseclient.SSEClient(response).events():
        print(json.dumps({"id": event.id, "event": event.event, "data": json.loads(event.data), "at": time.time()}), flush=True)
        seen += 1
        if seen >= count:
            break
except Exception:
    pass
response.close()
import os
os._exit(0)
