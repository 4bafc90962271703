import Foundation

/// A case as reported: where, what, by which channel, who reported it.
public struct IncidentReport: Sendable {
    public var position: Position
    public var category: String
    public var subcategory: String?
    public var priority: String?
    public var kind: String?
    public var promisedDate: String?
    public var title: String?
    public var description: String?
    public var channel: String?
    public var reporterName: String?
    public var reporterContact: String?
    public var buildingID: Int64?
    public var floor: Int64?
    public var locationDetail: String?
    /// When it was reported (past calls replayed); now when nil.
    public var reportedAt: Timestamp?
    /// Properties no field takes, kept as extra attributes.
    public var extra: [(String, JSONValue)] = []

    public init(position: Position, category: String) {
        self.position = position
        self.category = category
    }

    /// The members `properties` (of a GeoJSON Feature, or the flat JSON form) may have; the rest are extra.
    public static let members = ["category", "subcategory", "priority", "kind", "promised_date", "title", "description", "channel", "reporter_name",
        "reporter_contact", "building_id", "floor", "location_detail", "reported_at", "time"]

    /// Reads a report from JSON properties. `reported_at` (or `time`) without an offset is read in `calendar`'s zone.
    public static func parse(_ properties: [(String, JSONValue)], at position: Position, calendar: WorkCalendar) throws(FeatureProblem) -> IncidentReport {
        func string(_ k: String) throws(FeatureProblem) -> String? {
            guard let v = properties.first(where: { $0.0 == k })?.1, v != .null else { return nil }
            guard case .string(let s) = v else { throw FeatureProblem("\(k) must be a string, not \(v.typeDescription)") }
            return s.isEmpty ? nil : s
        }
        func integer(_ k: String) throws(FeatureProblem) -> Int64? {
            guard let v = properties.first(where: { $0.0 == k })?.1, v != .null else { return nil }
            if case .number(let n) = v, n == n.rounded(), abs(n) < 1e15 { return Int64(n) }
            if case .string(let s) = v, let i = Int64(s) { return i }
            throw FeatureProblem("\(k) must be an integer")
        }
        guard let category = try string("category") else { throw FeatureProblem("a report needs a category (a code of the store's catalogue: GET /incidents/catalogue)") }
        var r = IncidentReport(position: position, category: category)
        r.subcategory = try string("subcategory")
        r.priority = try string("priority")
        r.kind = try string("kind")
        r.promisedDate = try string("promised_date")
        r.title = try string("title")
        r.description = try string("description")
        r.channel = try string("channel")
        r.reporterName = try string("reporter_name")
        r.reporterContact = try string("reporter_contact")
        r.buildingID = try integer("building_id")
        r.floor = try integer("floor")
        r.locationDetail = try string("location_detail")
        var given = try string("reported_at")
        if given == nil { given = try string("time") }
        if let t = given {
            guard let ts = calendar.parse(t) else { throw FeatureProblem("reported_at '\(t)' is not an ISO 8601 time") }
            r.reportedAt = ts
        }
        let known = Set(members + ["lon", "lat", "crs"])
        r.extra = properties.filter { !known.contains($0.0) && Layer.incidents.field(named: $0.0) == nil }
        return r
    }
}

/// What a transition asks for: the stage or action (`to`) and what the table may require with it.
public struct TransitionRequest: Sendable {
    public var to: String
    public var note: String?
    public var department: String?
    public var assignee: String?
    public var coDepartments: [String]?
    public var reporterAnswered: Bool?
    public var noAnswerReason: String?
    public var satisfaction: Int?
    public var ifMatch: String?

    public init(to: String, note: String? = nil, department: String? = nil) {
        self.to = to
        self.note = note
        self.department = department
    }

    public static func parse(_ json: JSONValue) throws(FeatureProblem) -> TransitionRequest {
        guard case .object(let members) = json else { throw FeatureProblem("a transition is a JSON object {\"to\": …}") }
        let known: Set<String> = ["to", "note", "department", "assignee", "co_departments", "reporter_answered", "no_answer_reason", "satisfaction"]
        for (k, _) in members where !known.contains(k) { throw FeatureProblem("a transition has no member '\(k)' (members: \(known.sorted().joined(separator: ", ")))") }
        func string(_ k: String) throws(FeatureProblem) -> String? {
            guard let v = json[k], v != .null else { return nil }
            guard case .string(let s) = v else { throw FeatureProblem("\(k) must be a string") }
            return s.isEmpty ? nil : s
        }
        guard let to = try string("to") else { throw FeatureProblem("a transition needs 'to': the stage or action asked for") }
        var t = TransitionRequest(to: to, note: try string("note"), department: try string("department"))
        t.assignee = try string("assignee")
        t.noAnswerReason = try string("no_answer_reason")
        if let v = json["co_departments"], v != .null {
            guard let list = v.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else { throw FeatureProblem("co_departments must be a list of department codes") }
            t.coDepartments = list.compactMap(\.stringValue)
        }
        if let v = json["reporter_answered"], v != .null {
            guard case .bool(let b) = v else { throw FeatureProblem("reporter_answered must be true or false") }
            t.reporterAnswered = b
        }
        if let v = json["satisfaction"], v != .null {
            guard let n = v.numberValue, n == n.rounded(), (1...5).contains(Int(n)) else { throw FeatureProblem("satisfaction must be an integer 1–5") }
            t.satisfaction = Int(n)
        }
        return t
    }
}

/// A case as answered: the feature, and with a single case its situation package and history.
public struct IncidentRecord: Sendable {
    public var feature: Feature
    public var situation: JSONValue?
    public var history: [JSONValue]?
    public var etag: String
    /// The situation already encoded (as it was stored), so that an answer does not encode it again.
    var situationBytes: [UInt8]?

    init(feature: Feature, situation: JSONValue?, history: [JSONValue]?, etag: String, situationBytes: [UInt8]? = nil) {
        self.feature = feature
        self.situation = situation
        self.history = history
        self.etag = etag
        self.situationBytes = situationBytes
    }

    /// The feature's GeoJSON with `situation` and `history` as foreign members (RFC 7946 §6.1).
    public func json(into out: inout [UInt8]) {
        GeoJSONWriter().feature(feature, into: &out)
        guard situation != nil || history != nil, out.last == UInt8(ascii: "}") else { return }
        out.removeLast()
        if let situationBytes {
            out.append(contentsOf: ",\"situation\":".utf8)
            out.append(contentsOf: situationBytes)
        } else if let situation {
            out.append(contentsOf: ",\"situation\":".utf8)
            GeoJSONWriter.value(situation, into: &out)
        }
        if let history {
            out.append(contentsOf: ",\"history\":".utf8)
            GeoJSONWriter.value(.array(history), into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

/// The cases' workplace over a store: reporting, the workflow, moves, lights, and the lists and statistics
/// built on them. Every change is one transaction with its history row, audit row and live event, grouped
/// with the changes arriving at the same moment into one synced commit (`GroupCommit`), and answered only
/// after it. `clock` is the time every decision is made at (injected in tests).
public struct IncidentDesk: Sendable {
    public let store: GeoStore
    public let clock: @Sendable () -> Timestamp

    public init(store: GeoStore, clock: @escaping @Sendable () -> Timestamp = { Timestamp.now }) {
        self.store = store
        self.clock = clock
    }

    static let layer = Layer.incidents
    static let insertSQL = Importer.insertSQL(layer)
    static let updateSQL = "UPDATE incidents SET \((layer.fields.map { "\($0.column) = ?" } + ["\(Layer.extraColumn) = ?", "geom = ?"]).joined(separator: ", ")) WHERE id = ?"
    static let updateFieldsSQL = "UPDATE incidents SET \((layer.fields.map { "\($0.column) = ?" } + ["\(Layer.extraColumn) = ?"]).joined(separator: ", ")) WHERE id = ?"
    static let selectSQL = "SELECT \(GeoStore.selectList(layer)) FROM incidents"

    // MARK: Reporting

    /// Places a report in its grid, routes it to its department, works out its deadlines and situation
    /// package, and stores it with its first history row, an audit row and a `created` event.
    public func report(_ r: IncidentReport, by token: Token?) throws -> IncidentRecord {
        let config = try store.incidentConfig()
        let now = clock()
        var c = try prepare(r, config: config, now: now)
        try authorise(token, roles: config.workflow.reportRoles, codes: c.areaCodes, what: "report a case")
        c.set("channel", r.channel ?? (token?.role == .gridWorker ? "grid_worker" : "other"))
        guard config.channel(c.text("channel")!) != nil else {
            throw EditError(kind: .invalid, message: "channel '\(c.text("channel")!)' is not in the catalogue (\(config.channels.map(\.code).joined(separator: ", ")))")
        }
        // Made and encoded before the write: the shared transaction's jobs run one after another, so only what
        // needs the case's number and id happens inside it.
        let situation = try self.situation(for: c, config: config, at: now)
        var encoded: [UInt8] = []
        GeoJSONWriter.value(situation, into: &encoded)
        let situationText = String(decoding: encoded, as: UTF8.self)
        let token = token!
        let stored = try store.groupCommit.run(store) { db -> CaseRow in
            var c = c
            c.set("case_number", try Self.nextCaseNumber(db, reportedAt: c.time("reported_at")!, calendar: config.calendar))
            let id = try Self.insert(db, c)
            c.id = id
            try Self.history(db, c, action: "report", from: nil, to: c.stage, token: token, note: nil, time: c.time("reported_at")!, late: false)
            try Self.storeSituation(db, id: id, text: situationText, at: now)
            try Self.event(db, "created", c, at: now, [("channel", .string(c.text("channel")!))])
            try Self.audit(db, token, id: id, operation: "report", before: nil, after: c.feature(at: now, personal: true), at: now)
            return c
        }
        return IncidentRecord(feature: stored.feature(at: now, personal: true), situation: situation, history: nil, etag: Self.etag(stored),
            situationBytes: encoded)
    }

    /// The case a report makes, before it has a number and an id: checked against the catalogue, placed,
    /// routed, with the deadlines of its first stage.
    func prepare(_ r: IncidentReport, config: IncidentConfig, now: Timestamp, locator: Locator? = nil) throws -> CaseRow {
        func invalid(_ m: String) -> EditError { EditError(kind: .invalid, message: m) }
        guard r.position.lon.isFinite, r.position.lat.isFinite, abs(r.position.lon) <= 180, abs(r.position.lat) <= 90 else {
            throw invalid("the position must be a longitude within ±180 and a latitude within ±90")
        }
        var c = CaseRow(position: r.position)
        // A minor class given as the category stands for itself and its major class.
        guard var category = config.category(r.category) else {
            throw invalid("category '\(r.category)' is not in the catalogue (GET /incidents/catalogue lists them)")
        }
        var subcategory = r.subcategory.flatMap(config.category)
        if r.subcategory != nil && subcategory == nil { throw invalid("subcategory '\(r.subcategory!)' is not in the catalogue") }
        if let parent = category.parent {
            if let s = subcategory, s.code != category.code { throw invalid("category \(category.code) is a minor class of \(parent); subcategory \(s.code) contradicts it") }
            subcategory = category
            category = config.category(parent)!
        }
        if let s = subcategory, s.parent != category.code { throw invalid("subcategory \(s.code) is not a minor class of \(category.code)") }
        c.set("category", category.code)
        c.set("subcategory", subcategory?.code)
        let priority = r.priority ?? subcategory?.priority ?? category.priority ?? "normal"
        guard Incident.priorities.contains(priority) else { throw invalid("priority '\(priority)' must be one of \(Incident.priorities.joined(separator: ", "))") }
        c.set("priority", priority)
        let kind = r.kind ?? (r.promisedDate == nil ? "immediate" : "promised")
        guard Incident.kinds.contains(kind) else { throw invalid("kind '\(kind)' must be immediate or promised") }
        if kind == "promised" {
            guard let d = r.promisedDate, WorkCalendar.day(d) != nil else { throw invalid("a promised case needs promised_date, a date YYYY-MM-DD") }
        } else if r.promisedDate != nil {
            throw invalid("promised_date is for promised cases (kind promised)")
        }
        c.set("kind", kind)
        c.set("promised_date", r.promisedDate)
        for (name, value) in [("title", r.title), ("description", r.description), ("reporter_name", r.reporterName), ("reporter_contact", r.reporterContact),
            ("location_detail", r.locationDetail)]
        {
            if let value, value.utf8.count > 10_000 { throw invalid("\(name) is longer than 10,000 bytes") }
            c.set(name, value)
        }
        if let b = r.buildingID {
            guard let building = try store.shapeIndex(.buildings).entry(id: b) else { throw invalid("building_id \(b): no such building") }
            if let floor = r.floor, let floors = building.values[Layer.buildings.fields.firstIndex { $0.name == "floors" }!].integer, floor > floors {
                throw invalid("floor \(floor) is above the building's \(floors) floors")
            }
            c["building_id"] = .integer(b)
        }
        if let f = r.floor {
            guard (-10...300).contains(f) else { throw invalid("floor \(f) is not a floor (−10 … 300)") }
            c["floor"] = .integer(f)
        }
        let reportedAt = r.reportedAt ?? now
        guard reportedAt.seconds <= now.seconds + 300 else { throw invalid("reported_at \(reportedAt.text) is in the future") }
        try place(&c, config: config, locator: locator)
        c.set("stage", config.workflow.initial)
        c.set("open", config.workflow.isOpen(config.workflow.initial))
        c.set("reported_at", reportedAt)
        c.set("stage_since", reportedAt)
        c.set("updated_at", now)
        c.set("overdue", false)
        c.extra = r.extra
        setDeadlines(&c, config: config, since: reportedAt, now: now)
        return c
    }

    /// Sets the owner and area codes from `locate`, and the department from the routing table.
    func place(_ c: inout CaseRow, config: IncidentConfig, locator: Locator? = nil) throws {
        let where_ = try (locator ?? store.locator()).locate(c.position)
        c.set("owner", where_.owner.rawValue)
        c.set("grid_code", where_.grid?.code)
        c.set("community_code", where_.community?.code ?? where_.grid?.communityCode)
        c.set("street_code", where_.street?.code)
        c.set("district_code", where_.district?.code)
        let department = config.route(category: c.text("category")!, subcategory: c.text("subcategory"), areaCodes: c.areaCodes)
        c.set("department", department?.code)
        c.set("department_level", department?.level)
    }

    /// The yellow and red instants of the case's current stage (and of its promise), and its light now.
    func setDeadlines(_ c: inout CaseRow, config: IncidentConfig, since: Timestamp, now: Timestamp) {
        var yellow: Timestamp?, red: Timestamp?
        if c.isOpen {
            if let limit = config.deadlines.limit(stage: c.stage, category: c.text("category")!, subcategory: c.text("subcategory"), priority: c.text("priority"),
                kind: c.text("kind"))
            {
                yellow = limit.yellow.after(since, working: limit.working, calendar: config.calendar)
                red = limit.red.after(since, working: limit.working, calendar: config.calendar)
            }
            if c.text("kind") == "promised", let date = c.text("promised_date"), let day = WorkCalendar.day(date) {
                // Due at the end of the promised day, local time.
                let due = config.calendar.instant(day: day + 1, second: 0)
                let before = config.deadlines.promisedYellowBefore
                let warn = Timestamp(seconds: due.seconds - Double(before.days * 86_400 + before.seconds))
                red = min(red ?? due, due)
                yellow = min(yellow ?? warn, warn)
            }
        }
        c.set("yellow_at", yellow)
        c.set("red_at", red)
        c.set("light", c.light(at: now))
        if c.light(at: now) == "red" { c.set("overdue", true) }
    }

    // MARK: The workflow

    /// Makes a transition the workflow table allows from the case's stage, for a role it names, with what it
    /// requires; anything else is refused (`.conflict` for a transition not in the table, naming what is).
    public func transition(_ id: Int64, _ t: TransitionRequest, by token: Token?) throws -> IncidentRecord {
        let config = try store.incidentConfig()
        guard token != nil else { throw EditError(kind: .unauthenticated, message: "changes to cases need a token: Authorization: Bearer …") }
        let token = token!
        return try store.groupCommit.run(store) { db in
            let now = clock()
            guard var c = try Self.load(db, id) else { throw EditError(kind: .notFound, message: "no case \(id)") }
            let before = c
            let workflow = config.workflow
            let from = c.stage
            guard let rule = workflow.transition(from: from, to: t.to) else {
                var e = EditError(kind: .conflict, message:
                    "case \(c.caseNumber) is at stage \(from): '\(t.to)' is not allowed from there (allowed: \(workflow.allowed(from: from).joined(separator: ", ")))")
                e.stage = from
                e.allowed = workflow.allowed(from: from)
                throw e
            }
            // The precondition after the table: a request no stage allows is a conflict whatever the ETag.
            if let ifMatch = t.ifMatch, !GeoStore.matches(ifMatch, Self.etag(c)) {
                throw EditError(kind: .preconditionFailed, message: "case \(c.caseNumber) changed since its ETag \(ifMatch) was read")
            }
            try authorise(token, roles: rule.roles, codes: c.areaCodes, what: "make the transition \(rule.action) of case \(c.caseNumber)")
            func invalid(_ m: String) -> EditError { EditError(kind: .invalid, message: "\(rule.action): \(m)") }
            if rule.requires.contains(.note), t.note == nil { throw invalid("a note (the reason) is required") }
            var department = c.text("department")
            if let d = t.department {
                guard config.department(d) != nil else { throw invalid("department '\(d)' is not in the catalogue") }
                department = d
            }
            if rule.requires.contains(.newDepartment) {
                guard let d = t.department, d != c.text("department") else { throw invalid("a department other than the current one (\(c.text("department") ?? "none")) is required") }
            }
            if rule.requires.contains(.escalation) {
                guard let up = config.escalate(from: c.text("department")) else {
                    throw invalid("the department \(c.text("department") ?? "none") has no level above it in the escalation table")
                }
                department = t.department ?? up.code
            }
            if rule.requires.contains(.department), department == nil { throw invalid("a department is required (none given and none routed)") }
            if rule.requires.contains(.answer) {
                guard t.reporterAnswered == true || t.noAnswerReason != nil else {
                    throw invalid("closing requires that the reporter was answered (reporter_answered: true) or a no_answer_reason")
                }
            }
            if rule.requires.contains(.satisfaction), t.satisfaction == nil { throw invalid("the reporter's satisfaction (1–5) is required") }
            for d in t.coDepartments ?? [] where config.department(d) == nil { throw invalid("co-department '\(d)' is not in the catalogue") }

            let late = c.isOpen && (c.time("red_at").map { now >= $0 } ?? false)
            let lightBefore = c.light(at: now)
            if late { c.set("overdue", true) }
            c.set("stage", rule.to)
            c.set("open", workflow.isOpen(rule.to))
            if let department, department != c.text("department") || c.text("department_level") == nil {
                c.set("department", department)
                c.set("department_level", config.department(department)?.level)
            }
            if let a = t.assignee { c.set("assignee", a) }
            if let list = t.coDepartments { c.set("co_departments", list.isEmpty ? nil : list.joined(separator: ",")) }
            if let answered = t.reporterAnswered { c.set("reporter_answered", answered) }
            if let reason = t.noAnswerReason { c.set("no_answer_reason", reason) }
            if let s = t.satisfaction { c["satisfaction"] = .integer(Int64(s)) }
            if let field = workflow.stage(rule.to)?.timestamp { c.set(field, now) }
            c.set("stage_since", now)
            c.set("updated_at", now)
            setDeadlines(&c, config: config, since: now, now: now)
            try Self.update(db, c)
            try Self.history(db, c, action: rule.action, from: from, to: rule.to, token: token, note: t.note, time: now, late: late)
            let reassigned = before.text("department") != c.text("department")
            try Self.event(db, reassigned && ["reassigned", "escalated"].contains(rule.action) ? "reassigned" : "transitioned", c, at: now,
                [("action", .string(rule.action)), ("from", .string(from)), ("to", .string(rule.to)), ("previous_department", before.text("department").map(JSONValue.string) ?? .null)])
            if c.light(at: now) != lightBefore && c.isOpen {
                try Self.event(db, "light_changed", c, at: now, [("from", lightBefore.map(JSONValue.string) ?? .null), ("to", c.light(at: now).map(JSONValue.string) ?? .null)])
            }
            try Self.audit(db, token, id: id, operation: "transition:\(rule.action)", before: before.feature(at: now, personal: true), after: c.feature(at: now, personal: true), at: now)
            return IncidentRecord(feature: c.feature(at: now, personal: true), situation: nil, history: nil, etag: Self.etag(c))
        }
    }

    /// Moves a case's point: its owner, area codes and (while it is not yet dispatched) department follow,
    /// its situation package is made again, and a `reassigned` event says so when its grid changed.
    public func move(_ id: Int64, to position: Position, by token: Token?) throws -> IncidentRecord {
        let config = try store.incidentConfig()
        guard let token else { throw EditError(kind: .unauthenticated, message: "changes to cases need a token: Authorization: Bearer …") }
        guard position.lon.isFinite, position.lat.isFinite, abs(position.lon) <= 180, abs(position.lat) <= 90 else {
            throw EditError(kind: .invalid, message: "the position must be a longitude within ±180 and a latitude within ±90")
        }
        return try store.groupCommit.run(store) { db in
            let now = clock()
            guard var c = try Self.load(db, id) else { throw EditError(kind: .notFound, message: "no case \(id)") }
            let before = c
            try authorise(token, roles: [.dispatcher], codes: c.areaCodes, what: "move case \(c.caseNumber)")
            guard c.isOpen else { throw EditError(kind: .conflict, message: "case \(c.caseNumber) is \(c.stage): a closed case does not move") }
            c.position = position
            let department = (c.text("department"), c.text("department_level"))
            try place(&c, config: config)
            if ![config.workflow.initial, "registered"].contains(c.stage) {
                c.set("department", department.0)
                c.set("department_level", department.1)
            }
            try authorise(token, roles: [.dispatcher], codes: c.areaCodes, what: "move case \(c.caseNumber) there")
            c.set("updated_at", now)
            try Self.update(db, c, moved: true)
            let situation = try self.situation(for: c, config: config, at: now)
            try Self.storeSituation(db, id: id, situation: situation, at: now)
            try Self.history(db, c, action: "moved", from: c.stage, to: c.stage, token: token,
                note: "from \(before.position.lon),\(before.position.lat) (grid \(before.text("grid_code") ?? "none"))", time: now, late: false)
            if before.text("grid_code") != c.text("grid_code") || before.text("department") != c.text("department") {
                try Self.event(db, "reassigned", c, at: now, [("action", .string("moved")), ("previous_grid", before.text("grid_code").map(JSONValue.string) ?? .null),
                    ("previous_department", before.text("department").map(JSONValue.string) ?? .null)])
            }
            try Self.audit(db, token, id: id, operation: "move", before: before.feature(at: now, personal: true), after: c.feature(at: now, personal: true), at: now)
            return IncidentRecord(feature: c.feature(at: now, personal: true), situation: situation, history: nil, etag: Self.etag(c))
        }
    }

    /// Makes the situation package again from the map as it is now, and stores it with the case.
    public func recomputeSituation(_ id: Int64, by token: Token?) throws -> JSONValue {
        let config = try store.incidentConfig()
        guard let token else { throw EditError(kind: .unauthenticated, message: "recomputing a situation needs a token") }
        guard let c = try store.read({ try Self.load($0, id) }) else { throw EditError(kind: .notFound, message: "no case \(id)") }
        try authorise(token, roles: [.dispatcher], codes: c.areaCodes, what: "recompute the situation of case \(c.caseNumber)")
        let now = clock()
        let situation = try self.situation(for: c, config: config, at: now)
        try store.groupCommit.run(store) { db in try Self.storeSituation(db, id: id, situation: situation, at: now) }
        return situation
    }

    // MARK: Lights

    /// Turns the lights whose limit has passed at `now` (stored `light`, `overdue`), each with a
    /// `light_changed` event. Returns how many changed.
    @discardableResult public func pushLights(at now: Timestamp? = nil) throws -> Int {
        let now = now ?? clock()
        return try store.groupCommit.run(store) { db in
            let s = try db.prepare("""
                SELECT \(GeoStore.selectList(Self.layer)) FROM incidents WHERE id IN (
                  SELECT id FROM incidents WHERE open AND light = 'green' AND yellow_at <= ?1
                  UNION SELECT id FROM incidents WHERE open AND light IN ('green', 'yellow') AND red_at <= ?1)
                ORDER BY id
                """)
            try s.bind([.text(now.text)])
            var due: [CaseRow] = []
            while try s.step() { due.append(try CaseRow(GeoStore.storedRow(s, Self.layer.fields.count))) }
            for var c in due {
                let before = c.text("light")
                let light = c.light(at: now)
                guard light != before else { continue }
                c.set("light", light)
                if light == "red" { c.set("overdue", true) }
                try Self.update(db, c)
                try Self.event(db, "light_changed", c, at: now, [("from", before.map(JSONValue.string) ?? .null), ("to", light.map(JSONValue.string) ?? .null)])
            }
            return due.count
        }
    }

    /// When the next light turns (the earliest limit of an open case not yet reached by its stored light).
    public func nextLightChange() throws -> Timestamp? {
        try store.read { db in
            let y = try db.scalar("SELECT min(yellow_at) FROM incidents WHERE open AND light = 'green'").text
            let r = try db.scalar("SELECT min(red_at) FROM incidents WHERE open AND light IN ('green', 'yellow')").text
            return [y, r].compactMap { $0.flatMap { Timestamp(iso8601: $0) } }.min()
        }
    }

    // MARK: Storage

    static func load(_ db: Connection, _ id: Int64) throws -> CaseRow? {
        let s = try db.prepare(selectSQL + " WHERE id = ?")
        try s.bind([.integer(id)])
        return try s.step() ? CaseRow(GeoStore.storedRow(s, layer.fields.count)) : nil
    }

    static func insert(_ db: Connection, _ c: CaseRow) throws -> Int64 {
        let s = try db.cached(Self.insertSQL)
        let row = c.row
        try Importer.bind(row, SpatiaLiteBlob.encode(row.geometry), to: s)
        do { try s.step() } catch let e as SQLiteError where e.isConstraint { throw EditError(kind: .invalid, message: Importer.explain(e)) }
        return db.lastInsertRowID
    }

    /// Writes a case's fields back; its point too only when it `moved` (an UPDATE that leaves `geom` out does not
    /// run SpatiaLite's R*Tree triggers, which transitions and lights need not).
    static func update(_ db: Connection, _ c: CaseRow, moved: Bool = false) throws {
        let fields = layer.fields
        let s = try db.cached(moved ? Self.updateSQL : Self.updateFieldsSQL)
        let row = c.row
        for (i, v) in row.values.enumerated() { try s.bind(v, at: Int32(i + 1)) }
        try s.bind(row.extraColumnValue, at: Int32(fields.count + 1))
        if moved {
            try s.bind(blob: SpatiaLiteBlob.encode(row.geometry), at: Int32(fields.count + 2))
            try s.bind(.integer(c.id!), at: Int32(fields.count + 3))
        } else {
            try s.bind(.integer(c.id!), at: Int32(fields.count + 2))
        }
        do { try s.step() } catch let e as SQLiteError where e.isConstraint { throw EditError(kind: .invalid, message: Importer.explain(e)) }
    }

    static func nextCaseNumber(_ db: Connection, reportedAt: Timestamp, calendar: WorkCalendar) throws -> String {
        let (day, _) = calendar.local(reportedAt)
        let year = Int(WorkCalendar.date(day).prefix(4))!
        let s = try db.cached("INSERT INTO geogrid_case_numbers (year, last) VALUES (?, 1) ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last")
        try s.bind([.integer(Int64(year))])
        guard try s.step() else { throw StoreError("no case number") }
        let n = s.int64(0)
        s.rewind()
        let digits = String(n)
        return "\(year)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    static func history(_ db: Connection, _ c: CaseRow, action: String, from: String?, to: String, token: Token, note: String?, time: Timestamp, late: Bool) throws {
        let s = try db.cached("""
            INSERT INTO geogrid_incident_history (incident_id, time, token_id, token_name, action, from_stage, to_stage, department, note, late)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try s.bind([.integer(c.id!), .text(time.text), token.id > 0 ? .integer(token.id) : .null, token.name.map(FieldValue.text) ?? .null, .text(action), from.map(FieldValue.text) ?? .null,
            .text(to), c["department"], note.map(FieldValue.text) ?? .null, .integer(late ? 1 : 0)])
        try s.step()
    }

    static func storeSituation(_ db: Connection, id: Int64, situation: JSONValue, at now: Timestamp) throws {
        var out: [UInt8] = []
        GeoJSONWriter.value(situation, into: &out)
        try storeSituation(db, id: id, text: String(decoding: out, as: UTF8.self), at: now)
    }

    static func storeSituation(_ db: Connection, id: Int64, text: String, at now: Timestamp) throws {
        let s = try db.cached("INSERT OR REPLACE INTO geogrid_incident_situations (incident_id, computed_at, situation) VALUES (?, ?, ?)")
        try s.bind([.integer(id), .text(now.text), .text(text)])
        try s.step()
    }

    static func event(_ db: Connection, _ kind: String, _ c: CaseRow, at now: Timestamp, _ members: [(String, JSONValue)]) throws {
        var out: [UInt8] = []
        GeoJSONWriter.value(.object([("kind", .string(kind)), ("time", .string(now.text)), ("incident", .object(c.eventSummary(at: now)))] + members), into: &out)
        let s = try db.cached("INSERT INTO geogrid_events (time, kind, incident_id, data) VALUES (?, ?, ?, ?)")
        try s.bind([.text(now.text), .text(kind), .integer(c.id!), .text(String(decoding: out, as: UTF8.self))])
        try s.step()
        db.eventsWritten = true
    }

    static func audit(_ db: Connection, _ token: Token, id: Int64, operation: String, before: Feature?, after: Feature?, at now: Timestamp) throws {
        func text(_ f: Feature?) -> FieldValue {
            guard let f else { return .null }
            var out: [UInt8] = []
            GeoJSONWriter(precision: 15).feature(f, into: &out)
            return .text(String(decoding: out, as: UTF8.self))
        }
        let s = try db.cached("""
            INSERT INTO geogrid_audit (time, token_id, token_name, collection, feature_id, operation, before, after) VALUES (?, ?, ?, 'incidents', ?, ?, ?, ?)
            """)
        try s.bind([.text(now.text), token.id > 0 ? .integer(token.id) : .null, token.name.map(FieldValue.text) ?? .null, .integer(id), .text(operation), text(before), text(after)])
        try s.step()
    }

    /// The strong ETag of a case as stored (its light as stored too, so a pushed light changes it).
    static func etag(_ c: CaseRow) -> String {
        GeoStore.etag(Self.layer.feature(StoredRow(id: c.id ?? 0, values: c.values, extra: c.row.extraColumnValue.text, geometry: .point(c.position))))
    }

    /// Refuses a caller without a token, of a role the rule does not name (admins may do everything), or whose
    /// scope does not cover the case.
    func authorise(_ token: Token?, roles: Set<Role>, codes: [String], what: String) throws {
        guard let token else { throw EditError(kind: .unauthenticated, message: "to \(what) needs a token: Authorization: Bearer …") }
        guard token.role == .admin || roles.contains(token.role) else {
            throw EditError(kind: .forbidden, message: "a \(token.role.rawValue) token may not \(what) (roles allowed: \(roles.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        guard Access.inScope(token, codes: codes) else {
            throw EditError(kind: .forbidden, message: "the case lies outside the token's scope (\(token.scopes.joined(separator: ", "))): it may not \(what)")
        }
    }
}

extension Token {
    /// The identity of geo-cli run on the store's own file: whoever can write the file is its administrator.
    /// Audited as `geo-cli (<user>)`, with no token id.
    public static func local(user: String = ProcessInfo.processInfo.environment["USER"] ?? "local") -> Token {
        Token(id: 0, name: "geo-cli (\(user))", role: .admin, scopes: [], created: Timestamp.now.text)
    }
}
