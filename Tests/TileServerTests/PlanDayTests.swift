import Foundation
import GeoGrid
import Logging
import Synchronization
import TestSupport
import Testing

@testable import TileServer

/// A plan applied with tomorrow's date takes effect when the day turns, with no other command: the server's
/// own clock thread brings it into force. The server runs in this process on 127.0.0.1 with the store's day
/// clock under the test's control; answers are asked of it over HTTP with curl, the map's tiles decoded by
/// mapbox-vector-tile and the buildings' grids judged by SpatiaLite.
@Suite(.enabled(if: venvPython != nil && which("curl") != nil, "needs .venv-test (scripts/setup.sh test) and curl"))
struct PlanDayTests {
    static let grid = "910091002001001"
    static let community = "910091002001"
    static let east = "910091002001002"
    static let executor = DedicatedExecutor(name: "plan-day-server")

    @Test func aPlanDatedTomorrowTakesEffectWhenTheDayTurns() async throws {
        let dir = TemporaryDirectory()
        let db = try demoStore(dir)
        let store = try GeoStore(path: db)
        let realToday = PlanDesk.localDay(Date())
        let day = Mutex(realToday)
        store.setDayClock { day.withLock { $0 } }
        let tomorrow = WorkCalendar.date(WorkCalendar.day(realToday)! + 1)
        try store.prepareQueryIndexes()

        // Open cases spread across the coming boundary, and the split proposed and applied from tomorrow.
        let cases = IncidentDesk(store: store)
        for i in 0..<10 { _ = try cases.report(IncidentReport(position: Position(24.9400 + Double(i) * 0.0004, 60.16466), category: "E0102"), by: .local()) }
        let (west, eastHalf) = try Self.halves(store)
        let desk = PlanDesk(store: store)
        let plan = try desk.create(try JSONParser.parse("""
            {"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"\(Self.grid)"},"geometry":\(west)},
            {"type":"Feature","properties":{"code":"\(Self.east)","worker_name":"East"},"geometry":\(eastHalf)}]}
            """), title: "from tomorrow", assignCodes: false, by: .local())
        let applied = try desk.apply(plan.id, effective: tomorrow, by: .local())
        #expect(applied.status == .applied && !applied.inForce)
        let gridsBefore = try Self.grids(store)

        let server = GeoGridServer(store: store, configuration: ServerConfiguration(host: "127.0.0.1", port: 0, tileCacheBytes: 16 << 20))
        let port = Mutex(0)
        let app = server.application(logger: Logger(label: "test")) { p in port.withLock { $0 = p } }
        // On threads of its own: under the whole suite, synchronous tests elsewhere may hold the cooperative ones.
        let running = Task(executorPreference: Self.executor) { try await app.runService() }
        let clock = server.startIncidentClock()
        defer {
            clock.stop()
            running.cancel()
        }
        // Other suites' tests may hold the cooperative threads the server runs on for a while: wait, without
        // holding one (every blocking call below runs on a dispatch thread).
        let deadline = Date().addingTimeInterval(180)
        while port.withLock({ $0 }) == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let base = "http://127.0.0.1:\(port.withLock { $0 })"

        let p = GEOSContext().representativePoint(try GeoJSON.geometry(from: try JSONParser.parse(eastHalf)))!
        let f = TileID.worldFraction(p)
        let tileURL = "\(base)/tiles/grids/15/\(Int(f.x * 32768))/\(Int(f.y * 32768)).mvt"
        @Sendable func code(_ query: String) async throws -> String? {
            let r = try await offCooperativePool { try curl("\(base)/locate?lon=\(p.lon)&lat=\(p.lat)\(query)") }
            return ((try r.json() as? [String: Any])?["grid"] as? [String: Any])?["code"] as? String
        }
        func locate() async throws -> String? { try await code("") }
        @Sendable func tileCodes() throws -> [String] {
            let file = dir.path("tile-\(UUID().uuidString).mvt")
            let r = try runProcess(which("curl") ?? "/usr/bin/curl", ["-sS", "-o", file, "--max-time", "30", tileURL])
            try #require(r.status == 0)
            let script = """
                import sys, json, mapbox_vector_tile
                t = mapbox_vector_tile.decode(open(sys.argv[1], 'rb').read())
                print(json.dumps(sorted(f['properties']['code'] for f in t.get('grids', {}).get('features', []) if f['properties']['code'].startswith(sys.argv[2]))))
                """
            let out = try runProcess(venvPython!, ["-c", script, file, Self.community])
            try #require(out.status == 0, "\(out.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String])
        }
        // Today: the old grid everywhere, on the map too (and that tile now cached).
        #expect(try await locate() == Self.grid)
        #expect(try await offCooperativePool(tileCodes) == [Self.grid])
        #expect(try Self.grids(store) == gridsBefore)

        // Midnight. Within a few seconds the server has brought the plan into force by itself.
        day.withLock { $0 = tomorrow }
        var inForce = false
        let waitUntil = Date().addingTimeInterval(120)
        while !inForce && Date() < waitUntil {
            try await Task.sleep(for: .milliseconds(100))
            let r = try await offCooperativePool { try curl("\(base)/plans/\(plan.id)") }
            inForce = (try r.json() as? [String: Any])?["in_force"] as? Bool == true
        }
        #expect(inForce)
        #expect(try await locate() == Self.east)
        #expect(try await offCooperativePool(tileCodes) == [Self.grid, Self.east])
        // Buildings and open cases in the grids SpatiaLite says hold them (point on surface / the point).
        let expected: [String: [Int64: String]] = try store.read { db in
            var out: [String: [Int64: String]] = [:]
            for (table, point) in [("buildings", "ST_PointOnSurface(t.geom)"), ("incidents", "t.geom")] {
                let s = try db.prepare("""
                    SELECT t.id, g.code FROM \(table) t JOIN grids g ON g.community_code = ? AND g.valid_from = ? AND ST_Within(\(point), g.geom)
                    \(table == "incidents" ? "WHERE t.open = 1" : "")
                    """)
                try s.bind([.text(Self.community), .text(tomorrow)])
                while try s.step() { out[table, default: [:]][s.int64(0)] = s.text(1)! }
            }
            return out
        }
        let after = try Self.grids(store)
        #expect(expected["buildings"]?.values.contains(Self.east) == true && expected["incidents"]?.values.contains(Self.east) == true)
        for (table, rows) in expected { for (id, code) in rows { #expect(after[table]?[id] == code, "\(table) \(id)") } }
        let movedCases = (after["incidents"] ?? [:]).filter { gridsBefore["incidents"]?[$0.key] != $0.value }.count
        let regrids = try store.read { try $0.scalar("SELECT count(*) FROM geogrid_incident_history WHERE action = 'regrid'").integer }
        #expect(regrids == Int64(movedCases) && movedCases > 0)
        let events = try store.read { try $0.scalar("SELECT count(*) FROM geogrid_events WHERE kind = 'plan_in_force'").integer }
        #expect(events == 1)
        // As of yesterday (the real today), still the old grid.
        #expect(try await code("&at=\(realToday)") == Self.grid)

        // Rolled back on its first day: every building and case back where it was.
        _ = try desk.rollback(plan.id, by: .local())
        #expect(try Self.grids(store) == gridsBefore)
        #expect(try await locate() == Self.grid)
    }

    /// Runs blocking work (curl, Python) on a dispatch thread, so that the in-process server keeps the
    /// cooperative threads it needs.
    /// An apply that fails at its last statement leaves every cached tile in place (and as it would be encoded
    /// again); one that succeeds drops exactly the grid tiles over the grid it redrew, and leaves tiles of
    /// layers it did not touch.
    @Test func aFailedApplyLeavesTheTilesAndASuccessfulOneDropsTheRedrawnOnes() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        try store.prepareQueryIndexes()
        let server = GeoGridServer(store: store, configuration: ServerConfiguration(tileCacheBytes: 64 << 20))
        let community: BBox = try store.read { db in
            let s = try db.prepare("SELECT MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom) FROM communities WHERE code = ?")
            try s.bind([.text(Self.community)])
            _ = try s.step()
            return BBox(minX: s.double(0), minY: s.double(1), maxX: s.double(2), maxY: s.double(3))
        }
        let today = store.today
        func encode(_ key: TileCache.Key) -> [UInt8] {
            VectorTiles.encode(key.tile, layers: key.layers) { layer, box in
                let found = try! store.shapeIndex(layer).entries(intersecting: box)
                guard layer.rules == .grids else { return found }
                let inForce = layer.inForce(on: today)
                return found.filter { inForce($0.values) }
            }
        }
        var keys: [TileCache.Key] = []
        for z in 14...16 {
            let n = Double(1 << z)
            let lo = TileID.worldFraction(Position(community.minX - 0.01, community.maxY + 0.005)), hi = TileID.worldFraction(Position(community.maxX + 0.01, community.minY - 0.005))
            for x in Int(lo.x * n)...Int(hi.x * n) {
                for y in Int(lo.y * n)...Int(hi.y * n) {
                    for layers in [[Layer.grids], [Layer.roads]] {
                        let key = TileCache.Key(layers: layers, tile: TileID(z: z, x: x, y: y)!, day: layers == [.grids] ? today : nil)
                        server.tiles.put(key, .init(bytes: encode(key)))
                        keys.append(key)
                    }
                }
            }
        }
        let (west, east) = try Self.halves(store)
        let desk = PlanDesk(store: store)
        let plan = try desk.create(try JSONParser.parse("""
            {"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"\(Self.grid)"},"geometry":\(west)},
            {"type":"Feature","properties":{"code":"\(Self.east)"},"geometry":\(east)}]}
            """), title: nil, assignCodes: false, by: .local())
        try store.write { db in
            try db.execute("CREATE TRIGGER fault BEFORE INSERT ON geogrid_events WHEN NEW.kind = 'plan_applied' BEGIN SELECT RAISE(ABORT, 'injected fault'); END")
        }
        #expect(throws: (any Error).self) { try desk.apply(plan.id, effective: today, by: .local()) }
        for key in keys {
            let cached = server.tiles.get(key)
            #expect(cached != nil && cached?.bytes == encode(key), "\(key.layers) \(key.tile)")
        }
        try store.write { db in try db.execute("DROP TRIGGER fault") }
        _ = try desk.apply(plan.id, effective: today, by: .local())
        var dropped = 0
        for key in keys {
            let bounds = key.tile.bounds(buffer: Double(VectorTiles.buffer), extent: Double(VectorTiles.extent))
            let gone = server.tiles.get(key) == nil
            if key.layers == [.roads] { #expect(!gone, "roads \(key.tile)") }
            if key.layers == [.grids] {
                // Exactly the grid tiles over the redrawn grid (its community, here one grid) go.
                #expect(gone == bounds.intersects(community), "grids \(key.tile)")
                if gone { dropped += 1 }
            }
        }
        #expect(dropped >= 3 && dropped < keys.count / 2)
    }

    /// The demo's one-grid community cut at 24.9418°E, as GeoJSON geometries (SpatiaLite's).
    static func halves(_ store: GeoStore) throws -> (west: String, east: String) {
        try store.read { db in
            let s = try db.prepare("""
                SELECT AsGeoJSON(ST_Intersection(geom, BuildMbr(24.93, 60.16, 24.9418, 60.17, 4326))),
                AsGeoJSON(ST_Intersection(geom, BuildMbr(24.9418, 60.16, 24.95, 60.17, 4326))) FROM grids WHERE code = ?
                """)
            try s.bind([.text(grid)])
            _ = try s.step()
            return (s.text(0)!, s.text(1)!)
        }
    }

    /// Buildings' and open cases' grid codes, by table and id.
    static func grids(_ store: GeoStore) throws -> [String: [Int64: String]] {
        try store.read { db in
            var out: [String: [Int64: String]] = [:]
            for table in ["buildings", "incidents"] {
                let s = try db.prepare("SELECT id, grid_code FROM \(table)\(table == "incidents" ? " WHERE open = 1" : "")")
                while try s.step() { out[table, default: [:]][s.int64(0)] = s.text(1) ?? "" }
            }
            return out
        }
    }
}
