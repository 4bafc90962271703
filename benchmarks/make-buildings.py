#!/usr/bin/env python3
"""Writes N synthetic building footprints as newline-delimited GeoJSON: rotated rectangles of 8-40 m,
scattered over a 20 x 20 km city around Helsinki, with floors, households and population.
Deterministic (seeded), so every run of a benchmark loads the same file."""
import math
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
out = open(sys.argv[2], "w") if len(sys.argv) > 2 else sys.stdout
rng = random.Random(2157)
lon0, lat0 = 24.80, 60.10
m_lon = 1 / (111_320 * math.cos(math.radians(60.2)))
m_lat = 1 / 110_574
for i in range(n):
    cx = lon0 + rng.random() * 20_000 * m_lon
    cy = lat0 + rng.random() * 20_000 * m_lat
    w, h = rng.uniform(8, 40), rng.uniform(8, 40)
    a = rng.random() * math.pi
    ca, sa = math.cos(a), math.sin(a)
    ring = []
    for dx, dy in ((-w, -h), (w, -h), (w, h), (-w, h)):
        x, y = (dx * ca - dy * sa) / 2, (dx * sa + dy * ca) / 2
        ring.append("[%.7f,%.7f]" % (cx + x * m_lon, cy + y * m_lat))
    ring.append(ring[0])
    floors = rng.randint(1, 12)
    hh = int(w * h * floors * 0.6 / 75)
    out.write('{"type":"Feature","properties":{"name":"B%d","floors":%d,"households":%d,"population":%d},'
              '"geometry":{"type":"Polygon","coordinates":[[%s]]}}\n' % (i, floors, hh, int(hh * 1.8), ",".join(ring)))
