#!/usr/bin/env python3
"""Posts cases to a GeoGrid server from many threads at once, each on a keep-alive connection, and writes every
acknowledged one (201) to OUT as a JSON line at once (flushed), so that a test that kills the server mid-burst
knows exactly which reports were acknowledged.

usage: report-burst.py BASE TOKEN COUNT THREADS OUT MINLON MINLAT MAXLON MAXLAT [SEED]
"""
import http.client, json, random, sys, threading, time, urllib.parse

base, token, count, threads, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
box = [float(v) for v in sys.argv[6:10]]
seed = int(sys.argv[10]) if len(sys.argv) > 10 else 1
url = urllib.parse.urlparse(base)
lock = threading.Lock()
sink = open(out, "a", buffering=1)
next_index = [0]
failures = []
categories = ["E0102", "E0504", "fire", "C0105", "gas_leak"]

def take():
    with lock:
        if next_index[0] >= count:
            return None
        next_index[0] += 1
        return next_index[0] - 1

def worker(n):
    rng = random.Random(seed * 1000 + n)
    conn = None
    while True:
        i = take()
        if i is None:
            return
        lon = rng.uniform(box[0], box[2])
        lat = rng.uniform(box[1], box[3])
        body = json.dumps({"lon": lon, "lat": lat, "category": categories[i % len(categories)], "title": f"burst {seed}/{i}"})
        try:
            if conn is None:
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            conn.request("POST", "/incidents", body, {"Content-Type": "application/json", "Authorization": "Bearer " + token})
            r = conn.getresponse()
            data = r.read()
        except Exception as e:  # the server went away: what was acknowledged is in OUT already
            with lock:
                failures.append(str(e))
            conn = None
            time.sleep(0.05)
            if len(failures) > 50:
                return
            continue
        if r.status != 201:
            with lock:
                failures.append(f"{r.status} {data[:200]!r}")
            continue
        f = json.loads(data)
        line = json.dumps({"i": i, "id": f["id"], "case_number": f["properties"]["case_number"], "lon": lon, "lat": lat,
                           "grid_code": f["properties"]["grid_code"], "title": f["properties"]["title"]})
        with lock:
            sink.write(line + "\n")

start = time.time()
ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
sink.close()
print(json.dumps({"seconds": time.time() - start, "failures": len(failures), "first_failures": failures[:3]}))
