import Foundation
import GeoGrid
import TestSupport
import Testing

/// A running server follows writes that another process (here: this test, with its own connection, as QGIS
/// editing the file would) commits to its store: queries, health and tiles catch up within the watch interval.
@Suite(.enabled(if: which("curl") != nil, "needs curl (scripts/setup.sh test installs it)"))
struct ExternalWriteTests {
    /// Polls `probe` every 0.1 s for up to 15 s until it holds.
    func eventually(_ probe: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if try probe() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    @Test func theServerCatchesUpWithAnotherProcesssWrites() throws {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("demo.sqlite"))
        let server = try RunningServer(db: dir.path("demo.sqlite"), arguments: ["--watch-seconds", "0.2"])
        let p = Position(24.9458, 60.1699)
        func nearest() throws -> (id: Int, distance: Double)? {
            let r = try curl("\(server.baseURL)/nearest?lon=\(p.lon)&lat=\(p.lat)&k=1")
            guard r.status == 200, let first = ((try r.json() as? [String: Any])?["resources"] as? [[String: Any]])?.first else { return nil }
            return (first["id"] as? Int ?? -1, first["distance_m"] as? Double ?? -1)
        }
        let before = try #require(try nearest())
        #expect(before.distance > 1, "nothing stands at the point yet")
        let f = TileID.worldFraction(p)
        let tileURL = "\(server.baseURL)/tiles/resources/16/\(Int(f.x * 65_536))/\(Int(f.y * 65_536)).mvt"
        let tileBefore = try curl(tileURL)  // now cached by the server

        // Another connection to the same file inserts an AED at the point.
        let other = try GeoStore(path: dir.path("demo.sqlite"))
        let id = try other.write { db -> Int64 in
            try db.execute("INSERT INTO resources (type, name, status, geom) VALUES ('aed', 'test AED', 'in_service', MakePoint(\(p.lon), \(p.lat), 4326))")
            return try db.scalar("SELECT last_insert_rowid()").integer!
        }
        #expect(try eventually { try nearest()?.id == Int(id) }, "the server's nearest answers the new AED")
        #expect(try nearest()?.distance == 0)
        let health = try #require(try curl("\(server.baseURL)/health").json() as? [String: Any])
        let count = try other.read { try $0.scalar("SELECT count(*) FROM resources").integer }
        #expect((health["layers"] as? [String: Int])?["resources"] == count.map(Int.init), "health counts the new row")
        let tileAfter = try curl(tileURL)
        #expect(tileAfter.status == 200 && tileAfter.body != tileBefore.body, "the cached tile was dropped and made again")
        #expect(tileAfter.headers["etag"] != tileBefore.headers["etag"])

        // And deleting it there takes it away here.
        try other.write { db in try db.execute("DELETE FROM resources WHERE id = \(id)") }
        #expect(try eventually { try nearest()?.id == before.id }, "the server forgets the deleted AED")
    }
}
