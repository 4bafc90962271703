#!/usr/bin/env python3
"""Listens to /events for SECONDS and reports, for every `created` event, the time from the case's report (the
event's `time`, taken when the server began placing the report) to its arrival here: end to end, through the
synced commit, the hub and the stream. Prints JSON: count and percentiles in milliseconds.

usage: sse-latency.py URL SECONDS
"""
import json, sys, threading, time
from datetime import datetime
import requests, sseclient

url, seconds = sys.argv[1], float(sys.argv[2])
r = requests.get(url + "?kind=created", stream=True, headers={"Accept": "text/event-stream"}, timeout=(5, seconds + 10))
threading.Timer(seconds, r.close).start()
print("ready", flush=True)
lat = []
try:
    for e in sseclient.SSEClient(r).events():
        now = time.time()
        t = json.loads(e.data)["time"]
        sent = datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
        lat.append((now - sent) * 1000)
except Exception:
    pass
lat.sort()
def pct(p):
    return round(lat[min(len(lat) - 1, int(len(lat) * p))], 2) if lat else None
print(json.dumps({"events": len(lat), "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": round(lat[-1], 2) if lat else None}))
import os
os._exit(0)
