import Foundation
import GeoGrid
import TestSupport
import Testing

@testable import TileServer

/// /health's layer counts come from the indexes, not a scan: they must still equal SQL's count(*) after
/// writes through the store, before the indexes are built (from the store) and after.
@Suite struct HealthTests {
    @Test func layerCountsFollowWritesAndEqualSQL() throws {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("demo.sqlite"))
        let store = try GeoStore(path: dir.path("demo.sqlite"))
        let server = GeoGridServer(store: store, configuration: ServerConfiguration())

        func expectCountsEqualSQL(_ when: String) throws {
            let report = try server.healthReport()
            #expect(report["status"]?.stringValue == "ok")
            for layer in Layer.builtIn {
                let sql = try store.read { try $0.scalar("SELECT count(*) FROM \(layer.rawValue)").integer }
                #expect(report["layers"]?[layer.rawValue]?.numberValue == sql.map(Double.init), "\(layer) \(when)")
            }
        }
        try expectCountsEqualSQL("before the indexes are built")
        try store.prepareQueryIndexes()
        try expectCountsEqualSQL("after the build")
        func served(_ layer: Layer) throws -> Double? { try server.healthReport()["layers"]?[layer.rawValue]?.numberValue }
        let buildings = try served(.buildings), resources = try served(.resources)
        try store.write { db in
            try db.execute("DELETE FROM buildings WHERE id IN (SELECT id FROM buildings ORDER BY id LIMIT 3)")
            try db.execute("""
                INSERT INTO resources (type, status, geom) SELECT type, status, ST_Translate(geom, 0.0001, 0, 0)
                FROM resources ORDER BY id LIMIT 2
                """)
        }
        try expectCountsEqualSQL("after a write")
        #expect(try served(.buildings) == buildings.map { $0 - 3 } && served(.resources) == resources.map { $0 + 2 })
    }
}
