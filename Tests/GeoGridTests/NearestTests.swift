import Foundation
import GeoGrid
import TestSupport
import Testing

@Suite(.serialized) struct NearestTests {
    static let types = ["hydrant", "aed", "hospital", "fire_station"]
    static let statuses = ["in_service", "out_of_service"]

    static let store: Result<(GeoStore, TemporaryDirectory), Error> = Result {
        let (store, dir) = try makeStore()
        var rng = SeededRandom(seed: 11)
        var lines: [String] = []
        for i in 0..<2_500 {
            // Clustered like a city, with some resources sharing a position (ties are broken by id).
            var lon = 116.2 + rng.next() * 0.4, lat = 39.75 + rng.next() * 0.3
            if i % 50 == 1 { lon = 116.4; lat = 39.9 }
            let type = types[Int(rng.next() * Double(types.count))], status = rng.next() < 0.8 ? statuses[0] : statuses[1]
            lines.append(#"{"type":"Feature","properties":{"type":"\#(type)","status":"\#(status)","name":"r\#(i)"},"geometry":{"type":"Point","coordinates":[\#(lon),\#(lat)]}}"#)
        }
        try importText(store, .resources, lines.joined(separator: "\n"), format: .geojsonseq)
        return (store, dir)
    }

    struct Resource {
        var id: Int64, type: String, status: String, p: Position, ecef: SIMD3<Double>
    }

    /// Every resource as the store holds it, read with SQL: the brute force's input.
    static func allResources(_ store: GeoStore) throws -> [Resource] {
        try store.read { db in
            let s = try db.prepare("SELECT id, type, status, X(geom), Y(geom) FROM resources")
            var out: [Resource] = []
            while try s.step() {
                let p = Position(s.double(3), s.double(4))
                out.append(Resource(id: s.int64(0), type: s.text(1)!, status: s.text(2)!, p: p, ecef: Geodesy.ecef(p)))
            }
            return out
        }
    }

    struct Query {
        var p: Position, k: Int, types: Set<String>?, statuses: Set<String>?, within: Double?
    }

    static func queries(_ n: Int, seed: UInt64) -> [Query] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { i in
            // Mostly inside the resources' extent, some far outside it (up to ~100 km).
            let far = i % 20 == 0
            let p = Position(116.2 + rng.next(in: far ? -1.0...1.4 : 0...0.4), 39.75 + rng.next(in: far ? -0.8...1.1 : 0...0.3))
            let k = 1 + Int(rng.next() * 8)
            let types: Set<String>? = rng.next() < 0.5 ? nil : Set(Self.types.filter { _ in rng.next() < 0.5 })
            let statuses: Set<String>? = rng.next() < 0.7 ? nil : ["in_service"]
            let within: Double? = rng.next() < 0.7 ? nil : rng.next(in: 50...3000)
            return Query(p: i % 97 == 0 ? Position(116.4, 39.9) : p, k: k, types: types, statuses: statuses, within: within)
        }
    }

    @Test func agreesWithABruteForceScan() throws {
        let (store, _) = try Self.store.get()
        let all = try Self.allResources(store)
        let index = try store.resourceIndex()
        var checked = 0
        for q in Self.queries(10_000, seed: 5) {
            let ours = index.nearest(q.p, k: q.k, types: q.types, statuses: q.statuses, within: q.within)
            // Every resource, the same distance function, the k smallest by (distance, id).
            let origin = Geodesy.Origin(q.p)
            var expected: [(id: Int64, d: Double)] = []
            for r in all where (q.types?.contains(r.type) ?? true) && (q.statuses?.contains(r.status) ?? true) {
                let d = origin.distance(to: r.p, r.ecef)
                guard d <= (q.within ?? .infinity) else { continue }
                if expected.count == q.k, let last = expected.last, (last.d, last.id) < (d, r.id) { continue }
                expected.append((r.id, d))
                expected.sort { ($0.d, $0.id) < ($1.d, $1.id) }
                if expected.count > q.k { expected.removeLast() }
            }
            #expect(ours.map(\.resource.id) == expected.map(\.id), "\(q)")
            #expect(ours.map(\.distance) == expected.map(\.d))
            checked += 1
        }
        #expect(checked == 10_000)
    }

    /// Distances agree with Karney's algorithm (pyproj's Geod, an independent implementation) to 1 mm.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs Debian's python3-pyproj"))
    func distancesAgreeWithPyproj() throws {
        let (store, _) = try Self.store.get()
        let index = try store.resourceIndex()
        var rows: [String] = []
        for q in Self.queries(2_000, seed: 8) {
            for h in index.nearest(q.p, k: q.k, types: q.types) {
                rows.append("\(q.p.lon),\(q.p.lat),\(h.resource.position.lon),\(h.resource.position.lat),\(h.distance),\(h.bearing)")
            }
        }
        let dir = TemporaryDirectory()
        try rows.joined(separator: "\n").write(toFile: dir.path("pairs.csv"), atomically: true, encoding: .utf8)
        let script = """
            import sys
            from pyproj import Geod
            g = Geod(ellps="WGS84")
            worst = worst_bearing = longest = 0.0
            for line in open(sys.argv[1]):
                lon1, lat1, lon2, lat2, d, b = map(float, line.split(","))
                az, _, dist = g.inv(lon1, lat1, lon2, lat2)
                worst = max(worst, abs(dist - d))
                longest = max(longest, dist)
                if dist > 1:
                    worst_bearing = max(worst_bearing, abs((az % 360 - b + 180) % 360 - 180))
            print(worst, worst_bearing, longest)
            """
        let r = try runProcess("/usr/bin/python3", ["-c", script, dir.path("pairs.csv")])
        #expect(r.status == 0, "\(r.stderr)")
        let parts = r.stdout.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(parts.count == 3)
        #expect(parts[0] <= 0.001, "worst distance error \(parts[0]) m")
        #expect(parts[1] <= 0.01, "worst bearing error \(parts[1])°")
        #expect(parts[2] > 50_000, "some lines are long enough for Vincenty")
    }

    @Test func filtersAndLimits() throws {
        let (store, _) = try Self.store.get()
        let p = Position(116.4, 39.9)
        let hits = try store.nearest(p, k: 5, types: ["hospital"], statuses: ["in_service"], within: 2000)
        #expect(!hits.isEmpty && hits.allSatisfy { $0.resource.type == "hospital" && $0.resource.status == "in_service" && $0.distance <= 2000 })
        #expect(try store.nearest(p, k: 3, types: ["no_such_type"]).isEmpty)
        #expect(try store.nearest(Position(0, 0), k: 2, within: 1000).isEmpty)
        let far = try store.nearest(Position(0, 0), k: 2)
        #expect(far.count == 2 && far[0].distance > 10_000_000)
    }
}

/// The distance function itself against Karney's algorithm (pyproj's Geod), on lines anywhere on Earth up to
/// ±80° latitude: the bounds `Geodesy`'s notes state.
@Suite struct GeodesyTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs Debian's python3-pyproj"))
    func distancesAgreeWithKarneyAtEveryLatitude() throws {
        var rng = SeededRandom(seed: 77)
        var rows: [String] = []
        for i in 0..<20_000 {
            // Lengths spread over every scale to 50 km (a quarter past the chord limit, for Vincenty).
            let length = i % 4 == 0 ? rng.next(in: 40_000...50_000) : pow(10, rng.next(in: 0...4.6))
            let p = Position(rng.next(in: -180...180), rng.next(in: -80...80))
            let azimuth = rng.next(in: 0...(2 * .pi))
            // An end point about `length` away (a local flat step is enough: the check is of our distance to it).
            let dLat = length * cos(azimuth) / 111_000, dLon = length * sin(azimuth) / (111_000 * cos(p.lat * .pi / 180))
            let q = Position(p.lon + dLon, p.lat + dLat)
            let o = Geodesy.Origin(p)
            rows.append("\(p.lon),\(p.lat),\(q.lon),\(q.lat),\(o.distance(to: q, Geodesy.ecef(q))),\(Geodesy.bearing(p, q))")
        }
        let dir = TemporaryDirectory()
        try rows.joined(separator: "\n").write(toFile: dir.path("lines.csv"), atomically: true, encoding: .utf8)
        let script = """
            import sys
            from pyproj import Geod
            g = Geod(ellps="WGS84")
            worst = {10e3: 0.0, 40e3: 0.0, 50e3: 0.0}
            worst_bearing = 0.0
            for line in open(sys.argv[1]):
                lon1, lat1, lon2, lat2, d, b = map(float, line.split(","))
                az, _, dist = g.inv(lon1, lat1, lon2, lat2)
                for limit in worst:
                    if dist <= limit:
                        worst[limit] = max(worst[limit], abs(dist - d))
                        break
                if dist > 1:
                    worst_bearing = max(worst_bearing, abs((az % 360 - b + 180) % 360 - 180))
            print(worst[10e3], worst[40e3], worst[50e3], worst_bearing)
            """
        let r = try runProcess("/usr/bin/python3", ["-c", script, dir.path("lines.csv")])
        #expect(r.status == 0, "\(r.stderr)")
        let worst = r.stdout.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(worst.count == 4)
        #expect(worst[0] <= 0.000_001, "up to 10 km: worst \(worst[0]) m")
        #expect(worst[1] <= 0.000_01, "10-40 km: worst \(worst[1]) m")
        #expect(worst[2] <= 0.000_1, "40-50 km (Vincenty): worst \(worst[2]) m")
        #expect(worst[3] <= 0.01, "bearing: worst \(worst[3])°")
        print("geodesy vs Karney: worst \(worst[0]) m to 10 km, \(worst[1]) m to 40 km, \(worst[2]) m to 50 km; bearing \(worst[3])°")
    }
}

@Suite struct BearingTests {
    /// The bearing's own arctangent against libm's, over every octant and the axes.
    @Test func arctangentAgreesWithLibm() {
        var rng = SeededRandom(seed: 44)
        var worst = 0.0
        for i in 0..<200_000 {
            let y = i % 97 == 0 ? 0 : rng.next(in: -1...1) * pow(10, rng.next(in: -6...6))
            let x = i % 89 == 0 ? 0 : rng.next(in: -1...1) * pow(10, rng.next(in: -6...6))
            guard x != 0 || y != 0 else { continue }
            worst = max(worst, abs(Geodesy.atan2Degrees(y, x) - atan2(y, x) * 180 / .pi))
        }
        #expect(worst < 1e-11, "worst difference \(worst)°")
    }
}
