#!/usr/bin/env python3
"""A flurry of OGC API Features Part 4 edits from many threads, each on a keep-alive connection: create a
building, raise its floors by PATCH twice, and delete every third one. Each thread writes to OUT, flushed at
once, a line before it sends a write ("sent") and one when the server acknowledged it ("ack"), so that a test
that kills the server knows what was acknowledged and what may have been written unacknowledged.

usage: edit-flurry.py BASE TOKEN THREADS OUT SEED MINLON MINLAT MAXLON MAXLAT
"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

base, token, threads, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
box = [float(v) for v in sys.argv[6:10]]
url = urllib.parse.urlparse(base)
lock = threading.Lock()
sink = open(out, "a", buffering=1)
stop = [False]


def log(**line):
    with lock:
        sink.write(json.dumps(line) + "\n")


def worker(n):
    rng = random.Random(seed * 1000 + n)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": "Bearer " + token}

    def send(method, path, body, kind):
        conn.request(method, path, json.dumps(body) if body is not None else None, dict(headers, **({"Content-Type": kind} if kind else {})))
        r = conn.getresponse()
        return r.status, r.read()

    i = 0
    try:
        while not stop[0]:
            name = "flurry %d/%d/%d" % (seed, n, i)
            x, y = rng.uniform(box[0], box[2] - 0.0002), rng.uniform(box[1], box[3] - 0.0001)
            ring = [[x, y], [x + 0.0001, y], [x + 0.0001, y + 0.00005], [x, y + 0.00005], [x, y]]
            log(kind="sent", op="create", name=name)
            status, data = send("POST", "/collections/buildings/items",
                                {"type": "Feature", "properties": {"name": name, "floors": 1}, "geometry": {"type": "Polygon", "coordinates": [ring]}},
                                "application/geo+json")
            if status != 201:
                log(kind="refused", op="create", name=name, status=status)
                return
            fid = json.loads(data)["id"]
            log(kind="ack", op="create", name=name, id=fid)
            for floors in (2, 3):
                log(kind="sent", op="patch", name=name, id=fid, floors=floors)
                status, _ = send("PATCH", "/collections/buildings/items/%d" % fid, {"properties": {"floors": floors}}, "application/merge-patch+json")
                if status != 200:
                    log(kind="refused", op="patch", id=fid, status=status)
                    return
                log(kind="ack", op="patch", name=name, id=fid, floors=floors)
            if i % 3 == 2:
                log(kind="sent", op="delete", name=name, id=fid)
                status, _ = send("DELETE", "/collections/buildings/items/%d" % fid, None, None)
                if status not in (200, 204):
                    log(kind="refused", op="delete", id=fid, status=status)
                    return
                log(kind="ack", op="delete", name=name, id=fid)
            i += 1
    except (OSError, http.client.HTTPException):
        return  # the server went away: what was acknowledged is in OUT already


pool = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
