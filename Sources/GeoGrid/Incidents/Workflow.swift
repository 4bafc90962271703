import Foundation

/// The workflow of a case as a table a city can change: its stages, the transitions allowed between them,
/// which roles may make each, and what each requires.
public struct Workflow: Sendable, Equatable {
    public struct Stage: Sendable, Equatable {
        public var entry: CatalogueEntry
        public var code: String { entry.code }
        /// Whether a case at this stage is still open (its light is counted, it can be overdue).
        public var open: Bool
        /// The incidents field that records when a case entered this stage (`dispatched_at`), if any.
        public var timestamp: String?
    }

    public enum Requirement: String, Sendable, CaseIterable {
        /// A note (the reason of a return or a cancellation).
        case note
        /// A department, given or found by the routing table.
        case department
        /// A department other than the current one, given in the request.
        case newDepartment = "new_department"
        /// `reporter_answered: true`, or a `no_answer_reason` (回告 before closing).
        case answer
        /// The reporter's satisfaction, 1–5.
        case satisfaction
        /// The department of the level above (escalation), from the departments' escalation table.
        case escalation
    }

    public struct Transition: Sendable, Equatable {
        /// What a request asks for in `to`: the target stage's code, or a named action (returned, escalated, …).
        public var action: String
        public var from: Set<String>
        public var to: String
        public var roles: Set<Role>
        public var requires: Set<Requirement>
    }

    public var stages: [Stage]
    public var initial: String
    /// Roles that may report a case (grid workers within their scope).
    public var reportRoles: Set<Role>
    public var transitions: [Transition]

    public func stage(_ code: String) -> Stage? { stages.first { $0.code == code } }
    public func isOpen(_ code: String) -> Bool { stage(code)?.open ?? false }

    /// What may be asked at `stage`: the names a request's `to` may take.
    public func allowed(from stage: String) -> [String] {
        var seen = Set<String>()
        return transitions.filter { $0.from.contains(stage) }.map(\.action).filter { seen.insert($0).inserted }
    }

    /// The transition a request for `to` at `stage` makes, if the table has one.
    public func transition(from stage: String, to: String) -> Transition? {
        transitions.first { $0.from.contains(stage) && $0.action == to }
    }

    public static func parse(json: JSONValue) throws(FeatureProblem) -> Workflow {
        try IncidentConfig.only(json, ["stages", "initial", "report_roles", "transitions"], in: "workflow")
        var stages: [Stage] = []
        for v in json["stages"]?.arrayValue ?? [] {
            try IncidentConfig.only(v, ["code", "zh", "en", "open", "timestamp"], in: "stage")
            let e = try IncidentConfig.entry(v, in: "workflow stages")
            guard Layer.isIdentifier(e.code) else { throw FeatureProblem("stage '\(e.code)' must be a lower-case identifier") }
            guard !stages.contains(where: { $0.code == e.code }) else { throw FeatureProblem("stage \(e.code) is defined twice") }
            let timestamp = v["timestamp"]?.stringValue ?? (Layer.incidents.field(named: "\(e.code)_at") != nil ? "\(e.code)_at" : nil)
            if let timestamp, Layer.incidents.field(named: timestamp)?.type != .timestamp {
                throw FeatureProblem("stage \(e.code): timestamp must name a timestamp field of incidents (reported_at, …)")
            }
            stages.append(Stage(entry: e, open: v["open"] != .bool(false), timestamp: timestamp))
        }
        guard !stages.isEmpty else { throw FeatureProblem("workflow: a non-empty list 'stages'") }
        let codes = Set(stages.map(\.code))
        guard let initial = json["initial"]?.stringValue, codes.contains(initial) else { throw FeatureProblem("workflow: initial must be one of its stages") }
        func roles(_ v: JSONValue?, _ what: String) throws(FeatureProblem) -> Set<Role> {
            var out = Set<Role>()
            for r in v?.arrayValue ?? [.string("dispatcher")] {
                guard let s = r.stringValue, let role = Role(rawValue: s) else {
                    throw FeatureProblem("\(what): roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                out.insert(role)
            }
            return out
        }
        let reportRoles = try roles(json["report_roles"], "workflow report_roles")
        var transitions: [Transition] = []
        for v in json["transitions"]?.arrayValue ?? [] {
            try IncidentConfig.only(v, ["from", "to", "action", "roles", "requires"], in: "transition")
            let from: [String] = (v["from"]?.arrayValue ?? v["from"].map { [$0] } ?? []).compactMap(\.stringValue)
            guard !from.isEmpty, from.allSatisfy(codes.contains) else { throw FeatureProblem("transition: from must name stages of the workflow") }
            guard let to = v["to"]?.stringValue, codes.contains(to) else { throw FeatureProblem("transition from \(from.joined(separator: "/")): to must name a stage") }
            let action = v["action"]?.stringValue ?? to
            var requires = Set<Requirement>()
            for r in v["requires"]?.arrayValue ?? [] {
                guard let s = r.stringValue, let req = Requirement(rawValue: s) else {
                    throw FeatureProblem("transition \(action): requires are \(Requirement.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                requires.insert(req)
            }
            let t = Transition(action: action, from: Set(from), to: to, roles: try roles(v["roles"], "transition \(action)"), requires: requires)
            for f in t.from where transitions.contains(where: { $0.from.contains(f) && $0.action == action }) {
                throw FeatureProblem("transition \(action) from \(f) is defined twice")
            }
            transitions.append(t)
        }
        return Workflow(stages: stages, initial: initial, reportRoles: reportRoles, transitions: transitions)
    }
}

/// A length of time as a deadline table writes it: `30m`, `4h`, `3d`, `1d4h`; in working time a day is the
/// calendar's working day.
public struct TimeLimit: Sendable, Equatable, CustomStringConvertible {
    public var days: Int
    public var seconds: Int
    public let description: String

    public static func parse(_ text: String) -> TimeLimit? {
        var days = 0, seconds = 0, number = 0, any = false, digits = false
        for c in text.unicodeScalars {
            if let d = Int(String(c)), c.properties.numericType != nil, c.isASCII {
                number = number * 10 + d
                digits = true
                guard number < 1_000_000 else { return nil }
                continue
            }
            guard digits else { return nil }
            switch c {
            case "d": days += number
            case "h": seconds += number * 3600
            case "m": seconds += number * 60
            case "s": seconds += number
            default: return nil
            }
            number = 0
            digits = false
            any = true
        }
        guard any, !digits else { return nil }
        return TimeLimit(days: days, seconds: seconds, description: text)
    }

    /// The instant this limit after `t` falls at: in working time of `calendar`, or wall time.
    public func after(_ t: Timestamp, working: Bool, calendar: WorkCalendar) -> Timestamp {
        if working { return calendar.adding(working: Double(days * calendar.dayLength + seconds), to: t) }
        return Timestamp(seconds: t.seconds + Double(days * 86_400 + seconds))
    }
}

/// Limits per stage, category and priority, each with a yellow and a red limit, in working or wall time.
public struct DeadlineTable: Sendable, Equatable {
    public struct Limit: Sendable, Equatable {
        public var stage: String
        /// A minor or major class, or `*`.
        public var category: String
        /// A priority, or `*`.
        public var priority: String
        /// `immediate`, `promised` or `*`.
        public var kind: String
        public var yellow: TimeLimit
        public var red: TimeLimit
        public var working: Bool
    }

    public var limits: [Limit]
    /// A promised case turns yellow this long before the end of its promised date, and red when it ends.
    public var promisedYellowBefore: TimeLimit

    /// The limit of a stage for a case: the most specific row (minor class before major class before `*`, then a
    /// named priority before `*`, then a named kind before `*`).
    public func limit(stage: String, category: String, subcategory: String?, priority: String?, kind: String?) -> Limit? {
        var best: (Limit, Int)?
        for l in limits where l.stage == stage {
            let c = l.category == "*" ? 0 : l.category == subcategory ? 2 : l.category == category ? 1 : -1
            let p = l.priority == "*" ? 0 : l.priority == priority ? 1 : -1
            let k = l.kind == "*" ? 0 : l.kind == kind ? 1 : -1
            guard c >= 0, p >= 0, k >= 0 else { continue }
            let score = c * 4 + p * 2 + k
            if best == nil || score > best!.1 { best = (l, score) }
        }
        return best?.0
    }

    static func parse(json: JSONValue, workflow: Workflow, categories: Set<String>) throws(FeatureProblem) -> DeadlineTable {
        try IncidentConfig.only(json, ["limits", "promised_yellow_before"], in: "deadlines")
        var limits: [Limit] = []
        for v in json["limits"]?.arrayValue ?? [] {
            try IncidentConfig.only(v, ["stage", "category", "priority", "kind", "yellow", "red", "time"], in: "deadline")
            guard let stage = v["stage"]?.stringValue, workflow.stage(stage)?.open == true else {
                throw FeatureProblem("deadlines: stage must name an open stage of the workflow (\(v["stage"]?.stringValue ?? "missing"))")
            }
            let category = v["category"]?.stringValue ?? "*"
            guard category == "*" || categories.contains(category) else { throw FeatureProblem("deadlines: category \(category) is not in the catalogue") }
            let priority = v["priority"]?.stringValue ?? "*"
            guard priority == "*" || Incident.priorities.contains(priority) else { throw FeatureProblem("deadlines: priority \(priority) is not one of \(Incident.priorities.joined(separator: ", "))") }
            let kind = v["kind"]?.stringValue ?? "*"
            guard kind == "*" || Incident.kinds.contains(kind) else { throw FeatureProblem("deadlines: kind must be immediate, promised or *") }
            guard let y = v["yellow"]?.stringValue.flatMap(TimeLimit.parse), let r = v["red"]?.stringValue.flatMap(TimeLimit.parse) else {
                throw FeatureProblem("deadlines: \(stage): yellow and red are lengths of time such as 30m, 4h, 2d or 1d4h")
            }
            let time = v["time"]?.stringValue ?? "working"
            guard time == "working" || time == "wall" else { throw FeatureProblem("deadlines: time is working or wall") }
            let probe = Timestamp(seconds: 0)
            let calendar = WorkCalendar(timeZone: .gmt, weekdays: [1, 2, 3, 4, 5, 6, 7], hours: [0...86_400])
            guard y.after(probe, working: false, calendar: calendar) <= r.after(probe, working: false, calendar: calendar) else {
                throw FeatureProblem("deadlines: \(stage): the yellow limit \(y) comes after the red \(r)")
            }
            limits.append(Limit(stage: stage, category: category, priority: priority, kind: kind, yellow: y, red: r, working: time == "working"))
        }
        guard let before = TimeLimit.parse(json["promised_yellow_before"]?.stringValue ?? "1d") else {
            throw FeatureProblem("deadlines: promised_yellow_before is a length of time such as 1d")
        }
        return DeadlineTable(limits: limits, promisedYellowBefore: before)
    }
}
