import Foundation

/// Which cases a list asks for. Empty lists and nil match everything.
public struct IncidentQuery: Sendable {
    public var ids: [Int64] = []
    public var stages: [String] = []
    public var lights: [String] = []
    public var grids: [String] = []
    /// Area codes (community, street or district): a case matches when one of its codes starts with one.
    public var areas: [String] = []
    public var communities: [String] = []
    public var departments: [String] = []
    public var categories: [String] = []
    public var channels: [String] = []
    public var open: Bool?
    /// Reported at or after / before.
    public var since: Timestamp?
    public var until: Timestamp?
    public var bbox: BBox?
    public var limit = 100
    public var offset = 0
    public init() {}
}

extension IncidentDesk {
    /// One case with its situation package and history; nil when there is none. Without `personal`, the
    /// reporter's fields and the grid worker's phone are left out.
    public func incident(_ id: Int64, personal: Bool) throws -> IncidentRecord? {
        let now = clock()
        return try store.read { db in
            guard let c = try Self.load(db, id) else { return nil }
            var situation: JSONValue?
            let s = try db.prepare("SELECT situation FROM geogrid_incident_situations WHERE incident_id = ?")
            try s.bind([.integer(id)])
            if try s.step(), let text = s.text(0) { situation = try? JSONParser.parse(text) }
            if !personal { situation = situation.map(IncidentRecord.redacted) }
            let h = try db.prepare("""
                SELECT time, token_name, action, from_stage, to_stage, department, note, late FROM geogrid_incident_history WHERE incident_id = ? ORDER BY id
                """)
            try h.bind([.integer(id)])
            var history: [JSONValue] = []
            while try h.step() {
                history.append(.object([
                    ("time", h.value(0).json), ("by", h.value(1).json), ("action", h.value(2).json), ("from", h.value(3).json), ("to", h.value(4).json),
                    ("department", h.value(5).json), ("note", h.value(6).json), ("late", .bool(h.int64(7) != 0)),
                ]))
            }
            return IncidentRecord(feature: c.feature(at: now, personal: personal), situation: situation ?? .null, history: history, etag: Self.etag(c))
        }
    }

    /// The area codes of a case (for scope checks by adapters).
    public func areaCodes(_ id: Int64) throws -> [String]? {
        try store.read { db in try Self.load(db, id)?.areaCodes }
    }

    /// The cases a query matches, in id order, a page of them, and how many match in all. The light is the
    /// light at this moment (computed from the stored limits, not as last pushed).
    public func incidents(_ q: IncidentQuery, personal: (Feature) -> Bool) throws -> (features: [Feature], matched: Int) {
        let now = clock()
        var clauses: [String] = []
        var binds: [FieldValue] = []
        func any(_ column: String, _ values: [String]) {
            guard !values.isEmpty else { return }
            clauses.append("\(column) IN (\(values.map { _ in "?" }.joined(separator: ", ")))")
            binds += values.map(FieldValue.text)
        }
        if !q.ids.isEmpty {
            clauses.append("id IN (\(q.ids.map { _ in "?" }.joined(separator: ", ")))")
            binds += q.ids.map(FieldValue.integer)
        }
        any("stage", q.stages)
        any("grid_code", q.grids)
        any("community_code", q.communities)
        any("department", q.departments)
        any("channel", q.channels)
        if !q.categories.isEmpty {
            let marks = q.categories.map { _ in "?" }.joined(separator: ", ")
            clauses.append("(category IN (\(marks)) OR subcategory IN (\(marks)))")
            binds += q.categories.map(FieldValue.text) + q.categories.map(FieldValue.text)
        }
        if !q.areas.isEmpty {
            var ors: [String] = []
            for a in q.areas {
                for column in ["grid_code", "community_code", "street_code", "district_code"] {
                    ors.append("substr(\(column), 1, \(a.count)) = ?")
                    binds.append(.text(a))
                }
            }
            clauses.append("(" + ors.joined(separator: " OR ") + ")")
        }
        if !q.lights.isEmpty {
            let light = "(CASE WHEN NOT open THEN NULL WHEN red_at <= ? THEN 'red' WHEN yellow_at <= ? THEN 'yellow' ELSE 'green' END)"
            clauses.append("\(light) IN (\(q.lights.map { _ in "?" }.joined(separator: ", ")))")
            binds += [.text(now.text), .text(now.text)] + q.lights.map(FieldValue.text)
        }
        if let open = q.open { clauses.append(open ? "open" : "NOT open") }
        if let since = q.since { clauses.append("reported_at >= ?"); binds.append(.text(since.text)) }
        if let until = q.until { clauses.append("reported_at < ?"); binds.append(.text(until.text)) }
        if let b = q.bbox {
            clauses.append("id IN (SELECT pkid FROM idx_incidents_geom WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?)")
            binds += [.real(b.maxX), .real(b.minX), .real(b.maxY), .real(b.minY)]
        }
        let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        return try store.read { db in
            let count = try db.prepare("SELECT count(*) FROM incidents" + whereSQL)
            try count.bind(binds)
            _ = try count.step()
            let matched = Int(count.int64(0))
            let s = try db.prepare("SELECT \(GeoStore.selectList(Self.layer)) FROM incidents\(whereSQL) ORDER BY id LIMIT ? OFFSET ?")
            try s.bind(binds + [.integer(Int64(q.limit)), .integer(Int64(q.offset))])
            var out: [Feature] = []
            while try s.step() {
                let c = try CaseRow(GeoStore.storedRow(s, Self.layer.fields.count))
                let full = c.feature(at: now, personal: true)
                out.append(personal(full) ? full : c.feature(at: now, personal: false))
            }
            return (out, matched)
        }
    }

    /// What overdue lists group by.
    public static let groupings = ["grid": "grid_code", "community": "community_code", "street": "street_code", "district": "district_code",
        "department": "department", "person": "assignee", "category": "category", "channel": "channel"]

    /// The open cases that are red at `now`, grouped (grid, community, street, district, department or
    /// person), the groups with most cases first, each case with how long it is overdue.
    public func overdue(by grouping: String, at now: Timestamp? = nil) throws -> JSONValue {
        guard let column = Self.groupings[grouping], grouping != "category" && grouping != "channel" else {
            throw StoreError("overdue lists group by grid, community, street, district, department or person, not \(grouping)")
        }
        let now = now ?? clock()
        let config = try store.incidentConfig()
        let rows: [CaseRow] = try store.read { db in
            let s = try db.prepare("SELECT \(GeoStore.selectList(Self.layer)) FROM incidents WHERE open AND red_at <= ? ORDER BY red_at, id")
            try s.bind([.text(now.text)])
            var out: [CaseRow] = []
            while try s.step() { out.append(try CaseRow(GeoStore.storedRow(s, Self.layer.fields.count))) }
            return out
        }
        var groups: [String: [CaseRow]] = [:]
        for c in rows { groups[c.text(column) ?? "", default: []].append(c) }
        let ordered = groups.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
        let list: [JSONValue] = ordered.map { key, cases in
            var m: [(String, JSONValue)] = [("key", key.isEmpty ? .null : .string(key))]
            if grouping == "department", let d = config.department(key) { m += [("zh", .string(d.entry.zh)), ("en", .string(d.entry.en)), ("level", .string(d.level))] }
            m.append(("count", .number(Double(cases.count))))
            m.append(("cases", .array(cases.map { c in
                let red = c.time("red_at")!
                return .object([
                    ("id", .number(Double(c.id!))), ("case_number", .string(c.caseNumber)), ("category", c["category"].json), ("stage", .string(c.stage)),
                    ("department", c["department"].json), ("assignee", c["assignee"].json), ("grid_code", c["grid_code"].json),
                    ("red_at", .string(red.text)), ("overdue_hours", .number(((now.seconds - red.seconds) / 360).rounded() / 10)),
                ])
            })))
            return .object(m)
        }
        return .object([("at", .string(now.text)), ("by", .string(grouping)), ("total", .number(Double(rows.count))), ("groups", .array(list))])
    }
}
