import Foundation
import GeoGrid
import TestSupport
import Testing

/// SIGKILL at random moments (seeded), 20 trials each: during a large import, during a plan's apply, during a
/// burst of case reports at 16 connections, and during a flurry of OGC Part 4 edits. After each kill the store
/// passes the sqlite3 shell's `integrity_check` and SpatiaLite's `CheckSpatialIndex` for every spatial table;
/// every write acknowledged before the kill is there exactly once; nothing of an import or plan is there unless
/// all of it is; the audit matches the data; and the indexes a fresh open builds equal a brute-force scan
/// (SpatiaLite's `ST_Intersects` over the whole table) for every layer.
@Suite struct CrashTrialTests {
    static let trials = 20
    /// The trials block (processes, sleeps) on threads of their own, not on Swift's few cooperative ones.
    static let executor = DedicatedExecutor(threads: 4, name: "crash-trials")

    static func sql(_ db: String, _ query: String, spatialite: Bool = false) throws -> [String] {
        let r = try runProcess("/usr/bin/sqlite3", (spatialite ? ["-cmd", ".load mod_spatialite"] : []) + [db, query])
        guard r.status == 0 else { throw ServerError("sqlite3 \(query): \(r.stderr)") }
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// A copy of `base` (which no process holds open) for one trial.
    static func copy(_ base: String, _ dir: TemporaryDirectory, _ trial: Int) throws -> String {
        let db = dir.path("trial-\(trial).sqlite")
        try FileManager.default.copyItem(atPath: base, toPath: db)
        return db
    }

    /// The checks every trial ends with, on the store as the kill left it.
    static func checkStore(_ db: String, trial: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try sql(db, "PRAGMA integrity_check") == ["ok"], "trial \(trial)", sourceLocation: sourceLocation)
        let tables = try sql(db, "SELECT f_table_name || '|' || f_geometry_column FROM geometry_columns WHERE spatial_index_enabled = 1", spatialite: true)
        #expect(tables.count >= 6, sourceLocation: sourceLocation)
        for t in tables {
            let parts = t.split(separator: "|").map(String.init)
            #expect(try sql(db, "SELECT CheckSpatialIndex('\(parts[0])', '\(parts[1])')", spatialite: true) == ["1"], "trial \(trial): \(t)",
                sourceLocation: sourceLocation)
        }
        // The indexes as a restart builds them, against every row SpatiaLite finds in the layer's extent and
        // in a few boxes within it.
        let store = try GeoStore(path: db)
        try store.prepareQueryIndexes()
        var rng = SeededRandom(seed: UInt64(trial) + 1)
        for layer in [Layer.grids, .communities, .buildings, .roads, .resources, .incidents] {
            let index = try store.shapeIndex(layer)
            guard let extent = index.extent else {
                #expect(try sql(db, "SELECT count(*) FROM \(layer.rawValue) WHERE geom IS NOT NULL") == ["0"], sourceLocation: sourceLocation)
                continue
            }
            var boxes = [BBox(minX: extent.minX - 1, minY: extent.minY - 1, maxX: extent.maxX + 1, maxY: extent.maxY + 1)]
            for _ in 0..<3 {
                let x = rng.next(in: extent.minX...extent.maxX), y = rng.next(in: extent.minY...extent.maxY)
                boxes.append(BBox(minX: x, minY: y, maxX: x + 0.004, maxY: y + 0.002))
            }
            for box in boxes {
                #expect(index.entries(intersecting: box).map(\.id).sorted() == (try sqlIDs(store, layer.rawValue, intersecting: box)),
                    "trial \(trial): \(layer.rawValue) in \(box)", sourceLocation: sourceLocation)
            }
        }
    }

    static func lines(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func baseStore(_ dir: TemporaryDirectory) throws -> String {
        let db = dir.path("base.sqlite")
        try DemoCity.build(from: Fixtures.demoCity.path, at: db)
        return db
    }

    static func token(_ db: String, _ role: String) throws -> String {
        try runProcess(CLITests.executable, ["token", "create", "--db", db, "--role", role]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `arguments` with geo-cli and sends SIGKILL after `seconds` unless it ended first; true when it ended
    /// by itself with status 0 (its work acknowledged).
    static func run(_ arguments: [String], killAfter seconds: Double) throws -> (finished: Bool, status: Int32) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.executable)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(2_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            return (false, p.terminationStatus)
        }
        p.waitUntilExit()
        return (p.terminationReason == .exit && p.terminationStatus == 0, p.terminationStatus)
    }

    /// Serves `db`, runs a client script against it (its arguments after the base URL), waits until the log at
    /// `log` holds `wanted` acknowledgements (`acknowledged` counts them), and SIGKILLs the server, then the client.
    static func killServer(_ db: String, client script: String, _ arguments: [String], log: String, wanted: Int,
        acknowledged: ([[String: Any]]) -> Int
    ) throws {
        // One token sends everything: no per-token rate limit.
        let server = try RunningServer(db: db, arguments: ["--rate-limit", "0", "--watch-seconds", "0"])
        let client = Process()
        client.executableURL = URL(fileURLWithPath: try #require(venvPython))
        client.arguments = [Fixtures.repository.appendingPathComponent("Tests/Scripts/\(script)").path, server.baseURL] + arguments
        client.standardOutput = FileHandle.nullDevice
        client.standardError = FileHandle.nullDevice
        try client.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && acknowledged(lines(log)) < wanted { usleep(2_000) }
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        kill(client.processIdentifier, SIGKILL)
        client.waitUntilExit()
    }

    // MARK: An import

    @Test func killedImportsLeaveAllOrNothing() async throws {
        let dir = TemporaryDirectory()
        let base = try Self.baseStore(dir)
        let extent = try #require(try GeoStore(path: base).shapeIndex(.communities).extent)
        // 20,000 buildings, small squares across the city.
        var rng = SeededRandom(seed: 7)
        var text = #"{"type":"FeatureCollection","features":["#
        for i in 0..<20_000 {
            let x = rng.next(in: extent.minX...(extent.maxX - 0.0002)), y = rng.next(in: extent.minY...(extent.maxY - 0.0001))
            if i > 0 { text += "," }
            text += #"{"type":"Feature","properties":{"name":"imported \#(i)","floors":2},"geometry":{"type":"Polygon","coordinates":[[[\#(x),\#(y)],[\#(x + 0.0001),\#(y)],[\#(x + 0.0001),\#(y + 0.00005)],[\#(x),\#(y + 0.00005)],[\#(x),\#(y)]]]}}"#
        }
        text += "]}"
        let file = dir.path("buildings.geojson")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let before = Int(try Self.sql(base, "SELECT count(*) FROM buildings")[0])!
        try await withTaskExecutorPreference(Self.executor) {
            // How long a whole import takes here, so the kills fall across it.
            let whole = try Self.copy(base, dir, 99)
            let start = Date()
            let uncut = try Self.run(["import", "--db", whole, "--layer", "buildings", file], killAfter: 600)
            let duration = Date().timeIntervalSince(start)
            let wholeCount = try Self.sql(whole, "SELECT count(*) FROM buildings WHERE name LIKE 'imported %'")
            #expect(uncut.finished && wholeCount == ["20000"])
            var rng = SeededRandom(seed: 11)
            var outcomes = (killed: 0, finished: 0, present: 0)
            for trial in 0..<Self.trials {
                let db = try Self.copy(base, dir, trial)
                let at = rng.next(in: 0.05...1.1) * duration
                let result = try Self.run(["import", "--db", db, "--layer", "buildings", file], killAfter: at)
                let imported = Int(try Self.sql(db, "SELECT count(*) FROM buildings WHERE name LIKE 'imported %'")[0])!
                #expect(imported == 0 || imported == 20_000, "trial \(trial): \(imported) of 20,000 imported (killed at \(at) s)")
                if result.finished { #expect(imported == 20_000, "trial \(trial): acknowledged but not there") }
                #expect(Int(try Self.sql(db, "SELECT count(*) FROM buildings")[0])! == before + imported, "trial \(trial)")
                outcomes.killed += result.finished ? 0 : 1
                outcomes.finished += result.finished ? 1 : 0
                outcomes.present += imported > 0 ? 1 : 0
                try Self.checkStore(db, trial: trial)
                try? FileManager.default.removeItem(atPath: db)
            }
            // Most kills land inside the import's transaction (the import takes a second or more here).
            #expect(outcomes.killed >= 10, "\(outcomes)")
            print("import crash trials: \(outcomes) over \(String(format: "%.2f", duration)) s imports")
        }
    }

    // MARK: A plan's apply

    @Test func killedPlanAppliesLeaveAllOrNothing() async throws {
        let dir = TemporaryDirectory()
        let base = try Self.baseStore(dir)
        // The demo's one-grid community split at a meridian (as PlanTests does), made a checked plan.
        let (west, east) = (try Self.sql(base, "SELECT AsGeoJSON(ST_Intersection(geom, BuildMbr(24.93, 60.16, 24.9418, 60.17, 4326))) FROM grids WHERE code = '910091002001001'", spatialite: true)[0],
            try Self.sql(base, "SELECT AsGeoJSON(ST_Intersection(geom, BuildMbr(24.9418, 60.16, 24.95, 60.17, 4326))) FROM grids WHERE code = '910091002001001'", spatialite: true)[0])
        let proposal = dir.path("split.geojson")
        try #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"910091002001001"},"geometry":\#(west)},{"type":"Feature","properties":{"code":"910091002001002","worker_name":"East"},"geometry":\#(east)}]}"#
            .write(toFile: proposal, atomically: true, encoding: .utf8)
        let created = try runProcess(CLITests.executable, ["plan", "create", "--db", base, proposal])
        try #require(created.status == 0, "\(created.stderr)")
        let plan = try #require(created.stdout.split(separator: "\n").last.map(String.init))
        let checked = try runProcess(CLITests.executable, ["plan", "check", "--db", base, plan])
        try #require(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        let today = PlanDesk.localDay(Date())
        // What the store holds, as far as an apply changes it: grids (codes, dates, shapes), which grid each
        // building is in, the plan's status, and the audit.
        func state(_ db: String) throws -> [String] {
            [try Self.sql(db, "SELECT group_concat(id || ':' || code || ':' || coalesce(valid_from, '') || ':' || coalesce(valid_to, '') || ':' || hex(geom), ',') FROM (SELECT * FROM grids ORDER BY id)").joined(),
             try Self.sql(db, "SELECT group_concat(id || ':' || coalesce(grid_code, ''), ',') FROM (SELECT * FROM buildings ORDER BY id)").joined(),
             try Self.sql(db, "SELECT status FROM geogrid_plans WHERE id = \(plan)").joined(),
             try Self.sql(db, "SELECT count(*) FROM geogrid_audit").joined()]
        }
        try await withTaskExecutorPreference(Self.executor) {
            let beforeState = try state(base)
            let whole = try Self.copy(base, dir, 99)
            let start = Date()
            let uncut = try Self.run(["plan", "apply", "--db", whole, plan, "--effective", today], killAfter: 600)
            let duration = Date().timeIntervalSince(start)
            try #require(uncut.finished, "the plan applies when not killed")
            let afterState = try state(whole)
            #expect(afterState[2] == "applied" && afterState[0] != beforeState[0] && afterState[1] != beforeState[1])
            var rng = SeededRandom(seed: 13)
            var outcomes = (before: 0, after: 0)
            for trial in 0..<Self.trials {
                let db = try Self.copy(base, dir, trial)
                let at = rng.next(in: 0.05...1.05) * duration
                let result = try Self.run(["plan", "apply", "--db", db, plan, "--effective", today], killAfter: at)
                let now = try state(db)
                #expect(now == beforeState || now == afterState, "trial \(trial): killed at \(at) s of \(duration) s, a half-applied plan")
                if result.finished { #expect(now == afterState, "trial \(trial): acknowledged but not applied") }
                if now == beforeState { outcomes.before += 1 } else { outcomes.after += 1 }
                try Self.checkStore(db, trial: trial)
                try? FileManager.default.removeItem(atPath: db)
            }
            print("plan apply crash trials: \(outcomes) over \(String(format: "%.3f", duration)) s applies")
        }
    }

    // MARK: A burst of case reports

    @Test func killedServersKeepEveryAcknowledgedReportOnce() async throws {
        let dir = TemporaryDirectory()
        let base = try Self.baseStore(dir)
        let token = try Self.token(base, "dispatcher")
        let extent = try #require(try GeoStore(path: base).shapeIndex(.communities).extent)
        let box = [extent.minX, extent.minY, extent.maxX, extent.maxY].map { String($0) }
        let baseMax = Int(try Self.sql(base, "SELECT coalesce(max(id), 0) FROM incidents")[0])!
        try await withTaskExecutorPreference(Self.executor) {
            var rng = SeededRandom(seed: 17)
            for trial in 0..<Self.trials {
                let db = try Self.copy(base, dir, trial)
                let acks = dir.path("acks-\(trial).jsonl")
                let wanted = Int(rng.next(in: 20...400))
                try Self.killServer(db, client: "report-burst.py", [token, "1000000", "16", acks] + box + ["\(trial + 1)"], log: acks, wanted: wanted) { $0.count }
                let acknowledged = Self.lines(acks)
                #expect(acknowledged.count >= wanted, "trial \(trial)")
                // Every acknowledged report exactly once, under the id it was acknowledged with.
                let rows = try Self.sql(db, "SELECT id || '|' || title FROM incidents WHERE id > \(baseMax)")
                var byTitle: [String: [Int]] = [:]
                for row in rows {
                    let parts = row.split(separator: "|", maxSplits: 1).map(String.init)
                    byTitle[parts[1], default: []].append(Int(parts[0])!)
                }
                for ack in acknowledged {
                    #expect(byTitle[ack["title"] as! String] == [ack["id"] as! Int], "trial \(trial): \(ack["title"]!)")
                }
                #expect(byTitle.values.allSatisfy { $0.count == 1 }, "trial \(trial): a report stored twice")
                // The audit holds one report row per case and none for a case that is not there.
                let audited = try Self.sql(db, "SELECT feature_id FROM geogrid_audit WHERE collection = 'incidents' AND operation = 'report' AND feature_id > \(baseMax) ORDER BY feature_id")
                #expect(audited == rows.map { String($0.split(separator: "|")[0]) }.sorted { Int($0)! < Int($1)! }, "trial \(trial)")
                try Self.checkStore(db, trial: trial)
                try? FileManager.default.removeItem(atPath: db)
            }
        }
    }

    // MARK: A flurry of Part 4 edits

    @Test func killedServersKeepEveryAcknowledgedEdit() async throws {
        let dir = TemporaryDirectory()
        let base = try Self.baseStore(dir)
        let token = try Self.token(base, "planner")
        let extent = try #require(try GeoStore(path: base).shapeIndex(.communities).extent)
        let box = [extent.minX, extent.minY, extent.maxX, extent.maxY].map { String($0) }
        try await withTaskExecutorPreference(Self.executor) {
            var rng = SeededRandom(seed: 19)
            for trial in 0..<Self.trials {
                let db = try Self.copy(base, dir, trial)
                let log = dir.path("edits-\(trial).jsonl")
                let wanted = Int(rng.next(in: 20...300))
                try Self.killServer(db, client: "edit-flurry.py", [token, "8", log, "\(trial + 1)"] + box, log: log, wanted: wanted) {
                    $0.filter { $0["kind"] as? String == "ack" }.count
                }
                let entries = Self.lines(log)
                #expect(!entries.contains { $0["kind"] as? String == "refused" }, "trial \(trial): \(entries.filter { $0["kind"] as? String == "refused" })")
                let acks = entries.filter { $0["kind"] as? String == "ack" }
                #expect(acks.count >= wanted, "trial \(trial)")
                // By name: SQLite gives a new row the highest id plus one, so the id of a deleted building can come
                // back on a later one (noted in the README's store section).
                let sentDeletes = Set(entries.filter { $0["op"] as? String == "delete" }.compactMap { $0["name"] as? String })
                let ackedDeletes = acks.filter { $0["op"] as? String == "delete" }
                var ackedFloors: [String: Int] = [:], sentFloors: [String: Int] = [:]
                for e in entries where e["op"] as? String == "patch" {
                    let name = e["name"] as! String, floors = e["floors"] as! Int
                    if e["kind"] as? String == "ack" { ackedFloors[name] = max(ackedFloors[name] ?? 1, floors) }
                    sentFloors[name] = max(sentFloors[name] ?? 1, floors)
                }
                // What the store holds of the flurry, by name: id and floors.
                var stored: [String: [(Int, Int)]] = [:]
                for row in try Self.sql(db, "SELECT name || '|' || id || '|' || floors FROM buildings WHERE name LIKE 'flurry %'") {
                    let parts = row.split(separator: "|").map(String.init)
                    stored[parts[0], default: []].append((Int(parts[1])!, Int(parts[2])!))
                }
                #expect(stored.values.allSatisfy { $0.count == 1 }, "trial \(trial): a building stored twice")
                for ack in acks where ack["op"] as? String == "create" {
                    let name = ack["name"] as! String, id = ack["id"] as! Int
                    if ackedDeletes.contains(where: { $0["name"] as? String == name }) {
                        #expect(stored[name] == nil, "trial \(trial): \(name) was deleted, acknowledged, and is there")
                    } else if !sentDeletes.contains(name) {
                        let row = try #require(stored[name]?.first, "trial \(trial): \(name) acknowledged, not there")
                        #expect(row.0 == id)
                        // An acknowledged patch is there; a later one sent may have been committed before the kill.
                        #expect(row.1 >= (ackedFloors[name] ?? 1) && row.1 <= (sentFloors[name] ?? 1), "trial \(trial): \(name) floors \(row.1)")
                    }
                }
                // The audit matches the data: the last audited state of each flurry building gives the floors it
                // has now, and its id was created once more than it was deleted; each acknowledged delete is
                // audited, and a deleted id not in use again ends with its delete.
                for (name, rows) in stored {
                    let id = rows[0].0
                    let last = try Self.sql(db, "SELECT json_extract(after, '$.properties.floors') FROM geogrid_audit WHERE collection = 'buildings' AND feature_id = \(id) ORDER BY id DESC LIMIT 1")
                    #expect(last == [String(rows[0].1)], "trial \(trial): \(name)")
                    let counts = try Self.sql(db, "SELECT sum(operation = 'create') - sum(operation = 'delete') FROM geogrid_audit WHERE collection = 'buildings' AND feature_id = \(id)")
                    #expect(counts == ["1"], "trial \(trial): \(name) (id \(id))")
                }
                let inUse = Set(stored.values.map { $0[0].0 })
                for ack in ackedDeletes {
                    let id = ack["id"] as! Int
                    #expect(Int(try Self.sql(db, "SELECT count(*) FROM geogrid_audit WHERE collection = 'buildings' AND feature_id = \(id) AND operation = 'delete'")[0])! >= 1, "trial \(trial)")
                    if !inUse.contains(id) {
                        #expect(try Self.sql(db, "SELECT operation FROM geogrid_audit WHERE collection = 'buildings' AND feature_id = \(id) ORDER BY id DESC LIMIT 1") == ["delete"], "trial \(trial)")
                    }
                }
                try Self.checkStore(db, trial: trial)
                try? FileManager.default.removeItem(atPath: db)
            }
        }
    }
}
