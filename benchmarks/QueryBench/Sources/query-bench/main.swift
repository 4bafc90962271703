import Foundation
import GeoGrid

// locate and nearest from memory against SpatiaLite's own SQL on the same store, in one run, one core.
//   swift run -c release query-bench [resources=1000000] [seconds-per-measure=3]

let args = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let resourceCount = args.first ?? 1_000_000
let seconds = Double(args.dropFirst().first ?? 3)

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Runs `body(i)` for i = 0, 1, … until `seconds` have passed; returns operations per second.
func rate(_ body: (Int) -> Void) -> Double {
    let start = now()
    var i = 0
    while true {
        for _ in 0..<256 {
            body(i)
            i += 1
        }
        let t = now() - start
        if t >= seconds { return Double(i) / t }
    }
}

let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geogrid-query-bench-\(getpid())")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }
let store = try GeoStore(path: dir.appendingPathComponent("bench.sqlite").path, create: true)

print("loading 10,000 synthetic grids and \(resourceCount) resources…")
let city = SyntheticCity.make(side: 100, blocks: 4)
func load(_ layer: Layer, _ text: String) throws {
    try store.importFeatures(from: InputBytes(data: Data(text.utf8), name: layer.rawValue), options: ImportOptions(layer: layer, format: .geojsonseq))
}
try load(.communities, city.communities)
try load(.grids, city.grids)
let extent = try store.info().layers.first { $0.layer == .grids }!.extent!
try load(.resources, SyntheticCity.resources(count: resourceCount, in: extent))

// Index builds, against reading the same rows from the store.
var t0 = now()
let rowsRead: Int = try store.read { db in
    let s = try db.prepare("SELECT id, type, name, capacity, status, geom FROM resources")
    var n = 0
    while try s.step() {
        _ = s.withBlob(5) { try? SpatiaLiteBlob.decode($0) }
        _ = (s.int64(0), s.text(1), s.text(2), s.value(3), s.text(4))
        n += 1
    }
    return n
}
let readSeconds = now() - t0
t0 = now()
let resources = try store.resourceIndex()  // reads again, then builds
let readAndBuild = now() - t0
let rows = resources.resources
if ProcessInfo.processInfo.environment["QUERY_BENCH_PROFILE"] == "build" {
    for _ in 0..<10 {
        let t = now()
        _ = PointIndex(resources: rows)
        print("build \(now() - t)")
    }
    exit(0)
}
t0 = now()
let rebuilt = PointIndex(resources: rows)
let buildSeconds = now() - t0
t0 = now()
let locator = try store.locator()
let locatorSeconds = now() - t0
precondition(rebuilt.resources.count == rowsRead)

// locate
var rng = SeededRandom(seed: 42)
let points = (0..<1_000_000).map { _ in Position(rng.next(in: extent.minX...extent.maxX), rng.next(in: extent.minY...extent.maxY)) }
var found = 0
let gridsOnly = PolygonIndex(polygons: try store.read { db in
    let s = try db.prepare("SELECT geom FROM grids ORDER BY id")
    var out: [[Ring]] = []
    while try s.step() {
        if case .multiPolygon(let polys) = try s.withBlob(0, { try SpatiaLiteBlob.decode($0).geometry }) { out.append(polys.flatMap { $0 }) }
    }
    return out
})
let pip = rate { i in if gridsOnly.firstContaining(points[i % points.count]) != nil { found += 1 } }
print("point-in-polygon alone: \(pip)")
var answer = locator.locate(points[0])
let ours = rate { i in answer = locator.locate(points[i % points.count]) }
let spatialite: Double = try store.read { db in
    let s = try db.prepare("""
        SELECT code FROM grids WHERE id IN (SELECT pkid FROM idx_grids_geom WHERE xmin <= ?1 AND xmax >= ?1 AND ymin <= ?2 AND ymax >= ?2)
        AND ST_Contains(geom, MakePoint(?1, ?2, 4326))
        """)
    var agree = 0, total = 0
    let r = rate { i in
        let p = points[i % points.count]
        s.reset()
        try! s.bind([.real(p.lon), .real(p.lat)])
        let code = try! s.step() ? s.text(0) : nil
        total += 1
        if code == locator.locate(p).grid?.code { agree += 1 }
    }
    precondition(agree == total, "SpatiaLite and GeoGrid disagree on \(total - agree) of \(total) points")
    return r
}

if ProcessInfo.processInfo.environment["QUERY_BENCH_PROFILE"] == "nearest" {
    // For profilers: nearest alone, for a while.
    let qs = (0..<100_000).map { _ in Position(rng.next(in: extent.minX...extent.maxX), rng.next(in: extent.minY...extent.maxY)) }
    var total = 0.0
    for round in 0..<(Int(ProcessInfo.processInfo.environment["QUERY_BENCH_ROUNDS"] ?? "3") ?? 3) {
        let t = now()
        let k = Int(ProcessInfo.processInfo.environment["QUERY_BENCH_K"] ?? "5")!
        let spread = Int(ProcessInfo.processInfo.environment["QUERY_BENCH_SPREAD"] ?? "100000")!
        for i in 0..<500_000 { total += resources.nearest(qs[i % spread], k: k)[0].distance }
        print("round \(round): \(Int(500_000 / (now() - t))) queries/s")
    }
    if total == 42 { print(total) }
    exit(0)
}

// nearest k = 5
let queries = (0..<100_000).map { _ in Position(rng.next(in: extent.minX...extent.maxX), rng.next(in: extent.minY...extent.maxY)) }
var sink = 0.0
let nearestOurs = rate { i in sink += resources.nearest(queries[i % queries.count], k: 5)[0].distance }
// SpatiaLite: an R*Tree window sized to hold about 20 resources, then ST_Distance on the ellipsoid, ordered.
let area = (extent.maxX - extent.minX) * (extent.maxY - extent.minY)
let half = (area * 20 / Double(resourceCount)).squareRoot() / 2
let nearestSpatiaLite: Double = try store.read { db in
    let s = try db.prepare("""
        SELECT id, ST_Distance(geom, MakePoint(?1, ?2, 4326), 1) AS d FROM resources WHERE id IN (
            SELECT pkid FROM idx_resources_geom WHERE xmin <= ?1 + ?3 AND xmax >= ?1 - ?3 AND ymin <= ?2 + ?3 AND ymax >= ?2 - ?3)
        ORDER BY d LIMIT 5
        """)
    return rate { i in
        let p = queries[i % queries.count]
        s.reset()
        try! s.bind([.real(p.lon), .real(p.lat), .real(half)])
        while try! s.step() { sink += s.double(1) }
    }
}

func fmt(_ v: Double) -> String { v >= 1e6 ? String(format: "%.2fM", v / 1e6) : String(format: "%.0f", v) }
print("")
print("one core, release build; \(rowsRead) resources, 10,000 grids")
print("locate      GeoGrid \(fmt(ours)) points/s   SpatiaLite ST_Contains via R*Tree \(fmt(spatialite)) points/s   ratio \(String(format: "%.0f", ours / spatialite))×   (targets ≥ 2M/s, ≥ 100×)")
print("nearest k=5 GeoGrid \(fmt(nearestOurs)) queries/s   SpatiaLite R*Tree window + ST_Distance \(fmt(nearestSpatiaLite)) queries/s   ratio \(String(format: "%.0f", nearestOurs / nearestSpatiaLite))×   (targets ≥ 500k/s, ≥ 50×)")
print(String(format: "index build: %d resources %.2f s (reading them from the store: %.2f s; read + build %.2f s); 10,000 grids read + build %.2f s",
    rowsRead, buildSeconds, readSeconds, readAndBuild, locatorSeconds))
print(String(format: "index memory: locate %.1f MiB, nearest %.1f MiB", Double(locator.memoryBytes) / 1_048_576, Double(resources.memoryBytes) / 1_048_576))
if sink == 42 || answer.owner == .outside { print("") }  // keeps the work from being optimised away
