import Foundation
import GeoGrid
import TestSupport
import Testing

/// Issue 10 over HTTP, against a real server on 127.0.0.1: reports, lists, transitions, the situation package
/// against /locate, /nearest and /around, Open311 with the PyPI georeport client, live events with sseclient-py
/// (resumed after a disconnect and after a restart), lights pushed when their limit passes, and acknowledged
/// reports that survive kill -9.
@Suite(.enabled(if: which("curl") != nil && venvPython != nil, "needs curl and .venv-test (scripts/setup.sh test)"))
struct IncidentHTTPTests {
    struct Setup {
        let dir: TemporaryDirectory
        let db: String
        let dispatcher: String, viewer: String, worker: String
        let home: Position
        let grid: String
    }

    static func setUp() throws -> Setup {
        let dir = TemporaryDirectory()
        let db = try demoStore(dir)
        let store = try GeoStore(path: db)
        let (grid, geometry) = try store.read { db -> (String, Geometry) in
            let s = try db.prepare("SELECT code, geom FROM grids ORDER BY id LIMIT 1")
            _ = try s.step()
            return (s.text(0)!, try s.withBlob(1) { try SpatiaLiteBlob.decode($0).geometry })
        }
        func token(_ args: [String]) throws -> String {
            let r = try runProcess(CLITests.executable, ["token", "create", "--db", db] + args)
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return Setup(dir: dir, db: db, dispatcher: try token(["--role", "dispatcher", "--name", "centre"]), viewer: try token(["--role", "viewer"]),
            worker: try token(["--role", "grid_worker", "--scope", grid, "--name", "worker"]), home: GEOSContext().representativePoint(geometry)!, grid: grid)
    }

    static func headers(_ token: String?) -> [String: String] {
        var h = ["Content-Type": "application/json"]
        if let token { h["Authorization"] = "Bearer \(token)" }
        return h
    }

    static func json(_ r: HTTPResult) throws -> [String: Any] { try #require(try r.json() as? [String: Any], "\(r.status) \(r.text)") }

    @Test func reportListTransitionAndTheSituation() throws {
        let s = try Self.setUp()
        let server = try RunningServer(db: s.db)
        let base = server.baseURL
        let body = #"{"lon":\#(s.home.lon),"lat":\#(s.home.lat),"category":"fire","title":"smoke on the 3rd floor","floor":3,"reporter_name":"Zhang Wei","reporter_contact":"139 0000 0000","stairwell":"B"}"#
        #expect(try curl("\(base)/incidents", method: "POST", headers: Self.headers(nil), body: body).status == 401)
        // Anonymous writes are refused before their body is read: a body that would be a 422 is a 401 too.
        #expect(try curl("\(base)/incidents", method: "POST", headers: Self.headers(nil), body: #"{"lon": "nonsense"}"#).status == 401)
        #expect(try curl("\(base)/incidents", method: "POST", headers: Self.headers(s.viewer), body: body).status == 403)
        let bad = try curl("\(base)/incidents", method: "POST", headers: Self.headers(s.dispatcher), body: #"{"lon":24.9,"lat":60.1,"category":"volcano"}"#)
        #expect(bad.status == 422 && bad.headers["content-type"] == "application/problem+json")
        let r = try curl("\(base)/incidents", method: "POST", headers: Self.headers(s.dispatcher), body: body)
        #expect(r.status == 201)
        let created = try Self.json(r)
        let id = try #require(created["id"] as? Int)
        #expect(r.headers["location"] == "\(base)/incidents/\(id)" && r.headers["etag"] != nil)
        let p = try #require(created["properties"] as? [String: Any])
        #expect(p["case_number"] as? String == "2026-000001" || (p["case_number"] as? String)?.hasSuffix("-000001") == true)
        #expect(p["category"] as? String == "fire" && p["stage"] as? String == "reported" && p["light"] as? String == "green")
        #expect(p["grid_code"] as? String == s.grid && p["community_code"] as? String == String(s.grid.prefix(12)) && p["department"] as? String == "fire_rescue")
        #expect(p["stairwell"] as? String == "B", "extra attributes are kept")

        // The situation package is what /locate, /nearest and /around answer for the same point.
        let situation = try #require(created["situation"] as? [String: Any])
        let q = "lon=\(s.home.lon)&lat=\(s.home.lat)"
        let auth = Self.headers(s.dispatcher)
        let locate = try curl("\(base)/locate?\(q)", headers: auth).json() as? NSDictionary
        #expect((situation["location"] as? NSDictionary) == locate)
        let nearest = situation["nearest"] as? [String: Any]
        for type in ["hydrant", "fire_station", "hospital"] {
            let answer = try curl("\(base)/nearest?\(q)&type=\(type)&status=in_service&k=3", headers: auth).json() as? [String: Any]
            #expect((nearest?[type] as? NSArray) == (answer?["resources"] as? NSArray), "\(type)")
        }
        let around = try curl("\(base)/around?\(q)&radius=300", headers: auth).json() as? [String: Any]
        #expect((situation["around"] as? NSDictionary) == (around?["summary"] as? NSDictionary))
        let hydrants = try #require(nearest?["hydrant"] as? [[String: Any]])
        #expect(!hydrants.isEmpty)
        // And SpatiaLite agrees which hydrant is nearest (planar UTM 35N distance, as AroundTests use).
        let store = try GeoStore(path: s.db)
        let nearestBySQL = try store.read { db in
            try db.scalar("""
                SELECT id FROM resources WHERE type = 'hydrant' AND status = 'in_service'
                ORDER BY ST_Distance(ST_Transform(geom, 32635), ST_Transform(MakePoint(?, ?, 4326), 32635)) LIMIT 1
                """, [.real(s.home.lon), .real(s.home.lat)]).integer
        }
        #expect(hydrants.first?["id"] as? Int == nearestBySQL.map(Int.init))

        // One case: anonymous callers do not see the reporter or the worker's phone; a dispatcher does.
        let anonymous = try Self.json(try curl("\(base)/incidents/\(id)"))
        #expect((anonymous["properties"] as? [String: Any])?["reporter_name"] == nil)
        #expect(((anonymous["situation"] as? [String: Any])?["location"] as? [String: Any]).flatMap { $0["grid"] as? [String: Any] }?["worker_phone"] == nil)
        let full = try Self.json(try curl("\(base)/incidents/\(id)", headers: auth))
        #expect((full["properties"] as? [String: Any])?["reporter_name"] as? String == "Zhang Wei")
        #expect((full["history"] as? [[String: Any]])?.count == 1)

        // Transitions: 409 with the stage and what it allows; then the case moves on.
        let transitions = "\(base)/incidents/\(id)/transitions"
        let refused = try curl(transitions, method: "POST", headers: auth, body: #"{"to":"closed"}"#)
        #expect(refused.status == 409 && refused.headers["content-type"] == "application/problem+json")
        let problem = try Self.json(refused)
        #expect(problem["stage"] as? String == "reported" && (problem["allowed"] as? [String]).map(Set.init) == ["registered", "closed_at_source", "cancelled"])
        #expect(try curl(transitions, method: "POST", headers: Self.headers(s.viewer), body: #"{"to":"registered"}"#).status == 403)
        #expect(try curl(transitions, method: "POST", headers: auth, body: #"{"to":"registered","colour":"red"}"#).status == 422)
        #expect(try curl(transitions, method: "POST", headers: auth, body: #"{"to":"registered"}"#).status == 200)
        let dispatched = try curl(transitions, method: "POST", headers: auth, body: #"{"to":"dispatched","note":"brigade 3","co_departments":["city_gas"]}"#)
        let dispatchedCase = try Self.json(dispatched)
        #expect(dispatched.status == 200 && (dispatchedCase["properties"] as? [String: Any])?["co_departments"] as? String == "city_gas")
        #expect(try curl("\(base)/incidents/999999/transitions", method: "POST", headers: auth, body: #"{"to":"registered"}"#).status == 404)
        // A grid worker reports in their grid (channel grid_worker) and closes at source.
        let mine = try Self.json(try curl("\(base)/incidents", method: "POST", headers: Self.headers(s.worker),
            body: #"{"type":"Feature","geometry":{"type":"Point","coordinates":[\#(s.home.lon),\#(s.home.lat)]},"properties":{"category":"E0102"}}"#))
        #expect((mine["properties"] as? [String: Any])?["channel"] as? String == "grid_worker")
        let mineID = try #require(mine["id"] as? Int)
        #expect(try curl("\(base)/incidents/\(mineID)/transitions", method: "POST", headers: Self.headers(s.worker), body: #"{"to":"closed_at_source","note":"cleared"}"#).status == 200)
        // GCJ-02 positions are stored in WGS84: the case lands where the WGS84 point is.
        let g = ChinaCoordinates.wgsToGCJ(Position(116.397, 39.909))
        let gcj = try Self.json(try curl("\(base)/incidents?crs=gcj02", method: "POST", headers: auth, body: #"{"lon":\#(g.lon),"lat":\#(g.lat),"category":"E0504"}"#))
        let c = try #require((gcj["geometry"] as? [String: Any])?["coordinates"] as? [Double])
        #expect(abs(c[0] - 116.397) < 1e-6 && abs(c[1] - 39.909) < 1e-6 && (gcj["properties"] as? [String: Any])?["owner"] as? String == "outside")

        // Lists: filters and numberMatched, checked against SQL over the store.
        func list(_ query: String) throws -> [String: Any] { try Self.json(try curl("\(base)/incidents?\(query)")) }
        #expect(try list("")["numberMatched"] as? Int == 3)
        #expect(try list("stage=dispatched")["numberMatched"] as? Int == 1)
        #expect(try list("stage=closed_at_source,dispatched")["numberMatched"] as? Int == 2)
        #expect(try list("grid=\(s.grid)&light=green")["numberMatched"] as? Int == 1)
        #expect(try list("department=fire_rescue")["numberMatched"] as? Int == 1)
        #expect(try list("category=E0102")["numberMatched"] as? Int == 1)
        #expect(try list("channel=grid_worker")["numberMatched"] as? Int == 1)
        #expect(try list("bbox=116,39,117,40")["numberMatched"] as? Int == 1)
        #expect(try list("open=false")["numberMatched"] as? Int == 1)
        #expect(try list("datetime=2000-01-01T00:00:00Z/..")["numberMatched"] as? Int == 3)
        #expect(try list("datetime=../2000-01-01T00:00:00Z")["numberMatched"] as? Int == 0)
        let page = try list("limit=1")
        #expect((page["features"] as? [Any])?.count == 1 && ((page["links"] as? [[String: Any]])?.first?["href"] as? String)?.contains("offset=1") == true)
        #expect((try list("limit=1")["features"] as? [[String: Any]])?.first?["properties"].flatMap { ($0 as? [String: Any])?["reporter_name"] } == nil)
        for bad in ["light=purple", "limit=100001", "colour=red", "bbox=1,2,3", "open=maybe", "datetime=2026"] {
            #expect(try curl("\(base)/incidents?\(bad)").status == 400, "\(bad)")
        }
        // Overdue, statistics (JSON and CSV), catalogue.
        #expect(try Self.json(try curl("\(base)/incidents/overdue?by=grid"))["total"] as? Int == 0)
        #expect(try curl("\(base)/incidents/overdue?by=colour").status == 400)
        let stats = try Self.json(try curl("\(base)/incidents/stats?by=channel"))
        #expect((stats["total"] as? [String: Any])?["received"] as? Int == 3 && (stats["total"] as? [String: Any])?["closed_at_source"] as? Int == 1)
        let csv = try curl("\(base)/incidents/stats?by=department&f=csv")
        #expect(csv.status == 200 && csv.headers["content-type"]?.hasPrefix("text/csv") == true && csv.text.hasPrefix("key,zh,en,received"))
        #expect(try curl("\(base)/incidents/stats?period=2026-13").status == 400)
        let catalogue = try Self.json(try curl("\(base)/incidents/catalogue"))
        #expect(Set(catalogue.keys) == Set(IncidentConfig.parts))

        // The incidents collection is in OGC API Features and in tiles, with stage and light.
        let items = try Self.json(try curl("\(base)/collections/incidents/items?filter=stage%3D%27dispatched%27"))
        #expect(items["numberMatched"] as? Int == 1 && ((items["features"] as? [[String: Any]])?.first?["properties"] as? [String: Any])?["reporter_name"] == nil)
        let asFeature = #"{"type":"Feature","geometry":{"type":"Point","coordinates":[\#(s.home.lon),\#(s.home.lat)]},"properties":{"case_number":"X","category":"fire","stage":"closed"}}"#
        let edit = try curl("\(base)/collections/incidents/items", method: "POST", headers: Self.headers(s.dispatcher), body: asFeature)
        #expect(edit.status == 403 && edit.text.contains("incidents"), "cases change through the workflow only")
        let style = try curl("\(base)/style.json").text
        #expect(style.contains(#""source-layer":"incidents""#) && style.contains(#""light""#))
    }

    static func script(_ name: String) -> String { Fixtures.repository.appendingPathComponent("Tests/Scripts/\(name)").path }

    @Test func open311WithTheGeoReportClient() throws {
        let s = try Self.setUp()
        let server = try RunningServer(db: s.db)
        let r = try runProcess(venvPython!, [Self.script("open311-client.py"), "\(server.baseURL)/open311/v2", s.dispatcher, "\(s.home.lon)", "\(s.home.lat)"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let config = try GeoStore(path: s.db).incidentConfig()
        // Every category is a service, in JSON and in XML, its code the category's.
        #expect(out["services_json"] as? [String] == config.categories.map(\.code))
        #expect(out["services_xml"] as? [String] == config.categories.map(\.code))
        #expect(out["definition_json"] as? [String] == ["subcategory", "priority", "floor", "location_detail", "building_id"])
        #expect(out["definition_xml"] as? [String] == out["definition_json"] as? [String])
        #expect(out["post_status"] as? Int == 201 && out["post_xml_status"] as? Int == 201)
        #expect((out["post_xml"] as? String)?.contains("<service_requests><request><service_request_id>") == true)
        #expect(out["refused_status"] as? Int == 403 && ((out["refused"] as? [[String: Any]])?.first?["code"] as? Int) == 403)
        let posted = try #require((out["post"] as? [[String: Any]])?.first)
        let id = try #require(posted["service_request_id"] as? String)
        for format in ["json", "xml"] {
            let one = try #require(out["request_\(format)"] as? [String: Any], "\(format)")
            #expect(one["service_request_id"] as? String == id && one["status"] as? String == "open" && one["service_code"] as? String == "E0504", "\(format)")
            #expect(one["agency_responsible"] as? String == "City traffic police" && one["address"] as? String == "outside no. 12", "\(format)")
            // No personal field leaves through Open311.
            #expect(!(one.values.contains { "\($0)".contains("138 0013 8000") || "\($0)".contains("Chen") }), "\(format)")
            #expect(out["requests_\(format)"] as? [String] == [id], "\(format)")
        }
        // The report is a case like any other: on the channel open311, its reporter kept as personal fields.
        let store = try GeoStore(path: s.db)
        let row = try store.read { db -> [String] in
            let q = try db.prepare("SELECT channel, category, subcategory, reporter_name, reporter_contact, grid_code FROM incidents WHERE id = ?")
            try q.bind([.integer(Int64(id)!)])
            _ = try q.step()
            return (0..<6).map { q.text(Int32($0)) ?? "" }
        }
        #expect(row == ["open311", "E05", "E0504", "Chen Jing", "138 0013 8000", s.grid])
        // Errors are GeoReport's list of {code, description}, in the format asked.
        let missing = try curl("\(server.baseURL)/open311/v2/services/nonsense.xml")
        #expect(missing.status == 404 && missing.text.contains("<errors><error><code>404</code>"))
        let noPlace = try curl("\(server.baseURL)/open311/v2/requests.json", method: "POST", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: "api_key=\(s.dispatcher)&service_code=E0504")
        #expect(noPlace.status == 400 && noPlace.text.contains("lat and long"))
        let discovery = try Self.json(try curl("\(server.baseURL)/open311/v2/discovery.json"))
        #expect(((discovery["endpoints"] as? [[String: Any]])?.first?["specification"] as? String) == "http://wiki.open311.org/GeoReport_v2")
    }

    /// Runs sse-listen.py in the background; its lines once it has ended.
    final class Listener: @unchecked Sendable {
        let process = Process()
        let output: String
        init(_ url: String, count: Int, timeout: Double, lastEventID: Int? = nil, dir: TemporaryDirectory) throws {
            output = dir.path("sse-\(UUID().uuidString).jsonl")
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            process.executableURL = URL(fileURLWithPath: venvPython!)
            process.arguments = [IncidentHTTPTests.script("sse-listen.py"), url, String(count), String(timeout)] + (lastEventID.map { ["--last-event-id", String($0)] } ?? [])
            process.standardOutput = FileHandle(forWritingAtPath: output)
            try process.run()
            // Wait until it is connected (its first line), so that nothing it is meant to see comes before.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline && !((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("ready") { Thread.sleep(forTimeInterval: 0.02) }
        }
        func events() -> [[String: Any]] {
            process.waitUntilExit()
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["ready"] == nil }
        }
    }

    @Test func eventsResumeAfterADisconnectAndARestart() throws {
        let s = try Self.setUp()
        var server: RunningServer? = try RunningServer(db: s.db)
        func report(_ title: String) throws -> Int {
            let r = try curl("\(server!.baseURL)/incidents", method: "POST", headers: Self.headers(s.dispatcher),
                body: #"{"lon":\#(s.home.lon),"lat":\#(s.home.lat),"category":"E0102","title":"\#(title)"}"#)
            #expect(r.status == 201)
            return try Self.json(r)["id"] as! Int
        }
        // A listener sees two cases created and the transition of the first, then goes away.
        let first = try Listener("\(server!.baseURL)/events", count: 3, timeout: 15, dir: s.dir)
        let a = try report("a")
        _ = try report("b")
        #expect(try curl("\(server!.baseURL)/incidents/\(a)/transitions", method: "POST", headers: Self.headers(s.dispatcher), body: #"{"to":"registered"}"#).status == 200)
        let seen = first.events()
        #expect(seen.map { $0["event"] as? String } == ["created", "created", "transitioned"])
        let last = try #require(Int(seen.last?["id"] as? String ?? ""))
        // While it is away: two more cases. Reconnecting with Last-Event-ID gives exactly those, in order.
        let c = try report("c")
        let d = try report("d")
        let resumed = try Listener("\(server!.baseURL)/events", count: 2, timeout: 10, lastEventID: last, dir: s.dir).events()
        #expect(resumed.compactMap { ($0["data"] as? [String: Any])?["incident"] as? [String: Any] }.compactMap { $0["id"] as? Int } == [c, d])
        // After a restart the events are still there: a client resuming from the first one gets the rest.
        server = nil
        server = try RunningServer(db: s.db)
        let afterRestart = try Listener("\(server!.baseURL)/events", count: 4, timeout: 10, lastEventID: 1, dir: s.dir).events()
        #expect(afterRestart.compactMap { Int($0["id"] as? String ?? "") } == [2, 3, 4, 5])
        // Filters: by kind and by area; a listener without Last-Event-ID starts from now.
        let filtered = try Listener("\(server!.baseURL)/events?kind=transitioned&area=\(s.grid.prefix(9))", count: 1, timeout: 10, dir: s.dir)
        _ = try report("e")
        #expect(try curl("\(server!.baseURL)/incidents/\(c)/transitions", method: "POST", headers: Self.headers(s.dispatcher), body: #"{"to":"cancelled","note":"duplicate"}"#).status == 200)
        let only = filtered.events()
        #expect(only.count == 1 && only.first?["event"] as? String == "transitioned")
        #expect(try curl("\(server!.baseURL)/events?kind=nonsense").status == 400)
    }

    @Test func lightsArePushedWhenTheirLimitPasses() throws {
        let s = try Self.setUp()
        // Limits of seconds, wall time, so that the clock can be watched: yellow after 2 s, red after 4 s.
        let deadlines = s.dir.path("deadlines.json")
        try #"{"limits":[{"stage":"reported","yellow":"2s","red":"4s","time":"wall"}],"promised_yellow_before":"1d"}"#.write(toFile: deadlines, atomically: true, encoding: .utf8)
        let load = try runProcess(CLITests.executable, ["incident", "config", "load", "--db", s.db, deadlines])
        #expect(load.status == 0, "\(load.stderr)")
        let server = try RunningServer(db: s.db)
        let listener = try Listener("\(server.baseURL)/events?kind=light_changed", count: 2, timeout: 15, dir: s.dir)
        let r = try curl("\(server.baseURL)/incidents", method: "POST", headers: Self.headers(s.dispatcher),
            body: #"{"lon":\#(s.home.lon),"lat":\#(s.home.lat),"category":"E0102"}"#)
        let p = try #require(try Self.json(r)["properties"] as? [String: Any])
        let yellow = try #require(Timestamp(iso8601: p["yellow_at"] as? String ?? "")), red = try #require(Timestamp(iso8601: p["red_at"] as? String ?? ""))
        let events = listener.events()
        #expect(events.compactMap { ($0["data"] as? [String: Any])?["to"] as? String } == ["yellow", "red"])
        // Each came when its limit passed, not before, and soon after (the scheduler sleeps until the next limit).
        for (e, limit) in zip(events, [yellow, red]) {
            let at = try #require(e["at"] as? Double)
            #expect(at >= limit.seconds - 0.01 && at < limit.seconds + 0.5, "pushed \(at - limit.seconds) s after its limit")
        }
        let now = try Self.json(try curl("\(server.baseURL)/incidents?light=red"))
        #expect(now["numberMatched"] as? Int == 1)
        #expect(try Self.json(try curl("\(server.baseURL)/incidents/overdue?by=grid"))["total"] as? Int == 1)
    }

    @Test func acknowledgedReportsSurviveKill9AndConcurrentOnesLandInTheirGrid() throws {
        let s = try Self.setUp()
        let store = try GeoStore(path: s.db)
        let extent = try #require(try store.shapeIndex(.communities).extent)
        let box = [extent.minX, extent.minY, extent.maxX, extent.maxY].map { String($0) }
        // 16 clients post 10,000 cases at once: none lost, none duplicated, each in the grid /locate gives.
        // One token sends the whole burst: no per-token rate limit.
        var server: RunningServer? = try RunningServer(db: s.db, arguments: ["--rate-limit", "0"])
        let acks = s.dir.path("acks.jsonl")
        let burst = try runProcess(venvPython!, [Self.script("report-burst.py"), server!.baseURL, s.dispatcher, "10000", "16", acks] + box + ["1"])
        #expect(burst.status == 0, "\(burst.stderr)")
        #expect(burst.stdout.contains(#""failures": 0"#), "\(burst.stdout)")
        let lines = try String(contentsOfFile: acks, encoding: .utf8).split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 10_000)
        let rows = try store.read { db -> [Int: (String, String?)] in
            let q = try db.prepare("SELECT id, title, grid_code FROM incidents")
            var out: [Int: (String, String?)] = [:]
            while try q.step() { out[Int(q.int64(0))] = (q.text(1) ?? "", q.text(2)) }
            return out
        }
        #expect(rows.count == 10_000 && Set(rows.values.map(\.0)).count == 10_000, "one row per report")
        #expect(try store.read { try $0.scalar("SELECT count(DISTINCT case_number) FROM incidents").integer } == 10_000)
        var checked = 0
        for line in lines.prefix(10_000) where checked < 400 || line["i"] as? Int == 9_999 {
            let r = try Self.json(try curl("\(server!.baseURL)/locate?lon=\(line["lon"]!)&lat=\(line["lat"]!)"))
            let want = (r["grid"] as? [String: Any])?["code"] as? String
            #expect(rows[line["id"] as! Int]?.1 == want, "case \(line["id"]!)")
            checked += 1
        }
        // Killed mid-burst with SIGKILL: every case acknowledged before is there after a restart, exactly once.
        let acks2 = s.dir.path("acks2.jsonl")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: venvPython!)
        process.arguments = [Self.script("report-burst.py"), server!.baseURL, s.dispatcher, "20000", "16", acks2] + box + ["2"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && ((try? String(contentsOfFile: acks2, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 1500 { Thread.sleep(forTimeInterval: 0.05) }
        kill(server!.process.processIdentifier, SIGKILL)
        server!.process.waitUntilExit()
        process.waitUntilExit()
        let acknowledged = try String(contentsOfFile: acks2, encoding: .utf8).split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(acknowledged.count >= 1500)
        server = try RunningServer(db: s.db)
        let after = try GeoStore(path: s.db)
        let titles = try after.read { db -> [String: Int] in
            let q = try db.prepare("SELECT title, count(*) FROM incidents WHERE title LIKE 'burst 2/%' GROUP BY title")
            var out: [String: Int] = [:]
            while try q.step() { out[q.text(0)!] = Int(q.int64(1)) }
            return out
        }
        for a in acknowledged { #expect(titles[a["title"] as! String] == 1, "acknowledged \(a["title"]!) is there once") }
        #expect(titles.values.allSatisfy { $0 == 1 }, "no report is there twice")
        #expect(try Self.json(try curl("\(server!.baseURL)/incidents/\(acknowledged.last!["id"]!)"))["id"] as? Int == acknowledged.last!["id"] as? Int)
    }
}
