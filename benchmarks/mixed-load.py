#!/usr/bin/env python3
"""Mixed traffic against a real `geo-cli serve` on loopback, with a pass/fail summary (issue 13).

It makes the demo store with the given geo-cli, serves it on 127.0.0.1, and for SECONDS sends from CONNECTIONS
keep-alive connections (threads spread over PROCS processes) a mix of: vector tiles (the cases' layer on its
own, `tile_cases`, since it holds every case ever reported), items with CQL2 filters,
locate, nearest, around, case reports and their transitions, and Part 4 edits (create, patch, delete buildings).
Each connection only transitions and edits what it made itself, so every answer has one right status and any
other is an error. While it runs, the server's resident memory (VmRSS) is sampled every half second.

Afterwards it reads the server's own counts (/health, from its indexes), stops it, and checks the file with
Python's sqlite3 (not GeoGrid): integrity_check, every layer's count equal to the store's before plus what was
acknowledged, one history row per acknowledged report and transition, one audit row per acknowledged write.

It prints p50/p99 latency per route and one PASS or FAIL line per criterion, and exits 1 if any fails:
  - zero errors (every answer the expected status, no connection error)
  - resident memory flat: under 5% growth of VmRSS over the second half (the median of the last tenth of the
    samples against the median of the tenth around the middle); its parts and highest samples are reported.
    The in-memory indexes hold every feature (a case about 5 KiB), so on the bare demo store (0 cases) the cases
    a minute adds are themselves a large growth: the store first gets PAST_CASES of history, as a city has
  - the store consistent afterwards

usage: mixed-load.py CLI WORKDIR [--seconds 60] [--connections 64] [--procs 2] [--port 0] [--seed 1]
                     [--past-cases 100000] [--mix route=weight,…] [--serve-arg=ARG …]
"""
import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

STAGES = ["registered", "dispatched", "accepted", "handling", "handled", "closed"]
CATEGORIES = ["E0102", "E0504", "fire", "C0105", "gas_leak"]
# route -> weight in the mix
MIX = [("tile", 21), ("tile_cases", 5), ("items_cql2", 14), ("locate", 12), ("nearest", 12), ("around", 8),
       ("report", 9), ("transition", 9), ("edit", 10)]


def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


class Client:
    def __init__(self, port, tokens):
        self.port, self.tokens, self.conn = port, tokens, None

    def send(self, method, path, body=None, kind=None, auth=False):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {}
        if auth:
            headers["Authorization"] = "Bearer " + self.tokens[auth]
        if kind:
            headers["Content-Type"] = kind
        try:
            self.conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            r = self.conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return r.status, data
        except Exception:
            self.conn.close()
            self.conn = None
            raise


def worker(n, args, box, tokens, deadline, results):
    rng = random.Random(args.seed * 1000 + n)
    client = Client(args.port, tokens)
    lat_ms = {name: [] for name, _ in MIX}
    errors = []
    acked = {"report": 0, "transition": 0, "create": 0, "patch": 0, "delete": 0}
    cases = []      # [id, index of the next stage] of this connection's open cases
    buildings = []  # ids of this connection's buildings
    routes = [name for name, w in MIX for _ in range(w)]
    i = 0

    def point():
        return rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])

    while time.time() < deadline:
        route = rng.choice(routes)
        i += 1
        lon, lat = point()
        method, path, body, kind, auth, want, op = "GET", None, None, None, False, (200,), None
        if route in ("tile", "tile_cases"):
            z = rng.randint(13, 16)
            x, y = tile_of(lon, lat, z)
            layers = "incidents" if route == "tile_cases" else rng.choice(["grids", "buildings,roads", "resources", "communities,grids,buildings,roads,resources"])
            path, want = "/tiles/%s/%d/%d/%d.mvt" % (layers, z, x, y), (200, 204)
        elif route == "items_cql2":
            w, h = rng.uniform(0.001, 0.006), rng.uniform(0.0005, 0.003)
            f = rng.choice([
                "floors > %d AND S_INTERSECTS(geometry, BBOX(%.6f,%.6f,%.6f,%.6f))" % (rng.randint(0, 6), lon, lat, lon + w, lat + h),
                "floors BETWEEN %d AND %d" % (rng.randint(1, 3), rng.randint(4, 9)),
                "name LIKE 'A%%' OR floors IS NULL",
                "floors IN (2,3,4) AND S_INTERSECTS(geometry, POLYGON((%.6f %.6f,%.6f %.6f,%.6f %.6f,%.6f %.6f)))"
                % (lon, lat, lon + w, lat, lon, lat + h, lon, lat),
            ])
            path = "/collections/buildings/items?" + urllib.parse.urlencode({"filter": f, "filter-lang": "cql2-text", "limit": 50})
        elif route == "locate":
            path = "/locate?lon=%.6f&lat=%.6f" % (lon, lat)
        elif route == "nearest":
            path = "/nearest?lon=%.6f&lat=%.6f&k=%d" % (lon, lat, rng.randint(1, 10))
        elif route == "around":
            path = "/around?lon=%.6f&lat=%.6f&radius=%d" % (lon, lat, rng.randint(50, 400))
        elif route == "report" or (route == "transition" and not cases):
            route, op = "report", "report"
            method, path, kind, auth, want = "POST", "/incidents", "application/json", "dispatcher", (201,)
            body = {"lon": lon, "lat": lat, "category": rng.choice(CATEGORIES), "title": "load %d/%d" % (n, i)}
        elif route == "transition":
            case = rng.choice(cases)
            to = STAGES[case[1]]
            body = {"to": to}
            if to == "handled":
                body["note"] = "done under load"
            if to == "closed":
                body["reporter_answered"] = True
            method, path, kind, auth, op = "POST", "/incidents/%d/transitions" % case[0], "application/json", "dispatcher", "transition"
        else:  # an edit: create, or patch or delete one of this connection's buildings
            choice = rng.random() if buildings else 0
            if choice < 0.5:
                x, y = lon, lat
                ring = [[x, y], [x + 0.0001, y], [x + 0.0001, y + 0.00005], [x, y + 0.00005], [x, y]]
                method, path, kind, want, op = "POST", "/collections/buildings/items", "application/geo+json", (201,), "create"
                body = {"type": "Feature", "properties": {"name": "load %d/%d" % (n, i), "floors": 1},
                        "geometry": {"type": "Polygon", "coordinates": [ring]}}
            elif choice < 0.8:
                fid = rng.choice(buildings)
                method, path, kind, op = "PATCH", "/collections/buildings/items/%d" % fid, "application/merge-patch+json", "patch"
                body = {"properties": {"floors": rng.randint(1, 30)}}
            else:
                fid = buildings.pop(rng.randrange(len(buildings)))
                method, path, want, op = "DELETE", "/collections/buildings/items/%d" % fid, (200, 204), "delete"
            auth = "planner"
        start = time.perf_counter()
        try:
            status, data = client.send(method, path, body, kind, auth)
        except Exception as e:
            errors.append("%s %s: %s" % (method, path, e))
            continue
        lat_ms[route].append((time.perf_counter() - start) * 1000)
        if status not in want:
            errors.append("%s %s: %d %s" % (method, path, status, data[:200].decode("utf-8", "replace")))
            if op == "transition":  # do not send it again
                cases.remove(case)
            continue
        if op:
            acked[op] += 1
        if op == "report":
            cases.append([json.loads(data)["id"], 0])
        elif op == "transition":
            case[1] += 1
            if case[1] == len(STAGES):
                cases.remove(case)
        elif op == "create":
            buildings.append(json.loads(data)["id"])
    results.append({"latencies": lat_ms, "errors": errors, "acked": acked})


def process_main(index, threads, args, box, tokens, deadline, out):
    results = []
    pool = [threading.Thread(target=worker, args=(index * threads + t, args, box, tokens, deadline, results)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    with open(out, "w") as f:
        json.dump(results, f)


def rss_kib(pid):
    """VmRSS and its parts (RssAnon: the process's own memory; RssFile and RssShmem: pages of the store's file
    and its WAL index mapped by SQLite, which grow with the file and the kernel may drop), in KiB."""
    parts = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                parts[key] = int(line.split()[1])
    return parts


def get_json(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    return json.loads(r.read())


def store_counts(db, layers):
    con = sqlite3.connect(db)
    try:
        counts = {name: con.execute('SELECT count(*) FROM "%s"' % name).fetchone()[0] for name in layers}
        counts["history"] = con.execute("SELECT count(*) FROM geogrid_incident_history").fetchone()[0]
        counts["audit"] = con.execute("SELECT count(*) FROM geogrid_audit").fetchone()[0]
        counts["integrity"] = con.execute("PRAGMA integrity_check").fetchone()[0]
        return counts
    finally:
        con.close()


def box_of_demo(db):
    """The grids' box, from their SpatiaLite R*Tree (plain SQLite reads it)."""
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_grids_geom").fetchone()
    finally:
        con.close()


def write_past_cases(n, box, path):
    """N past cases of last month as CSV for `geo-cli incident import`, seeded: a fifth still open at each stage."""
    rng = random.Random(5)
    stages = ["", "registered", "dispatched", "closed", "closed"]
    with open(path, "w") as f:
        f.write("lon,lat,time,category,stage,registered_at,dispatched_at,closed_at\n")
        for i in range(n):
            day, minute = rng.randint(1, 27), rng.randint(0, 1300)
            stamp = lambda d, m: "2026-11-%02d %02d:%02d" % (d, m // 60, m % 60)
            stage = stages[i % len(stages)]
            f.write("%.7f,%.7f,%s,%s,%s,%s,%s,%s\n" % (
                rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3]), stamp(day, minute), CATEGORIES[i % len(CATEGORIES)], stage,
                stamp(day, minute + 30) if stage else "", stamp(day, minute + 60) if stage in ("dispatched", "closed") else "",
                stamp(day + 2, minute) if stage == "closed" else ""))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cli")
    p.add_argument("workdir")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--port", type=int, default=0, help="the server's port on 127.0.0.1 (0: a free one, as serve picks)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--past-cases", type=int, default=100000,
                   help="cases imported before the load (a city's history; the memory criterion is about leaks, "
                        "so the store should hold a city's worth of data, not the bare demo)")
    p.add_argument("--mix", help="route=weight,… to replace the default mix (e.g. tile=1,locate=1 for reads alone)")
    p.add_argument("--serve-arg", action="append", default=[], help="an extra argument for geo-cli serve (repeatable)")
    args = p.parse_args()
    if args.mix:
        global MIX
        names = dict(MIX)
        MIX = [(k, int(v)) for k, v in (part.split("=") for part in args.mix.split(","))]
        unknown = [k for k, _ in MIX if k not in names]
        if unknown:
            sys.exit("mixed-load: unknown route in --mix: %s (routes: %s)" % (", ".join(unknown), ", ".join(names)))
    os.makedirs(args.workdir, exist_ok=True)
    db = os.path.join(args.workdir, "load.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    subprocess.run([args.cli, "demo", "--no-cases", "--db", db], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if args.past_cases:
        write_past_cases(args.past_cases, box_of_demo(db), os.path.join(args.workdir, "past.csv"))
        subprocess.run([args.cli, "incident", "import", "--db", db, os.path.join(args.workdir, "past.csv")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # A dispatcher reports and moves cases; a planner edits buildings.
    tokens = {role: subprocess.run([args.cli, "token", "create", "--db", db, "--role", role, "--name", "load " + role],
                                   check=True, capture_output=True, text=True).stdout.strip() for role in ("dispatcher", "planner")}
    log = open(os.path.join(args.workdir, "serve.log"), "w")
    # One token sends everything here, so the per-token rate limit is off; the rest are the defaults.
    server = subprocess.Popen([args.cli, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(args.port),
                               "--rate-limit", "0", "--log-level", "warning"] + args.serve_arg, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        # serve's first line names its address (the port it bound when given 0); the rest goes to the log.
        first = server.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:([0-9]+)", first)
        if not found:
            sys.exit("mixed-load: the server did not start: %r (see %s)" % (first, log.name))
        args.port = int(found.group(1))
        threading.Thread(target=lambda: [log.write(line) for line in server.stdout], daemon=True).start()
        for _ in range(300):
            try:
                health = get_json(args.port, "/health")
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("mixed-load: the server did not start (see %s)" % log.name)
        layers = sorted(health["layers"])
        before = store_counts(db, layers)
        b = get_json(args.port, "/collections/grids")["extent"]["spatial"]["bbox"][0]
        box = [b[0], b[1], b[2], b[3]]

        threads = max(1, args.connections // args.procs)
        start = time.time()
        deadline = start + args.seconds
        outs = [os.path.join(args.workdir, "load-%d.json" % i) for i in range(args.procs)]
        procs = [multiprocessing.Process(target=process_main, args=(i, threads, args, box, tokens, deadline, outs[i])) for i in range(args.procs)]
        for pr in procs:
            pr.start()
        samples = []
        while any(pr.is_alive() for pr in procs):
            samples.append((time.time() - start, rss_kib(server.pid)))
            time.sleep(0.5)
        for pr in procs:
            pr.join()
        elapsed = time.time() - start
        served = get_json(args.port, "/health")["layers"]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    results = [r for out in outs for r in json.load(open(out))]
    after = store_counts(db, layers)

    acked = {k: sum(r["acked"][k] for r in results) for k in results[0]["acked"]}
    errors = [e for r in results for e in r["errors"]]
    total = 0
    print("%d connections (%d processes), %.1f s, on 127.0.0.1:%d" % (threads * args.procs, args.procs, elapsed, args.port))
    print("%-11s %8s %9s %9s %9s" % ("route", "answers", "p50 ms", "p99 ms", "max ms"))
    for name, _ in MIX:
        values = sorted(v for r in results for v in r["latencies"][name])
        total += len(values)
        if values:
            p50 = values[len(values) // 2]
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
            print("%-11s %8d %9.1f %9.1f %9.1f" % (name, len(values), p50, p99, values[-1]))
    print("all         %8d answers, %.0f/s; acknowledged writes: %s" % (total, total / elapsed, json.dumps(acked)))

    failed = False

    def judge(ok, what):
        nonlocal failed
        failed |= not ok
        print("%s  %s" % ("PASS" if ok else "FAIL", what))

    judge(not errors, "zero errors: %d" % len(errors))
    for e in errors[:10]:
        print("      " + e)

    def flat(key):
        series = [(t, parts.get(key, 0)) for t, parts in samples]
        tenth = max(1, len(series) // 10)
        mid = min(range(len(series)), key=lambda k: abs(series[k][0] - elapsed / 2))
        middle = statistics.median(v for _, v in series[max(0, mid - tenth // 2):mid + tenth // 2 + 1])
        end = statistics.median(v for _, v in series[-tenth:])
        highest = max(v for t, v in series if t >= elapsed / 2)
        return middle, end, (end - middle) / middle * 100 if middle else 0.0, highest

    middle, end, growth, highest = flat("VmRSS")
    judge(growth < 5, "resident memory flat over the second half: %+.1f%% (%d samples; under 5%%, the median of "
          "the last tenth against the tenth around the middle)" % (growth, len(samples)))
    for key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
        middle, end, growth, highest = flat(key)
        print("      %-8s %7.1f MiB at the middle, %7.1f MiB at the end (%+.1f%%), highest %.1f MiB" % (key, middle / 1024, end / 1024, growth, highest / 1024))
    expect = dict(before)
    expect["incidents"] = before["incidents"] + acked["report"]
    expect["buildings"] = before["buildings"] + acked["create"] - acked["delete"]
    expect["history"] = before["history"] + acked["report"] + acked["transition"]
    expect["audit"] = before["audit"] + sum(acked.values())
    expect["integrity"] = "ok"
    wrong = ["%s: %s, expected %s" % (k, after.get(k), v) for k, v in expect.items() if after.get(k) != v]
    wrong += ["%s as served: %s, in the file %s" % (k, v, after.get(k)) for k, v in served.items() if after.get(k) != v]
    judge(not wrong, "store consistent afterwards (sqlite3: integrity ok, counts = before + acknowledged, the "
          "server's indexes = the file): %s" % ("; ".join(wrong) or json.dumps({k: after[k] for k in ("incidents", "buildings", "history", "audit")})))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
