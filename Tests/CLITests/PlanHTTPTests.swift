import Foundation
import GeoGrid
import TestSupport
import Testing

/// Boundary plans through a real `geo-cli serve` and curl: propose, edit one grid, check, preview, apply, see
/// the map and the answers follow (tiles decoded by mapbox-vector-tile, moved buildings judged by SpatiaLite),
/// as-of answers for the day before, events, and rollback.
@Suite(.serialized, .enabled(if: venvPython != nil && which("curl") != nil, "needs .venv-test (scripts/setup.sh test) and curl"))
struct PlanHTTPTests {
    static let grid = "910091002001001"
    static let community = "910091002001"
    static let east = "910091002001002"

    /// The demo's one-grid community cut at a meridian (`shift` moves the east half's west edge: a gap or an
    /// overlap), as GeoJSON features' geometries, from SpatiaLite.
    static func halves(_ db: String, shift: Double = 0) throws -> (west: String, east: String) {
        let store = try GeoStore(path: db)
        return try store.read { db in
            let s = try db.prepare("""
                SELECT AsGeoJSON(ST_Intersection(geom, BuildMbr(24.93, 60.16, 24.9418, 60.17, 4326))),
                AsGeoJSON(ST_Intersection(geom, BuildMbr(24.9418 + ?, 60.16, 24.95, 60.17, 4326))) FROM grids WHERE code = ?
                """)
            try s.bind([.real(shift), .text(grid)])
            _ = try s.step()
            return (s.text(0)!, s.text(1)!)
        }
    }

    static func feature(_ code: String?, _ geometry: String, worker: String? = nil) -> String {
        var props: [String] = []
        if let code { props.append(#""code":"\#(code)""#) }
        if let worker { props.append(#""worker_name":"\#(worker)""#) }
        props.append(#""community_code":"\#(community)""#)
        return #"{"type":"Feature","properties":{\#(props.joined(separator: ","))},"geometry":\#(geometry)}"#
    }

    static func tokens(_ db: String) throws -> (planner: String, other: String, viewer: String) {
        func token(_ args: [String]) throws -> String {
            let r = try runProcess(CLITests.executable, ["token", "create", "--db", db] + args)
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return (try token(["--role", "planner", "--scope", community, "--name", "planner"]),
            try token(["--role", "planner", "--scope", "910091002002", "--name", "elsewhere"]), try token(["--role", "viewer"]))
    }

    /// Grid codes of the community in a decoded tile.
    static func tileCodes(_ file: String) throws -> [String] {
        let script = """
            import sys, json, mapbox_vector_tile
            t = mapbox_vector_tile.decode(open(sys.argv[1], 'rb').read())
            print(json.dumps(sorted(f['properties']['code'] for f in t.get('grids', {}).get('features', []) if f['properties']['code'].startswith(sys.argv[2]))))
            """
        let r = try runProcess(venvPython!, ["-c", script, file, community])
        try #require(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String])
    }

    /// curl writing the body to a file (tiles are binary): status, ETag.
    static func download(_ url: String, to file: String) throws -> (Int, String?) {
        let r = try runProcess(which("curl") ?? "/usr/bin/curl", ["-sS", "-o", file, "-D", "-", "--max-time", "30", url])
        let status = Int(r.stdout.split(separator: " ").dropFirst().first ?? "") ?? 0
        let etag = r.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag:") }.map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces) }
        return (status, etag)
    }

    @Test func aSplitIsProposedCheckedPreviewedAppliedAndRolledBackOverHTTP() throws {
        let dir = TemporaryDirectory()
        let db = try demoStore(dir)
        let (planner, other, viewer) = try Self.tokens(db)
        let server = try RunningServer(db: db)
        let base = server.baseURL
        let h = IncidentHTTPTests.headers
        func json(_ r: HTTPResult) throws -> [String: Any] { try IncidentHTTPTests.json(r) }
        let (west, east) = try Self.halves(db)
        // The east half without a code: the server assigns the next free one.
        let proposal = #"{"type":"FeatureCollection","features":[\#(Self.feature(Self.grid, west)),\#(Self.feature(nil, east, worker: "East"))]}"#

        // Who may propose: not anonymous (401), not a viewer (403), not a planner of another community (403).
        #expect(try curl("\(base)/plans?assign_codes=true", method: "POST", headers: h(nil), body: proposal).status == 401)
        #expect(try curl("\(base)/plans?assign_codes=true", method: "POST", headers: h(viewer), body: proposal).status == 403)
        #expect(try curl("\(base)/plans?assign_codes=true", method: "POST", headers: h(other), body: proposal).status == 403)
        #expect(try curl("\(base)/plans", method: "POST", headers: h(planner), body: #"{"type":"FeatureCollection","features":[]}"#).status == 422)
        #expect(try curl("\(base)/plans", method: "POST", headers: ["Authorization": "Bearer \(planner)", "Content-Type": "text/plain"], body: proposal).status == 415)
        let made = try curl("\(base)/plans?assign_codes=true&title=Punavuori%20split", method: "POST", headers: h(planner), body: proposal)
        #expect(made.status == 201, "\(made.text)")
        let plan = try json(made)
        let id = try #require(plan["id"] as? Int)
        #expect(made.headers["location"] == "\(base)/plans/\(id)")
        #expect(plan["status"] as? String == "draft" && plan["title"] as? String == "Punavuori split")
        let codes = ((plan["grids"] as? [String: Any])?["features"] as? [[String: Any]])?.compactMap { ($0["properties"] as? [String: Any])?["code"] as? String }
        #expect(codes == [Self.grid, Self.east])
        let listed = try json(try curl("\(base)/plans"))["plans"] as? [[String: Any]]
        #expect(listed?.map { $0["id"] as? Int } == [id])
        // The list counts the plan's grids without reading them: as many as the store holds for it.
        let stored = try runProcess("/usr/bin/sqlite3", [db, "SELECT count(*) FROM geogrid_plan_grids WHERE plan_id = \(id)"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(listed?.first?["grid_count"] as? Int == Int(stored) && stored == "2")

        // One grid moved in the console (its west edge 0.0003° west): an overlap, an error; apply refused with it.
        let (_, overlapping) = try Self.halves(db, shift: -0.0003)
        let edited = try curl("\(base)/plans/\(id)/grids/\(Self.east)", method: "PATCH", headers: h(planner), body: Self.feature(Self.east, overlapping, worker: "East"))
        #expect(edited.status == 200, "\(edited.text)")
        #expect(try curl("\(base)/plans/\(id)/grids/\(Self.east)", method: "PATCH", headers: h(other), body: Self.feature(Self.east, east)).status == 403)
        #expect(try curl("\(base)/plans/\(id)/grids/910091002001099", method: "PATCH", headers: h(planner), body: Self.feature(nil, east)).status == 404)
        let findings = try json(try curl("\(base)/plans/\(id)/check"))["findings"] as? [[String: Any]] ?? []
        let overlap = try #require(findings.first { $0["kind"] as? String == "overlap" })
        #expect(overlap["severity"] as? String == "error" && (overlap["geometry"] as? [String: Any])?["type"] != nil)
        let refused = try curl("\(base)/plans/\(id)/apply", method: "POST", headers: h(planner), body: #"{"effective":"\#(PlanDesk.localDay(Date()))"}"#)
        #expect(refused.status == 409 && refused.headers["content-type"] == "application/problem+json")
        let refusal = try json(refused)
        #expect((refusal["findings"] as? [[String: Any]])?.contains { $0["kind"] as? String == "overlap" } == true)
        // Moved back: no error left.
        #expect(try curl("\(base)/plans/\(id)/grids/\(Self.east)", method: "PATCH", headers: h(planner), body: Self.feature(Self.east, east, worker: "East")).status == 200)
        let checked = try json(try curl("\(base)/plans/\(id)/check"))["findings"] as? [[String: Any]] ?? []
        #expect(!checked.contains { $0["severity"] as? String == "error" }, "\(checked)")

        // The impact: the buildings SpatiaLite puts in the plan's east grid (point on surface within it), no others.
        let store = try GeoStore(path: db)
        let expected: Set<Int> = try store.read { db in
            let s = try db.prepare("""
                SELECT b.id FROM buildings b JOIN geogrid_plan_grids p ON p.plan_id = ? AND ST_Within(ST_PointOnSurface(b.geom), p.geom)
                WHERE p.code <> coalesce(b.grid_code, '')
                """)
            try s.bind([.integer(Int64(id))])
            var out = Set<Int>()
            while try s.step() { out.insert(Int(s.int64(0))) }
            return out
        }
        #expect(!expected.isEmpty)
        let impact = try json(try curl("\(base)/plans/\(id)/impact"))
        #expect(Set((impact["buildings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }) == expected)
        let moved = try json(try curl("\(base)/plans/\(id)/impact", headers: ["Accept": "application/geo+json"]))
        #expect(moved["type"] as? String == "FeatureCollection")
        #expect(Set((moved["features"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }) == expected)
        #expect((moved["features"] as? [[String: Any]])?.allSatisfy { ($0["properties"] as? [String: Any])?["to"] as? String == Self.east } == true)

        // The map before: the tile over the east half shows the one grid, and is cached.
        let p = GEOSContext().representativePoint(try GeoJSON.geometry(from: try JSONParser.parse(east)))!
        let f = TileID.worldFraction(p)
        let tile = "15/\(Int(f.x * 32768))/\(Int(f.y * 32768))"
        let (s0, etag0) = try Self.download("\(base)/tiles/grids/\(tile).mvt", to: dir.path("before.mvt"))
        #expect(s0 == 200)
        #expect(try Self.tileCodes(dir.path("before.mvt")) == [Self.grid])
        _ = try Self.download("\(base)/tiles/grids/\(tile).mvt", to: dir.path("before.mvt"))

        // Apply: listeners hear it; the next tile shows the new boundary, not the cached old one.
        let today = PlanDesk.localDay(Date())
        let yesterday = WorkCalendar.date(WorkCalendar.day(today)! - 1)
        let listener = try IncidentHTTPTests.Listener("\(base)/events?kind=plan_applied,plan_rolled_back&area=\(Self.community)", count: 2, timeout: 20, dir: dir)
        #expect(try curl("\(base)/plans/\(id)/apply", method: "POST", headers: h(other), body: #"{"effective":"\#(today)"}"#).status == 403)
        #expect(try curl("\(base)/plans/\(id)/apply", method: "POST", headers: h(planner), body: #"{"effective":"2001-01-01"}"#).status == 422)
        #expect(try curl("\(base)/plans/\(id)/apply", method: "POST", headers: h(planner), body: #"{"effective":"soon"}"#).status == 422)
        let applied = try curl("\(base)/plans/\(id)/apply", method: "POST", headers: h(planner), body: #"{"effective":"\#(today)"}"#)
        #expect(applied.status == 200, "\(applied.text)")
        let appliedPlan = try json(applied)
        #expect(appliedPlan["in_force"] as? Bool == true && appliedPlan["applied_by"] as? String == "planner")
        let (s1, etag1) = try Self.download("\(base)/tiles/grids/\(tile).mvt", to: dir.path("after.mvt"))
        #expect(s1 == 200 && etag1 != etag0)
        #expect(try Self.tileCodes(dir.path("after.mvt")) == [Self.grid, Self.east])
        _ = try Self.download("\(base)/tiles/grids/\(tile).mvt?at=\(yesterday)", to: dir.path("yesterday.mvt"))
        #expect(try Self.tileCodes(dir.path("yesterday.mvt")) == [Self.grid])
        // Answers: today the east grid, as of yesterday the old one; items by datetime the same.
        let locate = try json(try curl("\(base)/locate?lon=\(p.lon)&lat=\(p.lat)"))
        #expect((locate["grid"] as? [String: Any])?["code"] as? String == Self.east)
        let before = try json(try curl("\(base)/locate?lon=\(p.lon)&lat=\(p.lat)&at=\(yesterday)"))
        #expect((before["grid"] as? [String: Any])?["code"] as? String == Self.grid)
        #expect(try curl("\(base)/locate?lon=\(p.lon)&lat=\(p.lat)&at=yesterday").status == 400)
        func itemCodes(_ datetime: String) throws -> [String] {
            let page = try json(try curl("\(base)/collections/grids/items?community_code=\(Self.community)&datetime=\(datetime)"))
            return (page["features"] as? [[String: Any]] ?? []).compactMap { ($0["properties"] as? [String: Any])?["code"] as? String }.sorted()
        }
        #expect(try itemCodes(yesterday) == [Self.grid])
        #expect(try itemCodes(today) == [Self.grid, Self.east])
        #expect(try itemCodes("\(yesterday)/..").count == 3)
        // Buildings have no dates: datetime selects none of them out (OGC Part 1); a malformed one is still a 400.
        let all = try json(try curl("\(base)/collections/buildings/items?limit=1"))["numberMatched"] as? Int
        let dated = try json(try curl("\(base)/collections/buildings/items?limit=1&datetime=\(today)"))["numberMatched"] as? Int
        #expect(all != nil && dated == all)
        #expect(try curl("\(base)/collections/buildings/items?datetime=2026-13-01").status == 400)
        // The buildings are in their new grid in the store.
        let regridded: Set<Int> = try store.read { db in
            let s = try db.prepare("SELECT id FROM buildings WHERE grid_code = ?")
            try s.bind([.text(Self.east)])
            var out = Set<Int>()
            while try s.step() { out.insert(Int(s.int64(0))) }
            return out
        }
        #expect(regridded == expected)
        #expect(try curl("\(base)/plans/\(id)/apply", method: "POST", headers: h(planner), body: #"{"effective":"\#(today)"}"#).status == 409)

        // Rollback: a new plan (201), the map and the buildings as they were.
        let undo = try curl("\(base)/plans/\(id)/rollback", method: "POST", headers: h(planner))
        #expect(undo.status == 201, "\(undo.text)")
        #expect(try json(undo)["rollback_of"] as? Int == id)
        _ = try Self.download("\(base)/tiles/grids/\(tile).mvt", to: dir.path("undone.mvt"))
        #expect(try Self.tileCodes(dir.path("undone.mvt")) == [Self.grid])
        #expect(try store.read { try $0.scalar("SELECT count(*) FROM buildings WHERE grid_code = '\(Self.east)'").integer } == 0)
        let status = try json(try curl("\(base)/plans/\(id)"))["status"] as? String
        #expect(status == "rolled_back")
        let heard = listener.events()
        #expect(heard.map { $0["event"] as? String } == ["plan_applied", "plan_rolled_back"])
        #expect((heard.first?["data"] as? [String: Any])?["plan_id"] as? Int == id)
        // Every step is in the audit.
        let audited = try store.read { db in
            let s = try db.prepare("SELECT operation FROM geogrid_audit WHERE collection = 'plans' ORDER BY id")
            var out: [String] = []
            while try s.step() { out.append(s.text(0)!) }
            return out
        }
        #expect(audited == ["plan_create", "plan_edit", "plan_edit", "plan_apply", "plan_rollback"])
    }
}
