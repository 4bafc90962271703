import Foundation
import GeoGrid
import TestSupport
import Testing

/// Imports keep the R*Tree by packing it or inserting into it; SQLite's rtreecheck(), SpatiaLite's
/// CheckSpatialIndex() and a scan of the geometries are the oracles.
@Suite struct SpatialIndexTests {
    static func squares(_ n: Int, seed: UInt64, start: Int) -> String {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { i in
            let x = 24.8 + rng.next() * 0.3, y = 60.1 + rng.next() * 0.15, s = 0.0001 + rng.next() * 0.0005
            return #"{"type":"Feature","properties":{"name":"b\#(start + i)"},"geometry":{"type":"Polygon","coordinates":[[[\#(x),\#(y)],[\#(x + s),\#(y)],[\#(x + s),\#(y + s)],[\#(x),\#(y + s)],[\#(x),\#(y)]]]}}"#
        }.joined(separator: "\n")
    }

    static func check(_ store: GeoStore, _ expected: Int) throws {
        try store.read { db in
            #expect(try db.scalar("SELECT rtreecheck('idx_buildings_geom')") == .text("ok"))
            #expect(try db.scalar("SELECT CheckSpatialIndex('buildings', 'geom')") == .integer(1))
            #expect(try db.scalar("SELECT count(*) FROM idx_buildings_geom") == .integer(Int64(expected)))
            #expect(try db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'buildings'") == .integer(8))
            var rng = SeededRandom(seed: 99)
            for _ in 0..<20 {
                let x = 24.8 + rng.next() * 0.3, y = 60.1 + rng.next() * 0.15, w = rng.next() * 0.05
                let window = "xmin <= \(x + w) AND xmax >= \(x) AND ymin <= \(y + w) AND ymax >= \(y)"
                let viaIndex = try ids(db, "SELECT pkid FROM idx_buildings_geom WHERE \(window)")
                // The R*Tree keeps 32-bit floats rounded outwards (an ulp here is about 2e-6 degrees): it must
                // find every box meeting the window, and nothing farther than float rounding from it.
                func scan(_ e: Double) throws -> Set<Int64> {
                    try ids(db, """
                        SELECT id FROM buildings WHERE MbrMinX(geom) <= \(x + w + e) AND MbrMaxX(geom) >= \(x - e)
                        AND MbrMinY(geom) <= \(y + w + e) AND MbrMaxY(geom) >= \(y - e)
                        """)
                }
                #expect(viaIndex.isSuperset(of: try scan(0)))
                #expect(viaIndex.isSubset(of: try scan(1e-5)))
            }
        }
    }

    @Test func packedThenInsertedThenRepackedStaysConsistent() throws {
        let (store, dir) = try makeStore()
        _ = dir
        try importText(store, .buildings, Self.squares(3000, seed: 1, start: 0), format: .geojsonseq)  // packed: empty tree
        try Self.check(store, 3000)
        try importText(store, .buildings, Self.squares(10, seed: 2, start: 3000), format: .geojsonseq)  // inserted: 10 < 3000
        try Self.check(store, 3010)
        try importText(store, .buildings, Self.squares(4000, seed: 3, start: 3010), format: .geojsonseq)  // repacked with the old
        try Self.check(store, 7010)
        // SpatiaLite's own triggers are back: a plain SQL insert is indexed by them.
        try store.write { db in
            try db.execute("INSERT INTO buildings (name, geom) VALUES ('sql', GeomFromText('MULTIPOLYGON(((24.9 60.2, 24.91 60.2, 24.91 60.21, 24.9 60.2)))', 4326))")
        }
        try Self.check(store, 7011)
        #expect(throws: (any Error).self) {
            try importText(store, .buildings, Self.squares(5, seed: 4, start: 9000) + "\n{", format: .geojsonseq)
        }
        try Self.check(store, 7011)
    }
}

func ids(_ db: Connection, _ sql: String) throws -> Set<Int64> {
    let s = try db.prepare(sql)
    var out = Set<Int64>()
    while try s.step() { out.insert(s.int64(0)) }
    return out
}
