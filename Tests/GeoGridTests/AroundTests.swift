import Foundation
import GeoGrid
import TestSupport
import Testing

/// around() on the demo city against SpatiaLite's own ellipsoidal ST_Distance.
@Suite struct AroundTests {
    @Test func agreesWithSpatiaLiteDistances() throws {
        let (store, _) = try LocateTests.demo.get()
        var rng = SeededRandom(seed: 21)
        var compared = 0
        for _ in 0..<15 {
            let p = Position(rng.next(in: 24.938...24.951), rng.next(in: 60.165...60.178))
            let radius = rng.next(in: 60...400)
            let result = try store.around(p, radius: radius)
            #expect(result.location == (try store.locate(p)))
            for (layer, ours) in [(Layer.buildings, Set(result.buildings.map(\.entry.id))), (.roads, Set(result.roads.map(\.entry.id))),
                (.resources, Set(result.resources.map(\.resource.id)))] {
                // SpatiaLite's planar distance in UTM zone 35N (EPSG:32635, scale within 0.05% of true here), to
                // the nearest point of each geometry; ours is within 0.1% of the geodesic, so only features clearly
                // inside or outside the radius are judged.
                let rows: [(Int64, Double)] = try store.read { db in
                    let s = try db.prepare("SELECT id, ST_Distance(ST_Transform(geom, 32635), ST_Transform(MakePoint(?, ?, 4326), 32635)) FROM \(layer.rawValue)")
                    try s.bind([.real(p.lon), .real(p.lat)])
                    var out: [(Int64, Double)] = []
                    while try s.step() { out.append((s.int64(0), s.double(1))) }
                    return out
                }
                for (id, d) in rows {
                    if d < radius * 0.995 { #expect(ours.contains(id), "\(layer) \(id) at \(d) m of \(radius) m is missing") }
                    if d > radius * 1.005 { #expect(!ours.contains(id), "\(layer) \(id) at \(d) m is beyond \(radius) m") }
                    compared += 1
                }
            }
            let t = result.buildingTotals
            let households = Layer.buildings.fields.firstIndex { $0.name == "households" }!
            #expect(t.households == result.buildings.reduce(0) { $0 + ($1.entry.values[households].integer ?? 0) })
        }
        #expect(compared > 10_000)
    }

    @Test func roadsAndResourcesAreSummarised() throws {
        let (store, _) = try LocateTests.demo.get()
        let r = try store.around(Position(24.9458, 60.1699), radius: 150)
        #expect(r.location.grid?.code == "910091004001005")
        #expect(r.buildingTotals.count > 10)
        #expect(r.resourcesByType.contains { $0.type == "hydrant" })
        #expect(r.roadNames.contains { $0.name == "Mikonkatu" })
        #expect(r.resources.map(\.distance) == r.resources.map(\.distance).sorted())
    }

    /// The situation package's summary, totalled while scanning (no lists, no copies), against the summary of the
    /// listed answer `/around` gives: equal at random points, also once writes have put buildings and roads in the
    /// indexes' overlays (some deleted, some moved, some added).
    @Test func theScannedSummaryEqualsTheListedOne() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        var rng = SeededRandom(seed: 8)
        func compare() throws {
            var withBuildings = 0
            for _ in 0..<40 {
                let p = Position(rng.next(in: 24.935...24.954), rng.next(in: 60.164...60.179))
                let radius = rng.next(in: 50...600)
                let listed = QueryJSON.aroundSummary(try store.around(p, radius: radius).summary, given: p)
                let scanned = QueryJSON.aroundSummary(try store.aroundSummary(p, radius: radius), given: p)
                #expect(scanned == listed, "at \(p) within \(radius) m")
                if (listed["buildings"]?["count"]?.numberValue ?? 0) > 0 { withBuildings += 1 }
            }
            #expect(withBuildings >= 30)
        }
        try compare()
        try store.write { db in
            try db.execute("DELETE FROM buildings WHERE id % 7 = 0")
            try db.execute("UPDATE buildings SET households = households + 3 WHERE id % 7 = 1")
            try db.execute("UPDATE roads SET width = 9.5 WHERE id % 5 = 0")
            try db.execute("DELETE FROM roads WHERE id % 11 = 0")
            try db.execute("INSERT INTO roads (name, class, width, geom) VALUES ('Testikatu', 'residential', 4, CastToMultiLinestring(GeomFromText('LINESTRING(24.94 60.17, 24.95 60.171)', 4326)))")
        }
        try compare()
    }
}
