import Foundation

/// What applying a plan would change: buildings and open cases that change grid, per-grid totals before and
/// after, and the workers who gain or lose households and cases.
public struct PlanImpact: Sendable {
    public struct BuildingMove: Sendable {
        public var id: Int64
        public var from: String?
        public var to: String?
        public var households: Int64
        public var population: Int64
        public var geometry: Geometry
    }
    public struct CaseMove: Sendable {
        public var id: Int64
        public var caseNumber: String?
        public var from: String?
        public var to: String?
        public var position: Position
    }
    public struct Totals: Sendable, Equatable {
        public var buildings = 0
        public var households: Int64 = 0
        public var population: Int64 = 0
        public var openCases = 0
        var json: JSONValue {
            .object([("buildings", .number(Double(buildings))), ("households", .number(Double(households))), ("population", .number(Double(population))),
                ("open_cases", .number(Double(openCases)))])
        }
    }
    public var buildings: [BuildingMove]
    public var cases: [CaseMove]
    /// Per grid code: before (the grids in force) and after the plan.
    public var grids: [(code: String, before: Totals, after: Totals)]
    /// Per worker: before and after.
    public var workers: [(name: String, before: Totals, after: Totals)]

    public var json: JSONValue {
        .object([
            ("buildings_moved", .number(Double(buildings.count))), ("households_moved", .number(Double(buildings.reduce(0) { $0 + $1.households }))),
            ("population_moved", .number(Double(buildings.reduce(0) { $0 + $1.population }))),
            ("buildings", .array(buildings.map { .object([("id", .number(Double($0.id))), ("from", $0.from.map(JSONValue.string) ?? .null),
                ("to", $0.to.map(JSONValue.string) ?? .null), ("households", .number(Double($0.households))), ("population", .number(Double($0.population)))]) })),
            ("cases", .array(cases.map { .object([("id", .number(Double($0.id))), ("case_number", $0.caseNumber.map(JSONValue.string) ?? .null),
                ("from", $0.from.map(JSONValue.string) ?? .null), ("to", $0.to.map(JSONValue.string) ?? .null)]) })),
            ("grids", .array(grids.map { .object([("code", .string($0.code)), ("before", $0.before.json), ("after", $0.after.json)]) })),
            ("workers", .array(workers.map { .object([("name", .string($0.name)), ("before", $0.before.json), ("after", $0.after.json),
                ("households_change", .number(Double($0.after.households - $0.before.households))),
                ("open_cases_change", .number(Double($0.after.openCases - $0.before.openCases)))]) })),
        ])
    }

    /// The moved buildings as GeoJSON, each with where it goes.
    public var featureCollection: [Feature] {
        buildings.map { b in
            Feature(id: .int(b.id), geometry: b.geometry, properties: [("from", b.from.map(JSONValue.string) ?? .null), ("to", b.to.map(JSONValue.string) ?? .null),
                ("households", .number(Double(b.households))), ("population", .number(Double(b.population)))])
        }
    }
}

extension PlanDesk {
    /// The impact of applying `id` now.
    public func impact(_ id: Int64) throws -> PlanImpact { try impact(try plan(id)) }

    /// With `day`, the grids of the communities are those in force that day, not the open ones (a plan's
    /// grids coming into force on their effective day).
    func impact(_ plan: Plan, day: String? = nil) throws -> PlanImpact {
        let geos = GEOSContext()
        let open = try openGrids(communities: plan.touchedCommunities, inForceOn: day)
        let replaced = Set(plan.grids.compactMap(\.code))
        let communities = Set(plan.communities)
        // The grids after: the open grids of the communities not redrawn, and the plan's.
        var after: [(code: String, worker: String?, geometry: Geometry, box: BBox)] = open.filter { communities.contains($0.info.communityCode) && !replaced.contains($0.info.code) }
            .map { ($0.info.code, $0.info.workerName, $0.geometry, $0.geometry.bbox ?? .empty) }
        let openByCode = Dictionary(open.map { ($0.info.code, $0.info) }) { a, _ in a }
        for g in plan.grids where g.action != .retire {
            guard let code = g.code, let geometry = g.geometry else { continue }
            after.append((code, g.workerName ?? openByCode[code]?.workerName, geometry, geometry.bbox ?? .empty))
        }
        let before = open.filter { communities.contains($0.info.communityCode) }
        let touched = Set(before.map(\.info.code)).union(after.map(\.code))
        var area = BBox.empty
        for g in before { if let b = g.geometry.bbox { area.extend(b) } }
        for g in after { area.extend(g.box) }
        func destination(_ p: Position) -> String? { after.first { $0.box.contains(p) && Self.contains($0.geometry, p) }?.code }

        var totals: [String: (before: PlanImpact.Totals, after: PlanImpact.Totals)] = [:]
        for code in touched { totals[code] = (.init(), .init()) }
        var moves: [PlanImpact.BuildingMove] = []
        let fields = Layer.buildings.fields
        let (h, pop, grid) = (fields.firstIndex { $0.name == "households" }!, fields.firstIndex { $0.name == "population" }!, fields.firstIndex { $0.name == "grid_code" }!)
        for b in area.isEmpty ? [] : try store.shapeIndex(.buildings).entries(intersecting: area) {
            let from = b.values[grid].text
            guard let p = geos.representativePoint(b.geometry) else { continue }
            let to = destination(p)
            // Buildings of the communities (by their place now or their grid): others are not the plan's.
            guard to != nil || from.map(touched.contains) == true else { continue }
            let hh = b.values[h].integer ?? 0, pp = b.values[pop].integer ?? 0
            if let from, totals[from] != nil {
                totals[from]!.before.buildings += 1
                totals[from]!.before.households += hh
                totals[from]!.before.population += pp
            }
            if let to {
                totals[to]!.after.buildings += 1
                totals[to]!.after.households += hh
                totals[to]!.after.population += pp
            }
            if from != to { moves.append(.init(id: b.id, from: from, to: to, households: hh, population: pp, geometry: b.geometry)) }
        }
        // Open cases of the communities.
        var caseMoves: [PlanImpact.CaseMove] = []
        let openCases: [(Int64, String?, String?, Position)] = try store.read { db in
            let s = try db.prepare("SELECT id, case_number, grid_code, X(geom), Y(geom) FROM incidents WHERE open = 1 AND (grid_code IN (SELECT value FROM json_each(?)) OR (X(geom) BETWEEN ? AND ? AND Y(geom) BETWEEN ? AND ?))")
            try s.bind([.text(Self.jsonText(.array(touched.sorted().map(JSONValue.string)))), .real(area.minX), .real(area.maxX), .real(area.minY), .real(area.maxY)])
            var out: [(Int64, String?, String?, Position)] = []
            while try s.step() { out.append((s.int64(0), s.text(1), s.text(2), Position(s.double(3), s.double(4)))) }
            return out
        }
        for (id, number, from, p) in openCases {
            let to = destination(p)
            guard to != nil || from.map(touched.contains) == true else { continue }
            if let from, totals[from] != nil { totals[from]!.before.openCases += 1 }
            if let to { totals[to]!.after.openCases += 1 }
            if from != to { caseMoves.append(.init(id: id, caseNumber: number, from: from, to: to, position: p)) }
        }
        // Workers: the totals of the grids each has before and after.
        var workers: [String: (before: PlanImpact.Totals, after: PlanImpact.Totals)] = [:]
        func add(_ t: inout PlanImpact.Totals, _ u: PlanImpact.Totals) {
            t.buildings += u.buildings
            t.households += u.households
            t.population += u.population
            t.openCases += u.openCases
        }
        for g in before { if let w = g.info.workerName, let t = totals[g.info.code] { add(&workers[w, default: (.init(), .init())].before, t.before) } }
        for g in after { if let w = g.worker, let t = totals[g.code] { add(&workers[w, default: (.init(), .init())].after, t.after) } }
        return PlanImpact(buildings: moves.sorted { $0.id < $1.id }, cases: caseMoves.sorted { $0.id < $1.id },
            grids: totals.sorted { $0.key < $1.key }.map { ($0.key, $0.value.before, $0.value.after) },
            workers: workers.sorted { $0.key < $1.key }.filter { $0.value.before != $0.value.after }.map { ($0.key, $0.value.before, $0.value.after) })
    }

    // MARK: Apply and rollback

    /// Applies a draft plan from `effective` (a date, today or later): refused while an error-level finding
    /// stands. One transaction closes the redrawn and retired grids (`valid_to` the day before), inserts the
    /// new ones (`valid_from` the effective day) and, when that day has come, re-assigns buildings and open
    /// cases (each case with a history entry); the plan records what it changed, for rollback.
    public func apply(_ id: Int64, effective: String, by token: Token?) throws -> Plan {
        let token = try authorise(token, what: "apply a plan")
        let plan = try self.plan(id)
        try requireScope(token, plan.communities)
        guard plan.status == .draft else { throw EditError(kind: .conflict, message: "plan \(id) is \(plan.status.rawValue): only a draft can be applied") }
        guard let day = WorkCalendar.day(effective) else { throw EditError(kind: .invalid, message: "effective must be a date YYYY-MM-DD, not '\(effective)'") }
        let today = self.today()
        guard effective >= today else { throw EditError(kind: .invalid, message: "effective \(effective) is in the past (today is \(today))") }
        let dayBefore = WorkCalendar.date(day - 1)
        let takesEffect = effective <= today
        let now = Timestamp.now.text
        return try store.write { db in
            // Checked and measured under the write lock: no other write (of this process or another, which
            // BEGIN IMMEDIATE shuts out) can change the grids between the check and the apply.
            let errors = try check(plan).filter { $0.severity == .error }
            guard errors.isEmpty else {
                var e = EditError(kind: .conflict, message: "plan \(id) has \(errors.count) error(s): \(errors.prefix(3).map(\.message).joined(separator: "; "))")
                e.stage = "draft"
                throw e
            }
            let impact = try self.impact(plan)
            let open = try Self.openGrids(db, communities: plan.touchedCommunities)
            let openByCode = Dictionary(open.map { ($0.info.code, $0) }) { a, _ in a }
            var closed: [JSONValue] = [], inserted: [JSONValue] = []
            for g in plan.grids {
                guard let code = g.code, let old = openByCode[code] else { continue }
                if let from = old.validFrom, from > dayBefore {
                    throw EditError(kind: .conflict, message: "grid \(code) is in force only from \(from): a plan on it can take effect after that day, not \(effective)")
                }
                let s = try db.prepare("UPDATE grids SET valid_to = ? WHERE id = ?")
                try s.bind([.text(dayBefore), .integer(old.info.id)])
                try s.step()
                closed.append(.number(Double(old.info.id)))
            }
            let totals = Dictionary(impact.grids.map { ($0.code, $0.after) }) { a, _ in a }
            for g in plan.grids where g.action != .retire {
                guard let code = g.code, let geometry = g.geometry, let gc = GridCode(code) else { continue }
                let old = openByCode[code]?.info
                let s = try db.prepare("""
                    INSERT INTO grids (code, name, community_code, worker_name, worker_phone, households, population, valid_from, valid_to, extra_properties, geom)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)
                    """)
                try s.bind([.text(code), (g.name ?? old?.name).map(FieldValue.text) ?? .null, .text(gc.community),
                    (g.workerName ?? old?.workerName).map(FieldValue.text) ?? .null, (g.workerPhone ?? old?.workerPhone).map(FieldValue.text) ?? .null,
                    .integer(g.households ?? totals[code]?.households ?? 0), .integer(g.population ?? totals[code]?.population ?? 0), .text(effective),
                    (g.extra ?? openByCode[code]?.extra).map(FieldValue.text) ?? .null])
                try s.bind(blob: SpatiaLiteBlob.encode(geometry), at: 10)
                try s.step()
                inserted.append(.number(Double(db.lastInsertRowID)))
            }
            var record: [(String, JSONValue)] = [("closed", .array(closed)), ("inserted", .array(inserted))]
            if takesEffect { record += try Self.reassign(db, impact: impact, plan: id, token: token, now: now) }
            let s = try db.prepare("""
                UPDATE geogrid_plans SET status = 'applied', effective = ?, applied_at = ?, applied_by = ?, in_force = ?, updated = ?, record = ? WHERE id = ?
                """)
            try s.bind([.text(effective), .text(now), .text(token.label), .integer(takesEffect ? 1 : 0), .text(now), .text(Self.jsonText(.object(record))), .integer(id)])
            try s.step()
            try Self.event(db, "plan_applied", plan: id, [("effective", .string(effective)), ("communities", .array(plan.communities.map(JSONValue.string))),
                ("buildings_moved", .number(Double(impact.buildings.count))), ("cases_moved", .number(Double(impact.cases.count)))], at: now)
            try Self.audit(db, token, plan: id, operation: "plan_apply", detail: .object([("effective", .string(effective))] + record))
            return try Self.load(db, id)!
        }
    }

    /// Brings into force every applied plan whose effective day has come (today in the store's clock) and
    /// that has not yet taken effect: in one transaction each, buildings and open cases move to the grids in
    /// force today (a history entry per case), the plan is marked in force and its record keeps the moves
    /// (for rollback), with a `plan_in_force` event. The server runs this as each day begins; returns the
    /// plans brought into force.
    @discardableResult public func activateDuePlans() throws -> [Plan] {
        let today = self.today()
        let due: [Int64] = try store.read { db in
            let s = try db.prepare("SELECT id FROM geogrid_plans WHERE status = 'applied' AND in_force = 0 AND effective <= ? ORDER BY effective, id")
            try s.bind([.text(today)])
            var ids: [Int64] = []
            while try s.step() { ids.append(s.int64(0)) }
            return ids
        }
        var done: [Plan] = []
        for id in due {
            var plan = try self.plan(id)
            plan.grids = []
            let impact = try self.impact(plan, day: today)
            let clock = Token(id: 0, name: "GeoGrid (plan \(id) in force)", role: .admin, scopes: [], created: Timestamp.now.text)
            let now = Timestamp.now.text
            done.append(try store.write { db in
                // Another process may have brought it into force since the read.
                guard try db.scalar("SELECT in_force FROM geogrid_plans WHERE id = ?", [.integer(id)]).integer == 0 else { return try Self.load(db, id)! }
                let moved = try Self.reassign(db, impact: impact, plan: id, token: clock, now: now)
                let r = try db.prepare("SELECT record FROM geogrid_plans WHERE id = ?")
                try r.bind([.integer(id)])
                var record: [(String, JSONValue)] = []
                if try r.step(), let text = r.text(0), case .object(let members)? = try? JSONParser.parse(text) { record = members }
                record.removeAll { m in moved.contains { $0.0 == m.0 } }
                record += moved
                let u = try db.prepare("UPDATE geogrid_plans SET in_force = 1, updated = ?, record = ? WHERE id = ?")
                try u.bind([.text(now), .text(Self.jsonText(.object(record))), .integer(id)])
                try u.step()
                try Self.event(db, "plan_in_force", plan: id, [("effective", .string(plan.effective ?? today)),
                    ("communities", .array(plan.communities.map(JSONValue.string))), ("buildings_moved", .number(Double(impact.buildings.count))),
                    ("cases_moved", .number(Double(impact.cases.count)))], at: now)
                try Self.audit(db, clock, plan: id, operation: "plan_in_force", detail: .object(moved))
                return try Self.load(db, id)!
            })
        }
        return done
    }

    /// Re-assigns buildings and open cases as the impact says; returns what was moved (for the record).
    static func reassign(_ db: Connection, impact: PlanImpact, plan: Int64, token: Token, now: String) throws -> [(String, JSONValue)] {
        let b = try db.prepare("UPDATE buildings SET grid_code = ? WHERE id = ?")
        for m in impact.buildings {
            try b.bind([m.to.map(FieldValue.text) ?? .null, .integer(m.id)])
            try b.step()
            b.reset()
        }
        let c = try db.prepare("UPDATE incidents SET grid_code = ?, community_code = coalesce(substr(?, 1, 12), community_code), updated_at = ? WHERE id = ?")
        let h = try db.prepare("""
            INSERT INTO geogrid_incident_history (incident_id, time, token_id, token_name, action, from_stage, to_stage, department, note, late)
            SELECT id, ?, ?, ?, 'regrid', stage, stage, department, ?, 0 FROM incidents WHERE id = ?
            """)
        for m in impact.cases {
            try c.bind([m.to.map(FieldValue.text) ?? .null, m.to.map(FieldValue.text) ?? .null, .text(now), .integer(m.id)])
            try c.step()
            c.reset()
            try h.bind([.text(now), token.id == 0 ? .null : .integer(token.id), .text(token.label),
                .text("grid \(m.from ?? "none") → \(m.to ?? "none") (plan \(plan))"), .integer(m.id)])
            try h.step()
            h.reset()
        }
        return [("buildings", .array(impact.buildings.map { .array([.number(Double($0.id)), $0.from.map(JSONValue.string) ?? .null, $0.to.map(JSONValue.string) ?? .null]) })),
            ("cases", .array(impact.cases.map { .array([.number(Double($0.id)), $0.from.map(JSONValue.string) ?? .null, $0.to.map(JSONValue.string) ?? .null]) }))]
    }

    static func event(_ db: Connection, _ kind: String, plan: Int64, _ members: [(String, JSONValue)], at now: String) throws {
        let s = try db.prepare("INSERT INTO geogrid_events (time, kind, incident_id, data) VALUES (?, ?, NULL, ?)")
        try s.bind([.text(now), .text(kind), .text(jsonText(.object([("plan_id", .number(Double(plan)))] + members)))])
        try s.step()
        db.eventsWritten = true
    }

    /// Undoes an applied plan as a new, logged plan: the grids it closed are in force again and the ones it
    /// made are closed (or, when they never had a day in force, removed), and every building and open case it
    /// moved goes back to the grid it had. Returns the new plan (status `applied`, `rollback_of` the old).
    public func rollback(_ id: Int64, by token: Token?) throws -> Plan {
        let token = try authorise(token, what: "roll back a plan")
        let plan = try self.plan(id)
        try requireScope(token, plan.communities)
        guard plan.status == .applied, let effective = plan.effective else {
            throw EditError(kind: .conflict, message: "plan \(id) is \(plan.status.rawValue): only an applied plan can be rolled back")
        }
        let today = self.today()
        let now = Timestamp.now.text
        return try store.write { db in
            let r = try db.prepare("SELECT record FROM geogrid_plans WHERE id = ?")
            try r.bind([.integer(id)])
            guard try r.step(), let text = r.text(0), let record = try? JSONParser.parse(text) else { throw StoreError("plan \(id) has no record of its apply") }
            let closed = record["closed"]?.arrayValue?.compactMap(\.numberValue).map { Int64($0) } ?? []
            let inserted = record["inserted"]?.arrayValue?.compactMap(\.numberValue).map { Int64($0) } ?? []
            // Never in force for a whole day (effective today or later): the new rows go and the old reopen.
            let neverInForce = effective >= today
            for rowID in inserted {
                let s = try db.prepare(neverInForce ? "DELETE FROM grids WHERE id = ?" : "UPDATE grids SET valid_to = ? WHERE id = ?")
                try s.bind(neverInForce ? [.integer(rowID)] : [.text(WorkCalendar.date(WorkCalendar.day(today)! - 1)), .integer(rowID)])
                try s.step()
            }
            var reopened: [JSONValue] = []
            for rowID in closed {
                if neverInForce {
                    let s = try db.prepare("UPDATE grids SET valid_to = NULL WHERE id = ?")
                    try s.bind([.integer(rowID)])
                    try s.step()
                    reopened.append(.number(Double(rowID)))
                } else {
                    let s = try db.prepare("""
                        INSERT INTO grids (code, name, community_code, worker_name, worker_phone, households, population, valid_from, valid_to, extra_properties, geom)
                        SELECT code, name, community_code, worker_name, worker_phone, households, population, ?, NULL, extra_properties, geom FROM grids WHERE id = ?
                        """)
                    try s.bind([.text(today), .integer(rowID)])
                    try s.step()
                    reopened.append(.number(Double(db.lastInsertRowID)))
                }
            }
            // Buildings and cases back where they were.
            let b = try db.prepare("UPDATE buildings SET grid_code = ? WHERE id = ?")
            for m in record["buildings"]?.arrayValue ?? [] {
                guard case .array(let v) = m, v.count == 3, let bid = v[0].numberValue else { continue }
                try b.bind([v[1].stringValue.map(FieldValue.text) ?? .null, .integer(Int64(bid))])
                try b.step()
                b.reset()
            }
            var moves: [PlanImpact.CaseMove] = []
            for m in record["cases"]?.arrayValue ?? [] {
                guard case .array(let v) = m, v.count == 3, let cid = v[0].numberValue else { continue }
                moves.append(.init(id: Int64(cid), caseNumber: nil, from: v[2].stringValue, to: v[1].stringValue, position: Position(0, 0)))
            }
            let ins = try db.prepare("""
                INSERT INTO geogrid_plans (title, status, communities, created, created_by, updated, effective, applied_at, applied_by, in_force, rollback_of, record)
                SELECT 'Rollback of plan ' || id || coalesce(': ' || title, ''), 'applied', communities, ?, ?, ?, ?, ?, ?, 1, id, ? FROM geogrid_plans WHERE id = ?
                """)
            let rollbackRecord: JSONValue = .object([("closed", .array(inserted.map { .number(Double($0)) })), ("reopened", .array(reopened))])
            try ins.bind([.text(now), .text(token.label), .text(now), .text(today), .text(now), .text(token.label), .text(Self.jsonText(rollbackRecord)), .integer(id)])
            try ins.step()
            let newID = db.lastInsertRowID
            _ = try Self.reassign(db, impact: PlanImpact(buildings: [], cases: moves, grids: [], workers: []), plan: newID, token: token, now: now)
            let u = try db.prepare("UPDATE geogrid_plans SET status = 'rolled_back', rolled_back_by = ?, updated = ? WHERE id = ?")
            try u.bind([.integer(newID), .text(now), .integer(id)])
            try u.step()
            try Self.event(db, "plan_rolled_back", plan: id, [("rollback_plan_id", .number(Double(newID))), ("communities", .array(plan.communities.map(JSONValue.string)))], at: now)
            try Self.audit(db, token, plan: id, operation: "plan_rollback", detail: .object([("rollback_plan_id", .number(Double(newID)))]))
            return try Self.load(db, newID)!
        }
    }
}
