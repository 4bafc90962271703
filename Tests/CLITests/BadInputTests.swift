import Foundation
import GeoGrid
import TestSupport
import Testing

/// Bad input against a real server: every file of the invalid-GeoJSON sets POSTed to items, to /incidents and
/// to /plans; path traversal on the static routes; SQL-looking text in filters and in written properties; then
/// the limits (Tests/Scripts/limits-probe.py over raw sockets): a token's rate, body sizes, wrong types, bodies
/// cut short, slow clients, a query string too long for the parser. Each is answered with a clear 4xx and the
/// store, read by the sqlite3 shell, is as it was.
@Suite struct BadInputTests {
    /// The row counts of every table a write could touch, and the audit's last id, read by the sqlite3 shell.
    static func fingerprint(_ db: String) throws -> [String: Int] {
        let tables = ["grids", "communities", "buildings", "roads", "resources", "incidents", "geogrid_incident_history",
            "geogrid_plans", "geogrid_plan_grids", "geogrid_tokens", "sqlite_master"]
        let query = "SELECT " + (tables.map { "(SELECT count(*) FROM \($0))" } + ["(SELECT coalesce(max(id), 0) FROM geogrid_audit)"]).joined(separator: ", ")
        let r = try runProcess("/usr/bin/sqlite3", ["-separator", " ", db, query])
        let values = r.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard r.status == 0, values.count == tables.count + 1 else { throw ServerError("sqlite3: \(r.stderr)\(r.stdout)") }
        return Dictionary(uniqueKeysWithValues: zip(tables + ["audit"], values))
    }

    static func sql(_ db: String, _ query: String) throws -> [String] {
        let r = try runProcess("/usr/bin/sqlite3", [db, query])
        guard r.status == 0 else { throw ServerError("sqlite3 \(query): \(r.stderr)") }
        return r.stdout.split(separator: "\n").map(String.init)
    }

    static func script(_ name: String) -> String { Fixtures.repository.appendingPathComponent("Tests/Scripts/\(name)").path }

    static func token(_ db: String, _ role: String) throws -> String {
        try runProcess(CLITests.executable, ["token", "create", "--db", db, "--role", role]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func invalidGeoJSONTraversalAndSQLTextAreRefusedOrTakenAsText() async throws {
        let dir = TemporaryDirectory()
        let db = dir.path("demo.sqlite")
        try DemoCity.build(from: Fixtures.demoCity.path, at: db)
        let admin = try Self.token(db, "admin")
        // One token sends a few hundred requests at once.
        let server = try RunningServer(db: db, arguments: ["--rate-limit", "0"])
        let before = try Self.fingerprint(db)
        let python = try #require(which("python3"))
        let run = try await offCooperativePool {
            try runProcess(python, [Self.script("bad-input.py"), server.baseURL, admin, Fixtures.repository.appendingPathComponent("Tests/Fixtures").path])
        }
        try #require(run.status == 0, "\(run.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])

        // Every invalid file, on each of the three routes: a 4xx problem saying why.
        let posted = results.filter { !($0["file"] as! String).hasPrefix("sql:") && $0["file"] as? String != "traversal" }
        let files = Set(posted.map { $0["file"] as! String })
        #expect(files.count >= 70 && posted.count == 3 * files.count, "\(files.count) files, \(posted.count) posts")
        #expect(Set(posted.map { $0["path"] as! String }).isSuperset(of: ["/incidents", "/plans", "/collections/buildings/items", "/collections/resources/items"]))
        for r in posted {
            let status = r["status"] as! Int, where_ = "\(r["file"]!) to \(r["path"]!)"
            #expect((400..<500).contains(status), "\(where_): \(status)")
            #expect((r["type"] as? String)?.hasPrefix("application/problem+json") == true, "\(where_): \(r["type"] ?? "")")
            #expect(((r["detail"] as? String) ?? "").count > 10, "\(where_): no detail")
        }

        // Traversal: always a 4xx, never a file from outside what the route serves.
        let traversal = results.filter { $0["file"] as? String == "traversal" }
        #expect(traversal.count >= 150)
        for r in traversal {
            #expect((400..<500).contains(r["status"] as! Int), "\(r["path"]!): \(r["status"]!)")
            #expect(r["leaked"] as? Bool == false, "\(r["path"]!) answered with a file's contents")
        }

        // SQL-looking filters: a 400 (not CQL2, not a known value) or text matched as text, which matches nothing
        // here (the sqlite3 shell agrees: no grid has such a code).
        let filters = results.filter { ($0["file"] as! String).hasPrefix("sql:") && $0["file"] as? String != "sql:write" }
        #expect(filters.count == 25)
        for r in filters {
            let status = r["status"] as! Int, text = String((r["file"] as! String).dropFirst(4))
            #expect(status == 200 || status == 400, "\(r["path"]!): \(status)")
            if status == 200 { #expect(r["matched"] as? Int == 0, "\(r["path"]!) matched \(r["matched"] ?? "?")") }
            let quoted = text.replacingOccurrences(of: "'", with: "''")
            #expect(try Self.sql(db, "SELECT count(*) FROM grids WHERE code = '\(quoted)'") == ["0"])
        }
        #expect(filters.contains { $0["status"] as? Int == 400 && ($0["path"] as! String).hasPrefix("/collections/buildings") })

        // Nothing changed but the two writes holding SQL-looking text, which are stored as given.
        let after = try Self.fingerprint(db)
        var expected = before
        expected["incidents"]! += 1
        expected["buildings"]! += 1
        expected["geogrid_incident_history"] = after["geogrid_incident_history"]
        expected["audit"] = after["audit"]
        #expect(after == expected)
        #expect(after["audit"]! > before["audit"]! && after["audit"]! <= before["audit"]! + 4, "the two writes audited, nothing else")
        let writes = results.filter { $0["file"] as? String == "sql:write" }
        #expect(writes.map { $0["status"] as? Int } == [201, 201])
        let sneaky = #"Robert'); DROP TABLE incidents; -- " OR 1=1"#
        let incident = try #require(writes[0]["id"] as? Int), building = try #require(writes[1]["id"] as? Int)
        #expect(writes[0]["title"] as? String == sneaky)
        #expect(try Self.sql(db, "SELECT title FROM incidents WHERE id = \(incident)") == [sneaky])
        #expect(try Self.sql(db, "SELECT description FROM incidents WHERE id = \(incident)") == ["1; DELETE FROM grids"])
        #expect(try Self.sql(db, "SELECT name FROM buildings WHERE id = \(building)") == [sneaky])
        #expect(try Self.sql(db, "PRAGMA integrity_check") == ["ok"])
        _ = server
    }

    @Test func limitsAnswerClearlyAndChangeNothing() async throws {
        let dir = TemporaryDirectory()
        let db = dir.path("demo.sqlite")
        try DemoCity.build(from: Fixtures.demoCity.path, at: db)
        let a = try Self.token(db, "dispatcher"), b = try Self.token(db, "dispatcher")
        let (rate, burst, requestTimeout, idleTimeout) = (5, 10, 1.5, 2.0)
        let server = try RunningServer(db: db, arguments: ["--rate-limit", "\(rate)", "--rate-burst", "\(burst)", "--max-body-mib", "1",
            "--request-timeout", "\(requestTimeout)", "--idle-timeout", "\(idleTimeout)"])
        let before = try Self.fingerprint(db)
        let python = try #require(which("python3"))
        let run = try await offCooperativePool {
            try runProcess(python, [Self.script("limits-probe.py"), server.baseURL, a, b, "\(rate)", "\(burst)", "\(requestTimeout)", "\(idleTimeout)"])
        }
        try #require(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])

        // A token's rate: its burst goes through, then 429 with Retry-After, for reads and writes alike; another
        // token and anonymous reads go on; after the wait it is served again. Requests made while the bucket
        // refilled may pass too: at most one per 1/rate seconds of the run.
        let r = try #require(report["rate"] as? [String: Any])
        let statuses = try #require(r["statuses"] as? [Int]), seconds = try #require(r["seconds"] as? Double)
        #expect(Array(statuses.prefix(burst)) == Array(repeating: 200, count: burst), "\(statuses)")
        #expect(Set(statuses) == [200, 429], "\(statuses)")
        #expect(statuses.filter { $0 == 200 }.count <= burst + Int((seconds * Double(rate)).rounded(.up)) + 1, "\(statuses) in \(seconds) s")
        #expect(Int(r["retry_after"] as? String ?? "") ?? 0 >= 1)
        let limited = try #require(r["limited"] as? [String: Any])
        #expect(limited["type"] as? String == "application/problem+json")
        #expect((limited["detail"] as? String)?.contains("\(rate) requests a second") == true)
        #expect(r["other_token"] as? Int == 200 && r["anonymous"] as? Int == 200)
        // A write with the spent token is refused; one may pass only if a token refilled while it was sent.
        let writes = try #require(r["writes_when_spent"] as? [Int]), writeSeconds = try #require(r["write_seconds"] as? Double)
        #expect(writes.last == 429 && writes.dropLast().allSatisfy { $0 == 201 }, "\(writes)")
        #expect(writes.count - 1 <= Int((writeSeconds * Double(rate)).rounded(.up)), "\(writes) in \(writeSeconds) s")
        let passedWrites = writes.filter { $0 == 201 }.count
        #expect(r["after_waiting"] as? Int == 200)

        // Bodies on every write route (Open311 answers in its own format): 413 by Content-Length and while
        // chunked, 415 for a type the route does not read, a body cut short answered 408 (client waiting) or 400
        // (client gone).
        let bodies = try #require(report["bodies"] as? [String: [String: Any]])
        #expect(bodies.count == 4)
        for (path, b) in bodies {
            for kind in ["sized", "chunked"] {
                let answer = try #require(b[kind] as? [String: Any])
                #expect(answer["status"] as? Int == 413, "\(path) \(kind): \(answer)")
                let detail = (answer["detail"] as? String) ?? ((answer["open311"] as? [[String: Any]])?.first?["description"] as? String) ?? ""
                #expect(detail.contains("1 MiB"), "\(path) \(kind): \(answer)")
            }
            if !path.hasPrefix("/open311") {
                #expect((b["wrong_type"] as? [String: Any])?["status"] as? Int == 415, "\(path)")
            }
            #expect(b["cut_short"] as? [Int] == [408], "\(path): \(b["cut_short"] ?? "")")
            #expect(b["client_gone"] as? [Int] == [400] || b["client_gone"] as? [Int] == [], "\(path): \(b["client_gone"] ?? "")")
        }

        // Slow clients: a body trickling in gets 408 as its time runs out; a head trickling in and a silent
        // connection are closed once the idle timeout passes.
        let slowBody = try #require(report["slow_body"] as? [String: Any])
        #expect(slowBody["statuses"] as? [Int] == [408])
        #expect((slowBody["problem"] as? [String: Any])?["status"] as? Int == 408)
        let slowSeconds = try #require(slowBody["seconds"] as? Double)
        #expect(slowSeconds >= requestTimeout && slowSeconds < requestTimeout + 3, "\(slowSeconds) s")
        for name in ["slow_head", "idle"] {
            let probe = try #require(report[name] as? [String: Any])
            #expect(probe["statuses"] as? [Int] == [], "\(name)")
            let closed = try #require(probe["seconds"] as? Double)
            #expect(closed >= idleTimeout - 0.1 && closed < idleTimeout + 3, "\(name) closed after \(closed) s")
        }

        // The parser's refusals are problems too, and pipelined requests before a bad one are answered first.
        let long = try #require(report["long_query"] as? [String: Any])
        #expect(long["statuses"] as? [Int] == [431])
        #expect(((long["problem"] as? [String: Any])?["detail"] as? String)?.contains("80 KiB") == true)
        let pipelined = try #require(report["pipelined_garbage"] as? [String: Any])
        #expect(pipelined["statuses"] as? [Int] == [200, 200, 400])
        #expect((pipelined["last"] as? [String: Any])?["status"] as? Int == 400)

        // A stream of events is a response being written: no timeout cuts it.
        let stream = try #require(report["stream"] as? [String: Any])
        #expect(stream["answer"] as? [Int] == [200] && stream["received_created"] as? Bool == true && stream["reported"] as? Int == 201)

        // The store: only the one case reported for the stream was written (and any write the refill let pass).
        let after = try Self.fingerprint(db)
        var expected = before
        expected["incidents"]! += 1 + passedWrites
        expected["geogrid_incident_history"] = after["geogrid_incident_history"]
        expected["audit"] = after["audit"]
        #expect(after == expected)
        #expect(try Self.sql(db, "SELECT title FROM incidents ORDER BY id DESC LIMIT 1") == ["after the timeouts"])
        #expect(try Self.sql(db, "PRAGMA integrity_check") == ["ok"])
        #expect(!server.log.contains("error"), "\(server.log.suffix(2000))")
    }
}
