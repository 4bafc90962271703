import Foundation
import GeoGrid
import Synchronization
import TestSupport
import Testing

/// A clock the test moves.
final class TestClock: Sendable {
    private let now: Mutex<Double>
    init(_ start: String) { now = Mutex(Timestamp(iso8601: start)!.seconds) }
    var time: Timestamp { Timestamp(seconds: now.withLock { $0 }) }
    func set(_ text: String) { now.withLock { $0 = Timestamp(iso8601: text)!.seconds } }
    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
}

/// Issue 10: the workflow table, roles and scopes, lights at their limits, moves, imports and statistics, on the
/// demo city's store through `IncidentDesk` with an injected clock.
@Suite struct IncidentWorkflowTests {
    struct Setup {
        let store: GeoStore
        let desk: IncidentDesk
        let clock: TestClock
        let dir: TemporaryDirectory
        let dispatcher: Token, viewer: Token, planner: Token, worker: Token, workerElsewhere: Token
        /// A point inside the first grid (the worker's), and one inside another community.
        let home: Position, away: Position
        let homeGrid: String
    }

    static func setUp(_ start: String = "2026-11-25T02:00:00Z") throws -> Setup {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        let clock = TestClock(start)
        let desk = IncidentDesk(store: store) { clock.time }
        let (grid, geometry, community) = try store.read { db -> (String, Geometry, String) in
            let s = try db.prepare("SELECT code, geom, community_code FROM grids ORDER BY id LIMIT 1")
            _ = try s.step()
            return (s.text(0)!, try s.withBlob(1) { try SpatiaLiteBlob.decode($0).geometry }, s.text(2)!)
        }
        let otherGeometry = try store.read { db -> Geometry in
            let s = try db.prepare("SELECT geom FROM grids WHERE community_code != ? ORDER BY id LIMIT 1")
            try s.bind([.text(community)])
            _ = try s.step()
            return try s.withBlob(0) { try SpatiaLiteBlob.decode($0).geometry }
        }
        let geos = GEOSContext()
        func token(_ role: Role, _ scopes: [String] = []) throws -> Token { try store.createToken(role: role, scopes: scopes, name: role.rawValue).0 }
        return Setup(store: store, desk: desk, clock: clock, dir: dir, dispatcher: try token(.dispatcher), viewer: try token(.viewer), planner: try token(.planner),
            worker: try token(.gridWorker, [grid]), workerElsewhere: try token(.gridWorker, ["910091999"]),
            home: geos.representativePoint(geometry)!, away: geos.representativePoint(otherGeometry)!, homeGrid: grid)
    }

    static func id(_ r: IncidentRecord) -> Int64 {
        if case .int(let i)? = r.feature.id { return i }
        return -1
    }

    static func property(_ r: IncidentRecord, _ k: String) -> String? { r.feature[property: k]?.stringValue }

    /// What the issue's workflow allows from each stage (names a request's `to` may take), written out by hand
    /// rather than read from the table, so that the shipped table is checked against it.
    static let allowed: [String: Set<String>] = [
        "reported": ["registered", "closed_at_source", "cancelled"],
        "registered": ["dispatched", "cancelled"],
        "dispatched": ["accepted", "returned", "reassigned", "escalated"],
        "accepted": ["handling", "escalated"],
        "handling": ["handled", "escalated"],
        "handled": ["closed", "returned"],
        "closed": ["evaluated"],
        "evaluated": [], "closed_at_source": [], "cancelled": [],
    ]
    /// The stage each allowed request leads to.
    static let leadsTo: [String: String] = [
        "reported>registered": "registered", "reported>closed_at_source": "closed_at_source", "reported>cancelled": "cancelled",
        "registered>dispatched": "dispatched", "registered>cancelled": "cancelled", "dispatched>accepted": "accepted", "dispatched>returned": "registered",
        "dispatched>reassigned": "dispatched", "dispatched>escalated": "dispatched", "accepted>handling": "handling", "accepted>escalated": "dispatched",
        "handling>handled": "handled", "handling>escalated": "dispatched", "handled>closed": "closed", "handled>returned": "handling",
        "closed>evaluated": "evaluated",
    ]
    /// The path from a new case to each stage.
    static let path: [String: [String]] = [
        "reported": [], "registered": ["registered"], "dispatched": ["registered", "dispatched"], "accepted": ["registered", "dispatched", "accepted"],
        "handling": ["registered", "dispatched", "accepted", "handling"], "handled": ["registered", "dispatched", "accepted", "handling", "handled"],
        "closed": ["registered", "dispatched", "accepted", "handling", "handled", "closed"],
        "evaluated": ["registered", "dispatched", "accepted", "handling", "handled", "closed", "evaluated"],
        "closed_at_source": ["closed_at_source"], "cancelled": ["cancelled"],
    ]

    /// A request that meets every requirement a transition may have.
    static func full(_ to: String) -> TransitionRequest {
        var t = TransitionRequest(to: to, note: "note for \(to)")
        t.reporterAnswered = true
        t.satisfaction = 4
        if to == "reassigned" { t.department = "street_office" }
        return t
    }

    @Test func everyTransitionTheWorkflowAllowsAndNoOther() throws {
        let s = try Self.setUp()
        let config = try s.store.incidentConfig()
        let candidates = Set(config.workflow.stages.map(\.code)).union(Self.allowed.values.flatMap { $0 }).union(["nonsense"])
        func caseAt(_ stage: String) throws -> Int64 {
            var r = IncidentReport(position: s.home, category: "E0102")
            r.title = "rubbish at \(stage)"
            let id = Self.id(try s.desk.report(r, by: s.dispatcher))
            for step in Self.path[stage]! { _ = try s.desk.transition(id, Self.full(step), by: s.dispatcher) }
            return id
        }
        var made = 0, refused = 0
        for (stage, allowed) in Self.allowed {
            #expect(Set(config.workflow.allowed(from: stage)) == allowed, "the table's transitions from \(stage)")
            let probe = try caseAt(stage)
            for to in candidates.subtracting(allowed) {
                do {
                    _ = try s.desk.transition(probe, Self.full(to), by: s.dispatcher)
                    Issue.record("\(stage) → \(to) was allowed")
                } catch let e as EditError {
                    #expect(e.kind == .conflict && e.stage == stage && Set(e.allowed ?? []) == allowed, "\(stage) → \(to): \(e)")
                    refused += 1
                }
            }
            #expect(try s.desk.incident(probe, personal: true).map { Self.property($0, "stage") } == stage, "refusals change nothing")
            for to in allowed {
                let id = try caseAt(stage)
                let department = try #require(try s.desk.incident(id, personal: true).flatMap { Self.property($0, "department") })
                let r = try s.desk.transition(id, Self.full(to), by: s.dispatcher)
                #expect(Self.property(r, "stage") == Self.leadsTo["\(stage)>\(to)"], "\(stage) → \(to)")
                if to == "escalated" {
                    let level = try #require(config.department(department)?.level)
                    #expect(Self.property(r, "department") == config.escalation[level], "escalated from \(department) (\(level))")
                }
                if to == "reassigned" { #expect(Self.property(r, "department") == "street_office") }
                made += 1
            }
        }
        #expect(made == 16 && refused == candidates.count * Self.allowed.count - 16)
    }

    @Test func rolesScopesAndRequirements() throws {
        let s = try Self.setUp()
        let r = IncidentReport(position: s.home, category: "E0102")
        func kind(_ body: () throws -> Any) -> EditError.Kind? {
            do { _ = try body(); return nil } catch let e as EditError { return e.kind } catch { return nil }
        }
        #expect(kind { try s.desk.report(r, by: nil) } == .unauthenticated)
        #expect(kind { try s.desk.report(r, by: s.viewer) } == .forbidden)
        #expect(kind { try s.desk.report(r, by: s.planner) } == .forbidden)
        #expect(kind { try s.desk.report(r, by: s.workerElsewhere) } == .forbidden, "a grid worker reports within their grid only")
        var away = r
        away.position = s.away
        #expect(kind { try s.desk.report(away, by: s.worker) } == .forbidden)
        let mine = try s.desk.report(r, by: s.worker)
        #expect(Self.property(mine, "channel") == "grid_worker" && Self.property(mine, "grid_code") == s.homeGrid)
        let id = Self.id(mine)
        // A grid worker closes at source (with a note) but does not register.
        #expect(kind { try s.desk.transition(id, TransitionRequest(to: "registered"), by: s.worker) } == .forbidden)
        #expect(kind { try s.desk.transition(id, TransitionRequest(to: "closed_at_source"), by: s.worker) } == .invalid, "a note is required")
        let closed = try s.desk.transition(id, TransitionRequest(to: "closed_at_source", note: "swept it up"), by: s.worker)
        #expect(Self.property(closed, "stage") == "closed_at_source" && closed.feature[property: "open"] == .bool(false))
        #expect(closed.feature[property: "closed_at"]?.stringValue != nil && closed.feature[property: "light"] == .null)
        // Closing needs the reporter answered or a reason; evaluating needs a satisfaction.
        let other = Self.id(try s.desk.report(r, by: s.dispatcher))
        for step in ["registered", "dispatched", "accepted", "handling"] { _ = try s.desk.transition(other, TransitionRequest(to: step), by: s.dispatcher) }
        #expect(kind { try s.desk.transition(other, TransitionRequest(to: "handled"), by: s.dispatcher) } == .invalid)
        _ = try s.desk.transition(other, TransitionRequest(to: "handled", note: "bin emptied"), by: s.dispatcher)
        #expect(kind { try s.desk.transition(other, TransitionRequest(to: "closed"), by: s.dispatcher) } == .invalid)
        var close = TransitionRequest(to: "closed")
        close.noAnswerReason = "anonymous report"
        _ = try s.desk.transition(other, close, by: s.dispatcher)
        #expect(kind { try s.desk.transition(other, TransitionRequest(to: "evaluated"), by: s.dispatcher) } == .invalid)
        var evaluate = TransitionRequest(to: "evaluated")
        evaluate.satisfaction = 5
        let done = try s.desk.transition(other, evaluate, by: s.dispatcher)
        #expect(done.feature[property: "satisfaction"] == .number(5) && Self.property(done, "no_answer_reason") == "anonymous report")
        // Every step is in the history, in order, and audited; the history cannot be rewritten.
        let record = try #require(try s.desk.incident(other, personal: true))
        #expect(record.history?.compactMap { $0["action"]?.stringValue } == ["report", "registered", "dispatched", "accepted", "handling", "handled", "closed", "evaluated"])
        #expect(record.history?[5]["note"] == .string("bin emptied"))
        let audited = try s.store.audit(collection: "incidents", featureID: other)
        #expect(audited.count == 8)
        #expect(throws: (any Error).self) { try s.store.write { try $0.execute("UPDATE geogrid_incident_history SET note = 'x'") } }
        #expect(throws: (any Error).self) { try s.store.write { try $0.execute("DELETE FROM geogrid_incident_history") } }
        // Personal fields only with personal.
        var named = r
        named.reporterName = "Wang Fang"
        named.reporterContact = "138 0000 0000"
        let n = Self.id(try s.desk.report(named, by: s.dispatcher))
        #expect(try s.desk.incident(n, personal: false)?.feature[property: "reporter_name"] == nil)
        #expect(try s.desk.incident(n, personal: true)?.feature[property: "reporter_name"] == .string("Wang Fang"))
        let redacted = try #require(try s.desk.incident(n, personal: false)?.situation)
        #expect(redacted["location"]?["grid"]?["worker_phone"] == nil && redacted["location"]?["grid"]?["worker_name"] != nil)
    }

    @Test func lightsTurnAtTheirLimits() throws {
        // Wednesday 25 November 2026, 10:00 in Shanghai.
        let s = try Self.setUp("2026-11-25T02:00:00Z")
        var fire = IncidentReport(position: s.home, category: "fire")
        fire.title = "smoke from a window"
        let f = try s.desk.report(fire, by: s.dispatcher)
        let id = Self.id(f)
        // An urgent case: yellow after 5 minutes, red after 10, wall time.
        #expect(Self.property(f, "light") == "green" && Self.property(f, "yellow_at") == "2026-11-25T02:05:00Z" && Self.property(f, "red_at") == "2026-11-25T02:10:00Z")
        #expect(try s.desk.nextLightChange()?.text == "2026-11-25T02:05:00Z")
        let events = { try s.store.read { db -> [String] in
            let q = try db.prepare("SELECT data FROM geogrid_events WHERE kind = 'light_changed' AND incident_id = ? ORDER BY id")
            try q.bind([.integer(id)])
            var out: [String] = []
            while try q.step() { out.append(q.text(0)!) }
            return out
        } }
        #expect(try s.desk.pushLights(at: Timestamp(iso8601: "2026-11-25T02:04:59.999Z")!) == 0)
        #expect(try s.desk.pushLights(at: Timestamp(iso8601: "2026-11-25T02:05:00Z")!) == 1)
        #expect(try events().count == 1 && (try events()[0]).contains(#""to":"yellow""#))
        #expect(try s.desk.pushLights(at: Timestamp(iso8601: "2026-11-25T02:06:00Z")!) == 0, "a light turns once")
        #expect(try s.desk.nextLightChange()?.text == "2026-11-25T02:10:00Z")
        _ = try s.desk.pushLights(at: Timestamp(iso8601: "2026-11-25T02:10:00Z")!)
        s.clock.set("2026-11-25T02:10:00Z")
        let red = try #require(try s.desk.incident(id, personal: true))
        #expect(Self.property(red, "light") == "red" && red.feature[property: "overdue"] == .bool(true))
        // Registered late: the history says so; the next stage's limit starts from then.
        s.clock.set("2026-11-25T02:11:00Z")
        let registered = try s.desk.transition(id, TransitionRequest(to: "registered"), by: s.dispatcher)
        #expect(Self.property(registered, "light") == "green" && Self.property(registered, "red_at") == "2026-11-25T02:21:00Z")
        #expect(try s.desk.incident(id, personal: true)?.history?.last?["late"] == .bool(true))
        #expect(try s.desk.overdue(by: "department", at: Timestamp(iso8601: "2026-11-25T02:12:00Z")!)["total"] == .number(0))

        // A normal case reported on Friday at 17:00 (local): 2 working hours to register → yellow Monday 09:30.
        s.clock.set("2026-11-27T09:00:00Z")
        let rubbish = try s.desk.report(IncidentReport(position: s.home, category: "E0102"), by: s.dispatcher)
        #expect(Self.property(rubbish, "yellow_at") == "2026-11-30T01:30:00Z" && Self.property(rubbish, "red_at") == "2026-11-30T03:30:00Z")
        _ = try s.desk.pushLights(at: Timestamp(iso8601: "2026-11-29T12:00:00Z")!)  // Sunday evening: still green
        #expect(try s.desk.incident(Self.id(rubbish), personal: true).map { Self.property($0, "light") } == "green")
        s.clock.set("2026-11-30T04:00:00Z")
        _ = try s.desk.pushLights()
        let list = try s.desk.overdue(by: "grid")
        #expect(list["groups"]?.arrayValue?.first?["key"] == .string(s.homeGrid))
        #expect(list["groups"]?.arrayValue?.first?["cases"]?.arrayValue?.contains { $0["id"] == .number(Double(Self.id(rubbish))) } == true)

        // A promised case is held to its stage's limits and to its date: yellow a day before the promised day ends
        // (local), red when it ends or when the stage's limit passes, whichever comes first.
        var promised = IncidentReport(position: s.home, category: "C0105")
        promised.promisedDate = "2026-11-30"
        let p = try s.desk.report(promised, by: s.dispatcher)
        #expect(Self.property(p, "kind") == "promised" && Self.property(p, "red_at") == "2026-11-30T09:30:00Z" && Self.property(p, "yellow_at") == "2026-11-29T16:00:00Z")
        #expect(Self.property(p, "light") == "yellow")
    }

    @Test func aCaseMovedAcrossAGridBoundaryIsReassigned() throws {
        let s = try Self.setUp()
        let r = try s.desk.report(IncidentReport(position: s.home, category: "E0504"), by: s.dispatcher)
        let id = Self.id(r)
        let moved = try s.desk.move(id, to: s.away, by: s.dispatcher)
        let owner = try s.store.locate(s.away)
        #expect(Self.property(moved, "grid_code") == owner.grid?.code && Self.property(moved, "grid_code") != s.homeGrid)
        #expect(Self.property(moved, "community_code") == owner.community?.code)
        #expect(moved.situation?["location"]?["grid"]?["code"] == owner.grid.map { .string($0.code) })
        let kinds = try s.store.read { db -> [String] in
            let q = try db.prepare("SELECT kind FROM geogrid_events WHERE incident_id = ? ORDER BY id")
            try q.bind([.integer(id)])
            var out: [String] = []
            while try q.step() { out.append(q.text(0)!) }
            return out
        }
        #expect(kinds == ["created", "reassigned"])
        // The R*Tree follows the move (a box query finds it where it is now, not where it was), and a transition,
        // which leaves the point alone, keeps it there.
        _ = try s.desk.transition(id, TransitionRequest(to: "registered"), by: s.dispatcher)
        func found(near p: Position) throws -> Bool {
            var q = IncidentQuery()
            q.bbox = BBox(minX: p.lon - 1e-6, minY: p.lat - 1e-6, maxX: p.lon + 1e-6, maxY: p.lat + 1e-6)
            return try s.desk.incidents(q) { _ in true }.features.contains { $0.id == .int(id) }
        }
        #expect(try found(near: s.away) && !(try found(near: s.home)))
        #expect(try s.store.read { try $0.scalar("SELECT CheckSpatialIndex('incidents', 'geom')") } == .integer(1))
        // A grid worker scoped to the old grid may no longer touch it.
        #expect(throws: EditError.self) { try s.desk.transition(id, TransitionRequest(to: "closed_at_source", note: "n"), by: s.worker) }
    }

    /// If-Match on a transition: a stale ETag is refused (the case unchanged), the current one goes through, and a
    /// name no stage allows is the workflow's conflict whatever ETag comes with it.
    @Test func aTransitionWithAStaleETagIsRefused() throws {
        let s = try Self.setUp()
        let reported = try s.desk.report(IncidentReport(position: s.home, category: "E0102"), by: s.dispatcher)
        let id = Self.id(reported)
        let registered = try s.desk.transition(id, Self.full("registered"), by: s.dispatcher)
        #expect(registered.etag != reported.etag)
        var stale = Self.full("dispatched")
        stale.ifMatch = reported.etag
        do { _ = try s.desk.transition(id, stale, by: s.dispatcher); Issue.record("a stale ETag was accepted") } catch let e as EditError {
            #expect(e.kind == .preconditionFailed, "\(e)")
        }
        #expect(try s.desk.incident(id, personal: true).flatMap { Self.property($0, "stage") } == "registered")
        var nonsense = Self.full("nonsense")
        nonsense.ifMatch = reported.etag
        do { _ = try s.desk.transition(id, nonsense, by: s.dispatcher); Issue.record("nonsense was accepted") } catch let e as EditError {
            #expect(e.kind == .conflict && e.stage == "registered", "\(e)")
        }
        var fresh = Self.full("dispatched")
        fresh.ifMatch = registered.etag
        #expect(Self.property(try s.desk.transition(id, fresh, by: s.dispatcher), "stage") == "dispatched")
    }

    @Test func caseNumbersAreUniqueAndCountedPerYear() throws {
        let s = try Self.setUp("2026-12-31T15:00:00Z")  // 23:00 on 31 December in Shanghai
        let a = try s.desk.report(IncidentReport(position: s.home, category: "E0102"), by: s.dispatcher)
        s.clock.set("2026-12-31T16:30:00Z")  // 00:30 on 1 January 2027 there
        let b = try s.desk.report(IncidentReport(position: s.home, category: "E0102"), by: s.dispatcher)
        let c = try s.desk.report(IncidentReport(position: s.home, category: "E0102"), by: s.dispatcher)
        #expect([a, b, c].compactMap { Self.property($0, "case_number") } == ["2026-000001", "2027-000001", "2027-000002"])
    }

    @Test func badReportsAreRefusedWithTheirReason() throws {
        let s = try Self.setUp()
        func message(_ r: IncidentReport) -> String? {
            do { _ = try s.desk.report(r, by: s.dispatcher); return nil } catch let e as EditError { return e.kind == .invalid ? e.message : "kind \(e.kind)" } catch { return "\(error)" }
        }
        var r = IncidentReport(position: s.home, category: "no_such")
        #expect(message(r)?.contains("not in the catalogue") == true)
        r.category = "E01"
        r.subcategory = "C0101"
        #expect(message(r)?.contains("not a minor class of E01") == true)
        r.subcategory = nil
        r.kind = "promised"
        #expect(message(r)?.contains("promised_date") == true)
        r.kind = nil
        r.buildingID = 999_999_999
        #expect(message(r)?.contains("no such building") == true)
        r.buildingID = nil
        r.reportedAt = Timestamp(seconds: s.clock.time.seconds + 86_400)
        #expect(message(r)?.contains("future") == true)
        r.reportedAt = nil
        r.channel = "carrier_pigeon"
        #expect(message(r)?.contains("channel") == true)
        #expect(try s.store.read { try $0.scalar("SELECT count(*) FROM incidents").integer } == 0, "nothing half written")
        // A minor class given as the category stands for both.
        var minor = IncidentReport(position: s.home, category: "E0102")
        minor.channel = "hotline"
        let m = try s.desk.report(minor, by: s.dispatcher)
        #expect(Self.property(m, "category") == "E01" && Self.property(m, "subcategory") == "E0102" && Self.property(m, "department") == "district_city_management")
    }
}

/// Importing past calls: each case in the grid SpatiaLite finds for its point, local times read in the store's zone,
/// rows without a position left out with their line, cases outside every area kept, and the month's statistics
/// equal to counts made straight from the file.
@Suite struct IncidentImportTests {
    @Test func aMonthOfPastCallsAndItsStatistics() throws {
        let s = try IncidentWorkflowTests.setUp("2026-12-01T02:00:00Z")
        var rng = SeededRandom(seed: 10)
        let categories = ["E0102", "E0504", "C0105", "fire", "E01", "C0401"]
        let stages = ["", "registered", "dispatched", "closed", "closed_at_source", "cancelled"]
        var rows = ["lon,lat,time,category,stage,registered_at,dispatched_at,closed_at,note"]
        struct Expected { var lon: Double, lat: Double, time: String, category: String, stage: String, closedAt: String? }
        var expected: [Expected] = []
        func local(_ day: Int, _ minute: Int) -> String { String(format: "2026-11-%02d %02d:%02d", day, minute / 60, minute % 60) }
        let extent = try #require(try s.store.shapeIndex(.grids).extent)
        for i in 0..<400 {
            let lon = rng.next(in: extent.minX...extent.maxX), lat = rng.next(in: extent.minY...extent.maxY)
            let day = Int(rng.next(in: 1...27.99)), minute = Int(rng.next(in: 0...1300))
            let category = categories[i % categories.count], stage = stages[(i / 7) % stages.count]
            var registered = "", dispatched = "", closed = ""
            if stage != "" { registered = local(day, minute + 30) }
            if ["dispatched", "closed"].contains(stage) { dispatched = local(day, minute + 60) }
            if ["closed", "closed_at_source", "cancelled"].contains(stage) { closed = local(day + 2, minute) }
            if stage == "closed_at_source" || stage == "cancelled" { registered = "" }
            rows.append("\(lon),\(lat),\(local(day, minute)),\(category),\(stage),\(registered),\(dispatched),\(closed),row \(i)")
            expected.append(Expected(lon: lon, lat: lat, time: local(day, minute), category: category, stage: stage.isEmpty ? "reported" : stage, closedAt: closed.isEmpty ? nil : closed))
        }
        rows.append(",,2026-11-05 10:00,E0102,,,,,no position")  // line 402
        rows.append("10.5,10.5,2026-11-06 10:00,fire,,,,,far away")  // outside every area
        let file = s.dir.path("calls.csv")
        try rows.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        var options = IncidentImportOptions(format: .csv)
        #expect(throws: ImportError.self) { try s.desk.importCases(from: try InputBytes(path: file), options: options, by: .local()) }
        #expect(try s.store.read { try $0.scalar("SELECT count(*) FROM incidents").integer } == 0, "all or nothing")
        options.skipInvalid = true
        let report = try s.desk.importCases(from: try InputBytes(path: file), options: options, by: .local())
        #expect(report.imported == 401 && report.rejected.count == 1 && report.rejected.first?.line == 402)
        // Outside: in no area of the store, by SpatiaLite (the far-away case, and any random point beyond the communities).
        let outside = try s.store.read { db in
            try db.scalar("SELECT count(*) FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM communities c WHERE ST_Covers(c.geom, i.geom))").integer
        }
        #expect(report.outside.count == outside.map(Int.init) && report.outside.count >= 1)

        // Times without an offset are Shanghai time (Foundation's formatter is the oracle); each case is in the grid
        // whose polygon SpatiaLite finds covering its point.
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        let stored: [(String?, String?, String, String, String)] = try s.store.read { db in
            let q = try db.prepare("""
                SELECT i.grid_code, (SELECT code FROM grids g WHERE ST_Covers(g.geom, i.geom) AND g.id IN (SELECT pkid FROM idx_grids_geom WHERE xmin <= ST_X(i.geom) AND xmax >= ST_X(i.geom) AND ymin <= ST_Y(i.geom) AND ymax >= ST_Y(i.geom))),
                  i.reported_at, i.stage, i.category FROM incidents i ORDER BY i.id
                """)
            var out: [(String?, String?, String, String, String)] = []
            while try q.step() { out.append((q.text(0), q.text(1), q.text(2)!, q.text(3)!, q.text(4)!)) }
            return out
        }
        #expect(stored.count == 401)
        // The R*Tree the import filled in bulk is what SpatiaLite would have made row by row.
        #expect(try s.store.read { try $0.scalar("SELECT CheckSpatialIndex('incidents', 'geom')") } == .integer(1))
        for (i, e) in expected.enumerated() {
            let (grid, covering, reported, stage, _) = stored[i]
            #expect(grid == covering, "case \(i) at \(e.lon),\(e.lat)")
            #expect(Timestamp(iso8601: reported)?.seconds == f.date(from: e.time)?.timeIntervalSince1970, "case \(i): \(reported) for \(e.time)")
            #expect(stage == e.stage)
        }
        #expect(stored.last?.0 == nil && stored.last?.1 == nil)

        // November by category, counted from the file: received, closed (at source included, cancelled not), at source, cancelled.
        let stats = try s.desk.stats(period: "2026-11", by: "category")
        func major(_ c: String) -> String { c.count == 5 ? String(c.prefix(3)) : c }
        for category in Set(expected.map { major($0.category) }) {
            let mine = expected.filter { major($0.category) == category }
            let inNovember = { (t: String?) -> Bool in t.flatMap { f.date(from: $0) }.map { $0 < f.date(from: "2026-12-01 00:00")! } ?? false }
            let row = try #require(stats.rows.first { $0.key == category })
            let extra = category == "fire" ? 1 : 0  // the case far away
            #expect(row.received == mine.count + extra, "\(category)")
            #expect(row.closed == mine.filter { ["closed", "closed_at_source"].contains($0.stage) && inNovember($0.closedAt) }.count, "\(category)")
            #expect(row.closedAtSource == mine.filter { $0.stage == "closed_at_source" && inNovember($0.closedAt) }.count)
            #expect(row.cancelled == mine.filter { $0.stage == "cancelled" && inNovember($0.closedAt) }.count)
            #expect(row.zh != nil && row.en != nil)
        }
        #expect(stats.total.received == 401)
        // Imported open cases left in a stage for days are red now; time per stage comes from the imported times.
        #expect(stats.total.overdueNow == (try s.store.read { try $0.scalar("SELECT count(*) FROM incidents WHERE open AND red_at <= ?", [.text(s.clock.time.text)]).integer }).map(Int.init))
        #expect(stats.total.overdueNow > 100)
        let hours = try #require(stats.total.hours["reported"])
        // Time at reported, from the file: until registered, or until closed at source or cancelled.
        let left = expected.compactMap { e -> Double? in
            guard e.stage != "reported", let t0 = f.date(from: e.time) else { return nil }
            let next = e.stage == "closed_at_source" || e.stage == "cancelled" ? f.date(from: e.closedAt!)! : t0.addingTimeInterval(1800)
            return next.timeIntervalSince(t0) / 3600
        }
        #expect(hours.count == left.count && abs(hours.total / Double(hours.count) - left.reduce(0, +) / Double(left.count)) < 1e-9)
        let csv = stats.csv.split(separator: "\n")
        #expect(csv.first?.hasPrefix("key,zh,en,received,closed,closed_on_time,on_time_rate") == true && csv.last?.hasPrefix("*,") == true)
        #expect(csv.count == stats.rows.count + 2)
    }
}
