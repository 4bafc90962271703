import Foundation
import Synchronization

/// Boundary plans: proposals stored, edited, checked, previewed, applied with an effective date, and rolled
/// back. Every write is one transaction with its audit rows; reads of the open grids come from the file.
public struct PlanDesk: Sendable {
    public let store: GeoStore
    /// Today in the city (for effective dates): injected by tests.
    public var today: @Sendable () -> String

    public init(store: GeoStore, today: (@Sendable () -> String)? = nil) {
        self.store = store
        self.today = today ?? { store.today }
    }

    /// The day of `date` in `timeZone` (YYYY-MM-DD). Asked on every locate (the grids in force today), so the
    /// zone's offset is looked up once a minute at most, and the date made by arithmetic, not a formatter.
    public static func localDay(_ date: Date, timeZone: TimeZone = .current) -> String {
        let t = date.timeIntervalSince1970
        let offset: Int = offsetCache.withLock { c in
            if let c, c.zone == timeZone, abs(t - c.at) < 60 { return c.offset }
            let o = timeZone.secondsFromGMT(for: date)
            c = (timeZone, t, o)
            return o
        }
        return WorkCalendar.date(Int64(((t + Double(offset)) / 86_400).rounded(.down)))
    }
    private static let offsetCache = Mutex<(zone: TimeZone, at: Double, offset: Int)?>(nil)

    // MARK: Proposals

    /// Stores a proposal as a draft plan, checked for structure (not yet for topology: that is `check`).
    public func create(_ proposal: JSONValue, title: String?, assignCodes: Bool, by token: Token?) throws -> Plan {
        let token = try authorise(token, what: "create a plan")
        let open = try openGrids()
        let grids = try PlanProposal.grids(proposal, open: Dictionary(open.map { ($0.info.code, $0.info) }) { a, _ in a }, assignCodes: assignCodes, store: store)
        var communities = Set(grids.compactMap(\.communityCode))
        if case .array(let named)? = proposal["communities"] { communities.formUnion(named.compactMap(\.stringValue)) }
        guard !communities.isEmpty else {
            throw EditError(kind: .invalid, message: "the plan names no community: give its grids codes (or ask for codes to be assigned)")
        }
        try requireScope(token, Array(communities))
        let title = title ?? proposal["title"]?.stringValue
        let now = Timestamp.now.text
        return try store.write { db in
            let s = try db.prepare("INSERT INTO geogrid_plans (title, status, communities, created, created_by, updated) VALUES (?, 'draft', ?, ?, ?, ?)")
            try s.bind([title.map(FieldValue.text) ?? .null, .text(Self.jsonText(.array(communities.sorted().map(JSONValue.string)))), .text(now), .text(token.label), .text(now)])
            try s.step()
            let id = db.lastInsertRowID
            for g in grids { try Self.insertGrid(db, plan: id, g) }
            try Self.audit(db, token, plan: id, operation: "plan_create", detail: .object([("grids", .number(Double(grids.count)))]))
            return try Self.load(db, id)!
        }
    }

    /// Replaces one grid of a draft plan (its geometry and properties: a boundary moved in a console or QGIS).
    public func replaceGrid(plan id: Int64, code: String, with feature: JSONValue, by token: Token?) throws -> Plan {
        let token = try authorise(token, what: "edit a plan")
        let plan = try self.plan(id)
        try requireScope(token, plan.communities)
        guard plan.status == .draft else { throw EditError(kind: .conflict, message: "plan \(id) is \(plan.status.rawValue): only a draft can be edited") }
        guard let old = plan.grids.first(where: { $0.code == code }) else { throw EditError(kind: .notFound, message: "plan \(id) has no grid \(code)") }
        var g = try PlanProposal.grid(feature, index: 0)
        if let given = g.code, given != code { throw EditError(kind: .invalid, message: "the grid's code is \(code) (the path's); the body says \(given)") }
        g.code = code
        if feature["properties"]?["action"] == nil { g.action = old.action }
        if g.action != .retire && g.geometry == nil { throw EditError(kind: .invalid, message: "a grid to \(g.action.rawValue) needs a polygon geometry") }
        if let c = g.communityCode, !plan.communities.contains(c) { throw EditError(kind: .invalid, message: "grid \(code) is not in the plan's communities") }
        return try store.write { db in
            let s = try db.prepare("DELETE FROM geogrid_plan_grids WHERE plan_id = ? AND code = ?")
            try s.bind([.integer(id), .text(code)])
            try s.step()
            try Self.insertGrid(db, plan: id, g)
            let u = try db.prepare("UPDATE geogrid_plans SET updated = ? WHERE id = ?")
            try u.bind([.text(Timestamp.now.text), .integer(id)])
            try u.step()
            try Self.audit(db, token, plan: id, operation: "plan_edit", detail: .object([("code", .string(code)), ("action", .string(g.action.rawValue))]))
            return try Self.load(db, id)!
        }
    }

    public func plan(_ id: Int64) throws -> Plan {
        guard let p = try store.read({ try Self.load($0, id) }) else { throw EditError(kind: .notFound, message: "no plan \(id)") }
        return p
    }

    /// Every plan, newest first.
    /// Every plan, newest first, without its grids (`gridCount` says how many): what a history lists.
    public func plans() throws -> [Plan] {
        try store.read { db in
            let s = try db.prepare("SELECT id FROM geogrid_plans ORDER BY id DESC")
            var ids: [Int64] = []
            while try s.step() { ids.append(s.int64(0)) }
            return try ids.compactMap { try Self.load(db, $0, grids: false) }
        }
    }

    // MARK: Settings

    /// The `plans` document in force (thresholds, size bands per city and community); nil: the defaults.
    public func settingsDocument() throws -> JSONValue? {
        try store.read { try $0.scalar("SELECT value FROM geogrid_config WHERE name = 'plans'").text }.map { try JSONParser.parse($0) }
    }

    /// Replaces the `plans` document, checked first; an administrator's (or an unscoped planner's) change, audited.
    public func loadSettings(_ document: JSONValue, by token: Token?) throws {
        let token = try authorise(token, what: "set the plan checks' thresholds")
        guard token.role == .admin || token.scopes.isEmpty else {
            throw EditError(kind: .forbidden, message: "the thresholds are the city's: an admin or a planner without a scope sets them")
        }
        try PlanCheckSettings.validate(document)
        let now = Timestamp.now.text
        try store.write { db in
            let s = try db.prepare("INSERT OR REPLACE INTO geogrid_config (name, value, updated) VALUES ('plans', ?, ?)")
            try s.bind([.text(Self.jsonText(document)), .text(now)])
            try s.step()
            try Self.audit(db, token, plan: 0, operation: "plan_settings", detail: document)
        }
    }

    // MARK: Access

    func authorise(_ token: Token?, what: String) throws -> Token {
        guard let token else { throw EditError(kind: .unauthenticated, message: "to \(what) needs a token: Authorization: Bearer …") }
        guard token.role == .planner || token.role == .admin else {
            throw EditError(kind: .forbidden, message: "a \(token.role.rawValue) token may not \(what): planners and admins redraw grids")
        }
        return token
    }

    func requireScope(_ token: Token, _ communities: [String]) throws {
        for c in communities where !Access.inScope(token, codes: [c]) {
            throw EditError(kind: .forbidden, message: "community \(c) lies outside the token's scope (\(token.scopes.joined(separator: ", ")))")
        }
    }

    // MARK: Rows

    /// The grids not closed (`valid_to` empty), with their rows' ids and dates: what a plan redraws.
    struct OpenGrid {
        var info: GridInfo
        var geometry: Geometry
        var validFrom: String?
        var extra: String?
    }

    func openGrids(communities: Set<String>? = nil, inForceOn day: String? = nil) throws -> [OpenGrid] {
        try store.read { db in try Self.openGrids(db, communities: communities, inForceOn: day) }
    }

    /// The open grids; with `day`, the grids in force on that day instead.
    static func openGrids(_ db: Connection, communities: Set<String>?, inForceOn day: String? = nil) throws -> [OpenGrid] {
        // Cached (a plan's check reads these every time); reset before the read transaction ends.
        let s = try db.cached("""
            SELECT id, code, name, worker_name, worker_phone, households, population, community_code, valid_from, extra_properties, geom FROM grids
            WHERE \(day == nil ? "valid_to IS NULL" : "(valid_from IS NULL OR valid_from <= ?1) AND (valid_to IS NULL OR valid_to >= ?1)")
            \(communities == nil ? "" : "AND community_code IN (SELECT value FROM json_each(?2))") ORDER BY code
            """)
        defer { s.reset() }
        if let day { try s.bind(.text(day), at: 1) }
        if let communities { try s.bind(.text(jsonText(.array(communities.sorted().map(JSONValue.string)))), at: 2) }
        var out: [OpenGrid] = []
        while try s.step() {
            let community = s.text(7) ?? ""
            if let communities, !communities.contains(community) { continue }
            let info = GridInfo(id: s.int64(0), code: s.text(1) ?? "", name: s.text(2), workerName: s.text(3), workerPhone: s.text(4),
                households: s.value(5).integer, population: s.value(6).integer, communityCode: community)
            out.append(OpenGrid(info: info, geometry: try GeoStore.geometry(s, 10), validFrom: s.text(8), extra: s.text(9)))
        }
        return out
    }

    static func insertGrid(_ db: Connection, plan: Int64, _ g: PlanGrid) throws {
        let s = try db.prepare("""
            INSERT INTO geogrid_plan_grids (plan_id, code, action, name, worker_name, worker_phone, households, population, extra_properties, geom)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try s.bind([.integer(plan), g.code.map(FieldValue.text) ?? .null, .text(g.action.rawValue), g.name.map(FieldValue.text) ?? .null,
            g.workerName.map(FieldValue.text) ?? .null, g.workerPhone.map(FieldValue.text) ?? .null, g.households.map(FieldValue.integer) ?? .null,
            g.population.map(FieldValue.integer) ?? .null, g.extra.map(FieldValue.text) ?? .null])
        if let geometry = g.geometry { try s.bind(blob: SpatiaLiteBlob.encode(geometry), at: 10) } else { try s.bind(.null, at: 10) }
        try s.step()
    }

    /// The plan `id`; without `grids`, its grids are counted, not read.
    static func load(_ db: Connection, _ id: Int64, grids: Bool = true) throws -> Plan? {
        let s = try db.cached("""
            SELECT id, title, status, communities, created, created_by, updated, effective, applied_at, applied_by, in_force, rollback_of, rolled_back_by
            FROM geogrid_plans WHERE id = ?
            """)
        defer { s.reset() }
        try s.bind([.integer(id)])
        guard try s.step() else { return nil }
        let communities = (try? JSONParser.parse(s.text(3) ?? "[]"))?.arrayValue?.compactMap(\.stringValue) ?? []
        var plan = Plan(id: s.int64(0), title: s.text(1), status: Plan.Status(rawValue: s.text(2) ?? "") ?? .draft, communities: communities,
            created: s.text(4) ?? "", createdBy: s.text(5), updated: s.text(6) ?? "", effective: s.text(7), appliedAt: s.text(8), appliedBy: s.text(9),
            inForce: s.int64(10) != 0, rollbackOf: s.value(11).integer, rolledBackBy: s.value(12).integer, grids: [])
        guard grids else {
            plan.listedGridCount = try db.scalar("SELECT count(*) FROM geogrid_plan_grids WHERE plan_id = ?", [.integer(id)]).integer.map(Int.init) ?? 0
            return plan
        }
        let g = try db.cached("""
            SELECT code, action, name, worker_name, worker_phone, households, population, extra_properties, geom FROM geogrid_plan_grids
            WHERE plan_id = ? ORDER BY code, id
            """)
        defer { g.reset() }
        try g.bind([.integer(id)])
        while try g.step() {
            let geometry: Geometry? = g.value(8) == .null ? nil : try GeoStore.geometry(g, 8)
            plan.grids.append(PlanGrid(code: g.text(0), action: PlanGrid.Action(rawValue: g.text(1) ?? "") ?? .add, name: g.text(2), workerName: g.text(3),
                workerPhone: g.text(4), households: g.value(5).integer, population: g.value(6).integer, extra: g.text(7), geometry: geometry))
        }
        return plan
    }

    static func audit(_ db: Connection, _ token: Token, plan: Int64, operation: String, detail: JSONValue) throws {
        let s = try db.cached("""
            INSERT INTO geogrid_audit (time, token_id, token_name, collection, feature_id, operation, before, after) VALUES (?, ?, ?, 'plans', ?, ?, NULL, ?)
            """)
        try s.bind([.text(Timestamp.now.text), token.id == 0 ? .null : .integer(token.id), .text(token.label), .integer(plan), .text(operation), .text(jsonText(detail))])
        try s.step()
    }

    static func jsonText(_ v: JSONValue) -> String {
        var bytes: [UInt8] = []
        GeoJSONWriter.value(v, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
