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
}
