#!/usr/bin/env python3
"""Derive the GeoGrid demo city (data/boundaries) from an OpenStreetMap extract of central Helsinki.

Run with Debian's python3 (python3-shapely, python3-pyproj) and osmium-tool:

    /usr/bin/python3 scripts/make-demo-city.py ../shared/data/osm/Helsinki.osm.pbf data/boundaries

The rules (also in data/boundaries/README.md):
- communities: the OSM neighbourhood boundaries (admin_level 10) cut to the extract's bounding box form the
  streets (街道); each street holds one community (社区) of the same outline (north of the bay, Kallio's part
  is its sub-area Siltasaari, admin_level 11); all of them make one district (区). Boundary ways cut by the
  extract are extended along their last segment to the box edge, the lines are polygonised with the box, and
  each face takes the neighbourhood whose seed point (OSM place node or a point named below) lies in it;
  faces without a seed join the neighbour they share the longest border with.
- unit grids: each community is cut into blocks by its streets (the polygonised road network plus the
  community outline, so the blocks cover the community exactly), then blocks are grown into grids of
  200-500 households, adjacent blocks joining along the longest shared street.
- households: building:flats where mapped, otherwise floor area x residential share / 75 m2, with floors
  from building:levels (5 where unmapped, 1 for kiosks, sheds, roofs) and a residential share of 1 for
  apartments/residential/house, 0.5 for unspecified buildings, 0 for offices, shops, churches and other
  non-residential types. population = households x 1.8 (Helsinki's mean household size).
- codes: district 910091 (9xxxxx lies outside the GB/T 2260 province range 11-82, so demo codes never
  collide with a real division), streets 910091001..., communities +001, grids +001... numbered within
  each community in reading order: rows of 300 m from north to south, west to east within a row.
"""
import json
import math
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from pyproj import Geod
from shapely.geometry.polygon import orient
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box, mapping, shape
from shapely.ops import polygonize, unary_union

GEOD = Geod(ellps="WGS84")
DISTRICT = "910091"
# Streets (街道) in code order, with a seed point inside each (OSM place nodes where they exist).
STREETS = [
    ("Kamppi", (24.9370, 60.1680), None),
    ("Punavuori", (24.9415, 60.1645), None),
    ("Kaartinkaupunki", (24.9472225, 60.1652138), None),
    ("Kluuvi", (24.9473293, 60.1707783), None),
    ("Kruununhaka", (24.9525, 60.1715), None),
    ("Kallio", (24.9497427, 60.1781579), "Siltasaari"),
]
ROAD_CLASSES_FOR_BLOCKS = {
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "living_street", "pedestrian", "motorway_link", "trunk_link", "primary_link", "secondary_link",
    "tertiary_link",
}
NON_RESIDENTIAL = {
    "office", "retail", "commercial", "public", "church", "cathedral", "chapel", "university", "school",
    "museum", "kiosk", "shed", "roof", "utility", "tower", "pavilion", "atrium", "ship", "service",
    "train_station", "transportation", "industrial", "warehouse", "garage", "garages", "hotel", "government",
    "civic", "hospital", "parking", "bridge", "construction", "kindergarten", "college", "stadium",
}
RESIDENTIAL = {"apartments", "residential", "house", "detached", "terrace", "dormitory"}
SMALL = {"kiosk", "shed", "roof", "pavilion", "utility", "tower", "atrium"}
WORKERS = [
    "Aino Virtanen", "Eero Korhonen", "Helmi Nieminen", "Ilmari Mäkinen", "Kaisa Hämäläinen", "Lauri Laine",
    "Minna Heikkinen", "Niilo Koskinen", "Oona Järvinen", "Pekka Lehtonen", "Riikka Lehtinen", "Sami Saarinen",
    "Tiina Salminen", "Ville Heinonen", "Anni Niemi", "Juho Heikkilä", "Laura Kinnunen", "Matti Salonen",
]
# Paths and service lanes split a block that holds too many households for one grid.
MINOR_CLASSES = {"service", "footway", "pedestrian", "path", "cycleway", "steps", "track", "bridleway"}
TARGET_MIN, TARGET_MAX = 200, 500


def area_m2(geom):
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def osm_features(pbf, workdir):
    out = Path(workdir) / "all.geojsonseq"
    subprocess.run(["osmium", "export", "-O", "-f", "geojsonseq", "-o", str(out), pbf], check=True,
                   stderr=subprocess.DEVNULL)
    for line in out.read_text().splitlines():
        line = line.strip("\x1e").strip()
        if line:
            yield json.loads(line)


def boundary_lines(pbf, workdir, frame):
    """Admin level 10/11 boundary ways as lines, dangling ends extended to the frame."""
    xml = Path(workdir) / "all.osm"
    subprocess.run(["osmium", "cat", "-O", "-o", str(xml), pbf], check=True)
    root = ET.parse(xml).getroot()
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    ways = {w.get("id"): [nodes[n.get("ref")] for n in w.iter("nd") if n.get("ref") in nodes] for w in root.iter("way")}
    members = set()
    for r in root.iter("relation"):
        tags = {t.get("k"): t.get("v") for t in r.iter("tag")}
        if tags.get("boundary") == "administrative" and tags.get("admin_level") in ("10", "11"):
            members.update(m.get("ref") for m in r.iter("member") if m.get("type") == "way")
    lines = [ways[w] for w in sorted(members) if w in ways and len(ways[w]) >= 2]
    ends = [pt for l in lines for pt in (l[0], l[-1])]
    out = []
    for pts in lines:
        pts = list(pts)
        for at, prev in ((0, 1), (-1, -2)):
            end = pts[at]
            shared = sum(1 for e in ends if math.dist(e, end) < 1e-9) > 1
            if shared or frame.exterior.distance(Point(end)) < 1e-7:
                continue
            dx, dy = end[0] - pts[prev][0], end[1] - pts[prev][1]
            n = math.hypot(dx, dy)
            far = (end[0] + dx / n * 0.05, end[1] + dy / n * 0.05)
            ext = LineString([end, far]).intersection(frame)
            tip = list(ext.coords)[-1] if not ext.is_empty else end
            if at == 0:
                pts.insert(0, tip)
            else:
                pts.append(tip)
        out.append(LineString(pts).intersection(frame))
    return out


def faces(lines, frame):
    noded = unary_union(list(lines) + [frame.exterior])
    return [f for f in polygonize(noded) if f.area > 0]


def label_faces(fs, seeds):
    """Each face takes the seed inside it; unseeded faces join the neighbour with the longest shared border."""
    label = {}
    for i, f in enumerate(fs):
        for name, pt in seeds.items():
            if f.contains(Point(pt)):
                label[i] = name
    while len(label) < len(fs):
        progressed = False
        for i, f in enumerate(fs):
            if i in label:
                continue
            best = max(((f.intersection(fs[j]).length, label[j]) for j in label), default=(0, None))
            if best[0] > 0:
                label[i] = best[1]
                progressed = True
        if not progressed:
            raise SystemExit("a face touches no labelled face")
    return label


def polygons_of(geom):
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


def as_multi(geom):
    parts = [p for p in polygons_of(geom) if p.area > 0]
    return MultiPolygon(parts)


def households_of(props, footprint):
    if props.get("building:flats", "").isdigit():
        return int(props["building:flats"])
    kind = props.get("building", "yes")
    if kind in NON_RESIDENTIAL:
        return 0
    share = 1.0 if kind in RESIDENTIAL else 0.5
    return round(area_m2(footprint) * floors_assumed(props) * share / 75)


def floors_mapped(props):
    try:
        return math.ceil(float(props["building:levels"]))
    except (KeyError, ValueError):
        return None


def floors_assumed(props):
    return floors_mapped(props) or (1 if props.get("building") in SMALL else 5)


def blocks_of(lines, street_shapes):
    """The faces of the noded lines, each with the street whose area holds it."""
    out = []
    for f in polygonize(unary_union(lines)):
        at = f.representative_point()
        street = next((name for name, sh in street_shapes.items() if sh.contains(at)), None)
        if street and f.area > 0:
            out.append((f, street))
    return out


def households_in(blocks, buildings):
    hh = [0] * len(blocks)
    for b in buildings:
        for i, f in enumerate(blocks):
            if f.contains(b["at"]):
                hh[i] += b["households"]
                break
    return hh


def grow_grids(blocks, households):
    """Greedy region growing: seeds taken west to east, grown along the longest shared border."""
    n = len(blocks)
    touching = {i: {} for i in range(n)}
    for i in range(n):
        for j in range(i + 1, n):
            if blocks[i].intersects(blocks[j]):
                shared = blocks[i].intersection(blocks[j]).length
                if shared > 0:
                    touching[i][j] = touching[j][i] = shared
    owner = [None] * n
    grids = []
    order = sorted(range(n), key=lambda i: blocks[i].centroid.x)
    for seed in order:
        if owner[seed] is not None:
            continue
        members, total = [seed], households[seed]
        owner[seed] = len(grids)
        while total < TARGET_MIN:
            frontier = {}
            for m in members:
                for j, shared in touching[m].items():
                    if owner[j] is None and total + households[j] <= TARGET_MAX:
                        frontier[j] = frontier.get(j, 0) + shared
            if not frontier:
                break
            j = max(frontier, key=lambda k: (frontier[k], -k))
            members.append(j)
            owner[j] = len(grids)
            total += households[j]
        grids.append(members)
    # Grids left under the minimum join the neighbouring grid that stays smallest.
    merged = True
    while merged:
        merged = False
        totals = [sum(households[i] for i in g) for g in grids]
        for gi, g in enumerate(grids):
            if not g or totals[gi] >= TARGET_MIN:
                continue
            neighbours = {owner[j] for m in g for j in touching[m] if owner[j] != gi and grids[owner[j]]}
            if not neighbours:
                continue
            target = min(neighbours, key=lambda k: (totals[k], k))
            # A nearly empty grid (a park, a rail yard) may push its neighbour a little past the maximum.
            if totals[target] + totals[gi] > TARGET_MAX * 1.2 and totals[gi] > 0:
                continue
            for m in g:
                owner[m] = target
            grids[target] += g
            grids[gi] = []
            merged = True
            break
    return [g for g in grids if g]


def rounded(geom):
    """GeoJSON geometry with 7-decimal coordinates and RFC 7946 winding (exterior rings counter-clockwise)."""
    if geom.geom_type == "Polygon":
        geom = orient(geom, 1.0)
    elif geom.geom_type == "MultiPolygon":
        geom = MultiPolygon([orient(p, 1.0) for p in geom.geoms])

    def r(coords):
        return [[round(x, 7), round(y, 7)] for x, y in coords]
    m = mapping(geom)
    t = m["type"]
    if t == "Point":
        return {"type": t, "coordinates": [round(m["coordinates"][0], 7), round(m["coordinates"][1], 7)]}
    if t == "LineString":
        return {"type": t, "coordinates": r(m["coordinates"])}
    if t == "MultiLineString":
        return {"type": t, "coordinates": [r(l) for l in m["coordinates"]]}
    if t == "Polygon":
        return {"type": t, "coordinates": [r(ring) for ring in m["coordinates"]]}
    return {"type": t, "coordinates": [[r(ring) for ring in p] for p in m["coordinates"]]}


def write(folder, name, features):
    doc = {"type": "FeatureCollection", "features": features}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    # One feature per line keeps diffs of the data readable.
    text = text.replace('},{"type":"Feature"', '},\n{"type":"Feature"')
    (Path(folder) / f"{name}.geojson").write_text(text + "\n", encoding="utf-8")
    print(f"{name}: {len(features)} features", file=sys.stderr)


def main(pbf, folder):
    Path(folder).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        feats = list(osm_features(pbf, work))
        xs = [c[0] for f in feats if f["geometry"]["type"] == "Point" for c in [f["geometry"]["coordinates"]]]
        ys = [c[1] for f in feats if f["geometry"]["type"] == "Point" for c in [f["geometry"]["coordinates"]]]
        frame = box(min(xs), min(ys), max(xs), max(ys))
        lines = boundary_lines(pbf, work, frame)

    # Streets: faces of the boundary lines and the frame, labelled by their seeds.
    fs = faces(lines, frame)
    label = label_faces(fs, {name: seed for name, seed, _ in STREETS})
    street_shapes = {name: unary_union([fs[i] for i, l in label.items() if l == name]) for name, _, _ in STREETS}

    # Buildings with their household estimates.
    buildings = []
    for f in feats:
        p = f["properties"]
        if "building" not in p or f["geometry"]["type"] not in ("Polygon", "MultiPolygon"):
            continue
        g = shape(f["geometry"]).intersection(frame)
        if g.is_empty or not g.is_valid:
            continue
        hh = households_of(p, g)
        street = " ".join(x for x in (p.get("addr:street"), p.get("addr:housenumber")) if x)
        buildings.append({"geom": g, "name": p.get("name"), "address": street or None, "floors": floors_mapped(p),
                          "households": hh, "population": round(hh * 1.8), "at": g.representative_point()})

    # Roads (all highway ways) and the block-forming subset.
    roads, block_lines, minor_lines = [], [], []
    for f in feats:
        p = f["properties"]
        if "highway" not in p or f["geometry"]["type"] != "LineString":
            continue
        g = shape(f["geometry"]).intersection(frame)
        if g.is_empty or g.length == 0:
            continue
        width = None
        try:
            width = float(p["width"].replace(",", ".").replace("m", "").strip())
        except (KeyError, ValueError):
            pass
        roads.append(feature(rounded(g), name=p.get("name"), **{"class": p["highway"]}, width=width))
        if p["highway"] in ROAD_CLASSES_FOR_BLOCKS and p.get("tunnel") not in ("yes", "building_passage") and p.get("layer", "0") in ("0", "1", "-0"):
            block_lines.append(g)
        elif p["highway"] in MINOR_CLASSES and p.get("tunnel") is None and p.get("indoor") is None and p.get("layer", "0") in ("0", "-0"):
            minor_lines.append(g)

    # Blocks: one polygonisation of all streets with all street boundaries, so that neighbouring blocks,
    # grids and communities share every vertex and stay seamless after rounding to 7 decimals.
    outlines = [b.exterior for sh in street_shapes.values() for b in polygons_of(sh)] + [frame.exterior]
    blocks = blocks_of(block_lines + outlines, street_shapes)
    hh = households_in([b for b, _ in blocks], buildings)
    # Blocks holding too many households for one grid are split along the lanes and paths inside them.
    lanes = [l.intersection(b) for (b, _), h in zip(blocks, hh) if h > TARGET_MAX for l in minor_lines if l.intersects(b)]
    blocks = blocks_of(block_lines + outlines + [l for l in lanes if not l.is_empty], street_shapes)
    hh = households_in([b for b, _ in blocks], buildings)

    communities = [feature(rounded(as_multi(unary_union([b for b, _ in blocks]))), code=DISTRICT, name="Helsinki (demo district)")]
    for n, (name, _, sub) in enumerate(STREETS, start=1):
        shape_ = as_multi(unary_union([b for b, s in blocks if s == name]))
        communities.append(feature(rounded(shape_), code=f"{DISTRICT}{n:03d}", name=name))
        communities.append(feature(rounded(shape_), code=f"{DISTRICT}{n:03d}001", name=sub or name))

    # Grids: the blocks of each community grown to 200-500 households.
    grids = []
    worker = 0
    for n, (street, _, sub) in enumerate(STREETS, start=1):
        code, cname = f"{DISTRICT}{n:03d}001", sub or street
        mine = [i for i, (_, s) in enumerate(blocks) if s == street]
        cfaces = [blocks[i][0] for i in mine]
        chh = [hh[i] for i in mine]
        groups = grow_grids(cfaces, chh)
        shapes = [(unary_union([cfaces[i] for i in g]), sum(chh[i] for i in g)) for g in groups]
        band = 300 / 111_320  # 300 m rows, in degrees of latitude
        top = max(s.bounds[3] for s, _ in shapes)
        shapes.sort(key=lambda s: (int((top - s[0].representative_point().y) / band), s[0].representative_point().x))
        for seq, (s, total) in enumerate(shapes, start=1):
            gcode = f"{code}{seq:03d}"
            name = WORKERS[worker % len(WORKERS)]
            worker += 1
            grids.append((gcode, s, feature(rounded(as_multi(s)), code=gcode, name=f"{cname} grid {seq:02d}",
                                            worker_name=name, worker_phone=f"+358 50 555 {1000 + worker:04d}",
                                            households=total, population=round(total * 1.8), valid_from="2026-01-01")))

    building_features = []
    for b in buildings:
        owner = next((gc for gc, s, _ in grids if s.contains(b["at"])), None)
        building_features.append(feature(rounded(as_multi(b["geom"])), name=b["name"], address=b["address"], floors=b["floors"],
                                         households=b["households"], population=b["population"], grid_code=owner))

    resources = []
    for f in feats:
        p = f["properties"]
        kind = resource_type(p)
        if not kind:
            continue
        g = shape(f["geometry"])
        pt = g if g.geom_type == "Point" else g.representative_point()
        if not frame.contains(pt):
            continue
        resources.append(feature(rounded(pt), type=kind, name=p.get("name") or p.get("ref"), status="in_service"))

    write(folder, "communities", communities)
    write(folder, "grids", [g for _, _, g in grids])
    write(folder, "buildings", building_features)
    write(folder, "resources", resources)
    write(folder, "roads", roads)
    totals = sorted(g[2]["properties"]["households"] for g in grids)
    print(f"grid households: min {totals[0]}, median {totals[len(totals) // 2]}, max {totals[-1]}; "
          f"{sum(1 for t in totals if TARGET_MIN <= t <= TARGET_MAX)} of {len(totals)} within {TARGET_MIN}-{TARGET_MAX}", file=sys.stderr)


def resource_type(p):
    e, a = p.get("emergency"), p.get("amenity")
    if e == "fire_hydrant":
        return "hydrant"
    if e == "defibrillator":
        return "aed"
    if e in ("lifebuoy", "life_ring"):
        return "lifebuoy"
    if e == "assembly_point" or (a == "shelter" and p.get("shelter_type") not in ("public_transport", "picnic_shelter")):
        return "shelter"
    if a in ("fire_station", "hospital", "police"):
        return a
    if a in ("clinic", "doctors"):
        return "clinic"
    return None


def feature(geometry, **props):
    return {"type": "Feature", "geometry": geometry, "properties": props}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: make-demo-city.py HELSINKI.osm.pbf OUTPUT_FOLDER")
    main(sys.argv[1], sys.argv[2])
