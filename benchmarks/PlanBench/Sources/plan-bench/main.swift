import Foundation
import GeoGrid

// Plan checks and apply in a city of ~10,000 grids (1,156 communities of 9), against the same checks written as
// SpatiaLite SQL (ST_IsValid, ST_Difference, ST_Intersection, ST_Union, ST_Buffer, ST_PointOnSurface over the
// R*Tree, areas in UTM 50N), in one run.
//   swift run -c release plan-bench [sql-sample-communities=60]   (0: SQL over every community)

let sqlSample = CommandLine.arguments.dropFirst().compactMap { Int($0) }.first ?? 60
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let t = now()
    let r = try body()
    return (r, now() - t)
}
func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }

let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geogrid-plan-bench-\(getpid())")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }
let store = try GeoStore(path: dir.appendingPathComponent("bench.sqlite").path, create: true)

// The city: a 102 × 102 mosaic of irregular quadrilaterals (cells of 0.002°), communities of 3 × 3 grids, and
// four buildings a grid on average, scattered (some across boundaries, as in a real city).
let city = SyntheticCity.make(side: 102, blocks: 34)
func load(_ layer: Layer, _ text: String) throws {
    try store.importFeatures(from: InputBytes(data: Data(text.utf8), name: layer.rawValue), options: ImportOptions(layer: layer, format: .geojsonseq))
}
try load(.communities, city.communities)
try load(.grids, city.grids)
let extent = try store.info().layers.first { $0.layer == .grids }!.extent!
var rng = SeededRandom(seed: 11)
var buildings = ""
let mLon = 1 / (111_320 * cos(39.95 * .pi / 180)), mLat = 1 / 110_574.0
for i in 0..<41_616 {
    let cx = rng.next(in: extent.minX...extent.maxX), cy = rng.next(in: extent.minY...extent.maxY)
    let w = rng.next(in: 10...30) * mLon / 2, h = rng.next(in: 10...30) * mLat / 2
    let ring = [(cx - w, cy - h), (cx + w, cy - h), (cx + w, cy + h), (cx - w, cy + h), (cx - w, cy - h)].map { "[\(f($0.0, 7)),\(f($0.1, 7))]" }
    let hh = Int(rng.next(in: 10...60))
    buildings += #"{"type":"Feature","properties":{"name":"B\#(i)","floors":6,"households":\#(hh),"population":\#(hh * 2)},"geometry":{"type":"Polygon","coordinates":[[\#(ring.joined(separator: ","))]]}}"# + "\n"
}
try load(.buildings, buildings)
let gridCount = try store.read { try $0.scalar("SELECT count(*) FROM grids").integer ?? 0 }
let communities: [String] = try store.read { db in
    let s = try db.prepare("SELECT code FROM communities ORDER BY code")
    var out: [String] = []
    while try s.step() { out.append(s.text(0)!) }
    return out
}
print("city: \(gridCount) grids, \(communities.count) communities, 41,616 buildings")
try store.prepareQueryIndexes()
let desk = PlanDesk(store: store)

// One community's change: an interior vertex shared by four of its grids moved 20 m, in all four (seamless).
let community = "110105018018"
let features: [(code: String, geometry: Geometry)] = try store.read { db in
    let s = try db.prepare("SELECT code, geom FROM grids WHERE community_code = ? ORDER BY code")
    try s.bind([.text(community)])
    var out: [(String, Geometry)] = []
    while try s.step() { out.append((s.text(0)!, try s.withBlob(1) { try SpatiaLiteBlob.decode($0).geometry })) }
    return out
}
var seen: [Position: Int] = [:]
for (_, g) in features { for ring in g.polygons.flatMap({ $0 }) { for p in Set(ring.dropLast()) { seen[p, default: 0] += 1 } } }
let shared = seen.filter { $0.value == 4 }.keys.sorted { ($0.lon, $0.lat) < ($1.lon, $1.lat) }.first!
let moved = Position(shared.lon + 20 * mLon, shared.lat + 10 * mLat)
let writer = GeoJSONWriter()
var proposal = Array(#"{"type":"FeatureCollection","features":["#.utf8)
for (i, (code, g)) in features.enumerated() {
    if i > 0 { proposal.append(UInt8(ascii: ",")) }
    writer.feature(Feature(geometry: g.mapPositions { $0 == shared ? moved : $0 }, properties: [("code", .string(code))]), into: &proposal)
}
proposal += Array("]}".utf8)
let plan = try desk.create(try JSONParser.parse(proposal), title: "move a vertex", assignCodes: false, by: .local())

// The checks as SpatiaLite SQL, over `source` (a table of grids with code and geom, and a condition choosing
// one community's), the community's boundary and the buildings through their R*Tree.
// `changed` says which grids are drawn anew (GeoGrid checks a grid's own shape only there; so does this SQL).
func sqlChecks(_ db: Connection, community: String, grids source: String, where condition: String, binds: [FieldValue], changed: String = "1")
    throws -> (errors: Int, cut: Set<Int64>)
{
    var errors = 0
    func count(_ sql: String, _ b: [FieldValue]) throws -> Int {
        let s = try db.prepare(sql)
        try s.bind(b)
        var n = 0
        while try s.step() { n += 1 }
        return n
    }
    let grids = "(SELECT code, geom, ST_Transform(geom, 32650) AS m, \(changed) AS changed FROM \(source) AS s WHERE \(condition))"
    let parent = "(SELECT ST_Transform(geom, 32650) FROM communities WHERE code = '\(community)')"
    errors += try count("SELECT code FROM \(grids) WHERE NOT ST_IsValid(geom)", binds)
    errors += try count("SELECT code FROM \(grids) WHERE changed AND ST_Area(ST_Difference(m, \(parent))) > 1", binds)
    errors += try count("""
        SELECT a.code, b.code FROM \(grids) a JOIN \(grids) b ON a.code < b.code AND (a.changed OR b.changed) AND MbrIntersects(a.geom, b.geom)
        WHERE ST_Area(ST_Intersection(a.m, b.m)) > 1
        """, binds + binds)
    errors += try count("SELECT 1 FROM (SELECT ST_Difference(\(parent), ST_Union(m)) AS gap FROM \(grids)) WHERE gap IS NOT NULL AND ST_Area(gap) > 1", binds)
    _ = try count("SELECT code FROM \(grids) WHERE changed AND ST_Area(ST_Difference(m, ST_Buffer(ST_Buffer(m, -1), 1))) > 4", binds)
    let s = try db.prepare("""
        SELECT b.id FROM \(grids) g JOIN buildings b ON b.id IN (SELECT pkid FROM idx_buildings_geom WHERE xmin <= MbrMaxX(g.geom) AND xmax >= MbrMinX(g.geom)
          AND ymin <= MbrMaxY(g.geom) AND ymax >= MbrMinY(g.geom))
        WHERE ST_Area(ST_Intersection(ST_Transform(b.geom, 32650), g.m)) > max(1, 0.02 * ST_Area(ST_Transform(b.geom, 32650)))
        GROUP BY b.id HAVING count(*) > 1 AND max(g.changed) = 1
        """)
    try s.bind(binds)
    var cut = Set<Int64>()
    while try s.step() { cut.insert(s.int64(0)) }
    _ = try count("""
        SELECT g.code, sum(b.households) FROM \(grids) g JOIN buildings b ON b.id IN (SELECT pkid FROM idx_buildings_geom WHERE xmin <= MbrMaxX(g.geom)
          AND xmax >= MbrMinX(g.geom) AND ymin <= MbrMaxY(g.geom) AND ymax >= MbrMinY(g.geom)) AND ST_Within(ST_PointOnSurface(b.geom), g.geom) GROUP BY g.code
        """, binds)
    return (errors, cut)
}
func cutIDs(_ findings: [PlanFinding]) -> Set<Int64> {
    Set(findings.filter { $0.kind == "cut_building" }.compactMap { f in f.members.first { $0.0 == "building_id" }?.1.numberValue.map { Int64($0) } })
}

if ProcessInfo.processInfo.environment["PLAN_BENCH_PROFILE"] == "one" {
    // For profilers: the one community's check, over and over.
    for _ in 0..<4_000 { _ = try desk.check(plan.id) }
    exit(0)
}
if ProcessInfo.processInfo.environment["PLAN_BENCH_PROFILE"] == "apply" {
    // For profilers: apply and roll back, over and over (each rollback is a new applied plan; the next draft
    // is made afresh from the same proposal).
    var times: [Double] = []
    for _ in 0..<60 {
        let p = try desk.create(try JSONParser.parse(proposal), title: "again", assignCodes: false, by: .local())
        let (applied, t) = try timed { try desk.apply(p.id, effective: PlanDesk.localDay(Date()), by: .local()) }
        times.append(t)
        _ = try desk.rollback(applied.id, by: .local())
    }
    print("apply median \(f(times.sorted()[times.count / 2] * 1000, 1)) ms")
    exit(0)
}
print("\none community (\(features.count) grids), a vertex moved:")
var ours = [Double](), theirs = [Double]()
var last: [PlanFinding] = []
var sqlCut = Set<Int64>()
for _ in 0..<11 {
    let (findings, t) = try timed { try desk.check(plan.id) }
    last = findings
    ours.append(t)
    let (r, u) = try timed { try store.read { db in try sqlChecks(db, community: community, grids: "geogrid_plan_grids", where: "plan_id = ?", binds: [.integer(plan.id)],
        changed: "s.geom IS NOT (SELECT o.geom FROM grids o WHERE o.code = s.code AND o.valid_to IS NULL)") } }
    sqlCut = r.cut
    theirs.append(u)
}
let checkOne = ours.sorted()[ours.count / 2], sqlOne = theirs.sorted()[theirs.count / 2]
print("  GeoGrid check   \(f(checkOne * 1000, 1)) ms (median of 11; \(last.filter { $0.severity == .error }.count) errors, \(cutIDs(last).count) cut buildings)")
print("  SpatiaLite SQL  \(f(sqlOne * 1000, 1)) ms (\(sqlCut.count) cut buildings\(sqlCut == cutIDs(last) ? ", the same" : ", NOT the same"))")
print("  ratio           \(f(sqlOne / checkOne, 1))×   (target: under 1 s, ≥ 10×)")

// Apply (its own check again, the impact, closing, inserting, re-assigning, indexes), once.
let (_, applySeconds) = try timed { try desk.apply(plan.id, effective: PlanDesk.localDay(Date()), by: .local()) }
// The peer: the SQL checks, then the same writes in SQL (close, insert, re-assign buildings by point on surface), rolled back.
let (_, sqlApply) = try timed {
    try store.read { db in
        _ = try sqlChecks(db, community: community, grids: "grids", where: "community_code = ? AND valid_to IS NULL", binds: [.text(community)])
    }
    try store.write { db in
        try db.execute("SAVEPOINT peer")
        try db.execute("UPDATE grids SET valid_to = '2000-01-01' WHERE community_code = '\(community)' AND valid_to IS NULL")
        try db.execute("""
            INSERT INTO grids (code, community_code, households, population, valid_from, geom)
            SELECT code, '\(community)', 0, 0, '2000-01-02', geom FROM geogrid_plan_grids WHERE plan_id = \(plan.id)
            """)
        try db.execute("""
            UPDATE buildings SET grid_code = (SELECT g.code FROM grids g WHERE g.valid_from = '2000-01-02' AND ST_Within(ST_PointOnSurface(buildings.geom), g.geom))
            WHERE id IN (SELECT pkid FROM idx_buildings_geom WHERE xmin <= \(extent.maxX) AND xmax >= \(extent.minX) AND ymin <= \(extent.maxY) AND ymax >= \(extent.minY))
              AND grid_code LIKE '\(community)%'
            """)
        try db.execute("ROLLBACK TO peer")
        try db.execute("RELEASE peer")
    }
}
print("  GeoGrid apply   \(f(applySeconds * 1000, 1)) ms (check, impact, one synced transaction, indexes)")
print("  SQL checks + the same writes  \(f(sqlApply * 1000, 1)) ms")
print("  ratio           \(f(sqlApply / applySeconds, 1))×   (target: under 1 s, ≥ 10×)")

// The whole city: every community's grids in force checked as a plan would be.
print("\nthe whole city (\(communities.count) communities):")
let (cityFindings, citySeconds) = try timed { try desk.checkCity() }
print("  GeoGrid check   \(f(citySeconds, 2)) s (\(cityFindings.filter { $0.severity == .error }.count) errors, \(cityFindings.count) findings, "
    + "\(cutIDs(cityFindings).count) cut buildings)")
let sample = sqlSample <= 0 || sqlSample >= communities.count ? communities : stride(from: 0, to: communities.count, by: communities.count / sqlSample).map { communities[$0] }
let (sqlCityCut, sqlSampleSeconds) = try timed {
    try store.read { db in
        var cut = Set<Int64>()
        for c in sample { cut.formUnion(try sqlChecks(db, community: c, grids: "grids", where: "community_code = ? AND valid_to IS NULL", binds: [.text(c)]).cut) }
        return cut
    }
}
let sqlCity = sqlSampleSeconds * Double(communities.count) / Double(sample.count)
let ourSample = cutIDs(try desk.checkCity(communities: sample))
print("  SpatiaLite SQL  \(f(sqlCity, 2)) s" + (sample.count < communities.count
    ? " (\(f(sqlSampleSeconds, 2)) s for \(sample.count) communities spread over the city, scaled to all)" : "")
    + "; cut buildings in those communities: SQL \(sqlCityCut.count), GeoGrid \(ourSample.count)\(sqlCityCut == ourSample ? " (the same)" : " (NOT the same)")")
print("  ratio           \(f(sqlCity / citySeconds, 1))×   (target: under 10 s, ≥ 10×)")
