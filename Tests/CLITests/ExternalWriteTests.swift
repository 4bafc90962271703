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

/// Issue 9: a layer another process defines and fills is served with no restart: collections, items with
/// their extra attributes, field filters on them, TileJSON, tiles, the style, nearest and around.
@Suite(.enabled(if: which("curl") != nil, "needs curl (scripts/setup.sh test installs it)"))
struct DefinedLayerServingTests {
    @Test func aNewLayerIsServedWithoutARestart() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("demo.sqlite")
        try DemoCity.build(from: Fixtures.demoCity.path, at: db)
        let server = try RunningServer(db: db, arguments: ["--watch-seconds", "0.2"])
        let cli = { (args: [String], input: String?) throws -> ProcessResult in try runProcess(CLITests.executable, args, input: input.map { Data($0.utf8) }) }
        #expect(try curl("\(server.baseURL)/collections/cameras").status == 404)
        #expect(try cli(["layer", "create", "--db", db, "cameras", "--geometry", "point", "--field", "name:text", "--field", "end:date",
            "--field", "keeper_phone:text:personal", "--tile-properties", "name,BRAND"], nil).status == 0)
        let p = Position(24.9458, 60.1699)
        let cameras = """
            {"type":"Feature","properties":{"name":"C1","end":"2027-01-31","keeper_phone":"555-0101","BRAND":"Hik","PIXELS":8},"geometry":{"type":"Point","coordinates":[\(p.lon),\(p.lat)]}}
            {"type":"Feature","properties":{"name":"C2","BRAND":"Dahua","PIXELS":4},"geometry":{"type":"Point","coordinates":[\(p.lon + 0.0005),\(p.lat)]}}
            """
        #expect(try cli(["import", "--db", db, "--layer", "cameras", "--format", "geojsonseq", "-"], cameras).status == 0)
        let deadline = Date().addingTimeInterval(15)
        while try curl("\(server.baseURL)/collections/cameras").status != 200 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let collections = try #require(try curl("\(server.baseURL)/collections").json() as? [String: Any])
        #expect((collections["collections"] as? [[String: Any]])?.contains { $0["id"] as? String == "cameras" } == true)
        let items = try #require(try curl("\(server.baseURL)/collections/cameras/items").json() as? [String: Any])
        let features = items["features"] as? [[String: Any]] ?? []
        #expect(features.count == 2 && (features.first?["properties"] as? [String: Any])?["BRAND"] as? String == "Hik")
        let filtered = try #require(try curl("\(server.baseURL)/collections/cameras/items?PIXELS=4").json() as? [String: Any])
        #expect(filtered["numberMatched"] as? Int == 1 && ((filtered["features"] as? [[String: Any]])?.first?["properties"] as? [String: Any])?["name"] as? String == "C2")
        #expect(try curl("\(server.baseURL)/collections/cameras/items?COLOUR=red").status == 400, "a name no feature has is an unknown parameter")
        let tilejson = try #require(try curl("\(server.baseURL)/tiles/cameras.json").json() as? [String: Any])
        let fields = ((tilejson["vector_layers"] as? [[String: Any]])?.first?["fields"] as? [String: String]) ?? [:]
        #expect(Set(fields.keys) == ["name", "BRAND"], "configured tile properties, personal fields never")
        let style = try curl("\(server.baseURL)/style.json")
        #expect(String(decoding: style.body, as: UTF8.self).contains("\"source-layer\":\"cameras\""))
        let f = TileID.worldFraction(p)
        let tile = try curl("\(server.baseURL)/tiles/cameras/16/\(Int(f.x * 65_536))/\(Int(f.y * 65_536)).mvt")
        #expect(tile.status == 200)
        if let python = venvPython {
            let tilePath = dir.path("t.mvt")
            try tile.body.write(to: URL(fileURLWithPath: tilePath))
            let decoded = try runProcess(python, ["-c", """
                import json, sys, mapbox_vector_tile
                t = mapbox_vector_tile.decode(open(sys.argv[1], 'rb').read())
                print(json.dumps(sorted([f['properties'] for f in t['cameras']['features']], key=lambda p: p['name'])))
                """, tilePath])
            #expect(decoded.stdout.contains(#""BRAND": "Hik""#) && !decoded.stdout.contains("555-0101") && !decoded.stdout.contains("PIXELS"), "\(decoded.stdout) \(decoded.stderr)")
        }
        let near = try #require(try curl("\(server.baseURL)/nearest?lon=\(p.lon)&lat=\(p.lat)&layer=cameras&k=1").json() as? [String: Any])
        #expect(((near["features"] as? [[String: Any]])?.first)?["name"] as? String == "C1")
        #expect(try curl("\(server.baseURL)/nearest?lon=\(p.lon)&lat=\(p.lat)&layer=roads").status == 400)
        let around = try #require(try curl("\(server.baseURL)/around?lon=\(p.lon)&lat=\(p.lat)&radius=100").json() as? [String: Any])
        let aroundFeatures = around["features"] as? [[String: Any]] ?? []
        #expect(aroundFeatures.contains { ($0["properties"] as? [String: Any])?["layer"] as? String == "cameras" })
        #expect(((around["summary"] as? [String: Any])?["layers"] as? [String: Int])?["cameras"] == 2)
    }
}
