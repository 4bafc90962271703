import Foundation

/// A catalogue entry: a code and its names in Chinese and English.
public struct CatalogueEntry: Sendable, Equatable {
    public var code: String
    public var zh: String
    public var en: String

    var json: [(String, JSONValue)] { [("code", .string(code)), ("zh", .string(zh)), ("en", .string(en))] }
}

/// An event, component or emergency class. Two levels: a major class and its minor classes (`parent`).
public struct Category: Sendable, Equatable {
    public var entry: CatalogueEntry
    public var code: String { entry.code }
    /// `event`, `component` or `emergency` (what Open311 calls a service's group).
    public var group: String
    /// The major class of a minor one.
    public var parent: String?
    /// Resource types whose nearest the situation package lists (a fire: hydrant, fire_station, hospital).
    public var resources: [String]
    /// The radius of the situation package's buildings and roads, in metres.
    public var radius: Double
    public var priority: String?
}

/// A department or level that handles cases.
public struct Department: Sendable, Equatable {
    public var entry: CatalogueEntry
    public var code: String { entry.code }
    /// community, street, district or city.
    public var level: String
}

/// A row of the routing table: cases of a category (a minor or major class, or `*`) in an area (a code prefix,
/// or anywhere) go to a department.
public struct Route: Sendable, Equatable {
    public var category: String
    public var area: String?
    public var department: String
}

/// Everything a city configures about cases, each part one JSON document in the store (`geogrid_config`),
/// with GeoGrid's defaults for what a city has not loaded (`Resources/incidents/*.json`).
public struct IncidentConfig: Sendable {
    public var categories: [Category]
    public var channels: [CatalogueEntry]
    public var departments: [Department]
    /// Level → the department a case escalates to from a department of that level.
    public var escalation: [String: String]
    public var routes: [Route]
    public var workflow: Workflow
    public var deadlines: DeadlineTable
    public var calendar: WorkCalendar

    /// The documents, in the order they are checked (later ones refer to earlier ones).
    public static let parts = ["categories", "channels", "departments", "routing", "workflow", "deadlines", "calendar"]
    public static let levels = ["community", "street", "district", "city"]

    public func category(_ code: String) -> Category? { categories.first { $0.code == code } }
    public func department(_ code: String) -> Department? { departments.first { $0.code == code } }
    public func channel(_ code: String) -> CatalogueEntry? { channels.first { $0.code == code } }

    /// The department a case goes to: the routing row of the most specific category (minor class, major
    /// class, `*`) and, among those, the longest area prefix matching one of the case's area codes.
    public func route(category: String, subcategory: String?, areaCodes: [String]) -> Department? {
        for c in [subcategory, category, "*"].compactMap({ $0 }) {
            let rows = routes.filter { route in
                guard route.category == c else { return false }
                guard let area = route.area else { return true }
                return areaCodes.contains { $0.hasPrefix(area) }
            }
            if let best = rows.max(by: { ($0.area?.count ?? 0) < ($1.area?.count ?? 0) }) { return department(best.department) }
        }
        return nil
    }

    /// The department a case escalates to from `current`: the escalation table's entry for the level above.
    public func escalate(from current: String?) -> Department? {
        let level = current.flatMap(department)?.level ?? "community"
        return escalation[level].flatMap(department)
    }

    // MARK: Reading

    /// The defaults GeoGrid ships (the package's resources), read once per process.
    public static func defaultDocuments() throws -> [String: JSONValue] { try defaults.get() }

    private static let defaults = Result { try readDefaults() }

    private static func readDefaults() throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for part in parts {
            guard let url = Bundle.module.url(forResource: part, withExtension: "json", subdirectory: "incidents") else {
                throw StoreError("GeoGrid's default \(part).json is missing from its resources")
            }
            out[part] = try JSONParser.parse(String(decoding: try Data(contentsOf: url), as: UTF8.self))
        }
        return out
    }

    /// The configuration made of these documents, each checked and checked against the others.
    public static func parse(_ documents: [String: JSONValue]) throws(FeatureProblem) -> IncidentConfig {
        func doc(_ name: String) throws(FeatureProblem) -> JSONValue {
            guard let d = documents[name] else { throw FeatureProblem("\(name): missing") }
            guard case .object = d else { throw FeatureProblem("\(name): a JSON object") }
            return d
        }
        let categoriesDoc = try doc("categories")
        try only(categoriesDoc, ["categories"], in: "categories")
        var categories: [Category] = []
        func readCategory(_ v: JSONValue, parent: Category?) throws(FeatureProblem) {
            try only(v, ["code", "zh", "en", "group", "resources", "radius_m", "priority", "children"], in: "category")
            let entry = try Self.entry(v, in: "categories")
            let group = v["group"]?.stringValue ?? parent?.group ?? "event"
            guard ["event", "component", "emergency"].contains(group) else { throw FeatureProblem("category \(entry.code): group must be event, component or emergency") }
            var resources = parent?.resources ?? []
            if let list = v["resources"]?.arrayValue {
                resources = []
                for r in list {
                    guard let s = r.stringValue, Layer.isIdentifier(s) else { throw FeatureProblem("category \(entry.code): resources are resource types (hydrant, …)") }
                    resources.append(s)
                }
            }
            let radius = v["radius_m"]?.numberValue ?? parent?.radius ?? 200
            guard radius > 0, radius <= 5000 else { throw FeatureProblem("category \(entry.code): radius_m must be within (0, 5000]") }
            let priority = v["priority"]?.stringValue ?? parent?.priority
            if let priority, !Incident.priorities.contains(priority) { throw FeatureProblem("category \(entry.code): priority must be one of \(Incident.priorities.joined(separator: ", "))") }
            let c = Category(entry: entry, group: group, parent: parent?.code, resources: resources, radius: radius, priority: priority)
            guard !categories.contains(where: { $0.code == c.code }) else { throw FeatureProblem("category \(c.code) is defined twice") }
            categories.append(c)
            if let children = v["children"]?.arrayValue {
                guard parent == nil else { throw FeatureProblem("category \(c.code): minor classes have no children (two levels)") }
                for child in children { try readCategory(child, parent: c) }
            }
        }
        guard let list = categoriesDoc["categories"]?.arrayValue, !list.isEmpty else { throw FeatureProblem("categories: a non-empty list 'categories'") }
        for v in list { try readCategory(v, parent: nil) }

        let channelsDoc = try doc("channels")
        try only(channelsDoc, ["channels"], in: "channels")
        var channels: [CatalogueEntry] = []
        for v in channelsDoc["channels"]?.arrayValue ?? [] {
            try only(v, ["code", "zh", "en"], in: "channel")
            let e = try entry(v, in: "channels")
            guard !channels.contains(where: { $0.code == e.code }) else { throw FeatureProblem("channel \(e.code) is defined twice") }
            channels.append(e)
        }
        guard !channels.isEmpty else { throw FeatureProblem("channels: a non-empty list 'channels'") }

        let departmentsDoc = try doc("departments")
        try only(departmentsDoc, ["departments", "escalation"], in: "departments")
        var departments: [Department] = []
        for v in departmentsDoc["departments"]?.arrayValue ?? [] {
            try only(v, ["code", "zh", "en", "level"], in: "department")
            let e = try entry(v, in: "departments")
            guard let level = v["level"]?.stringValue, levels.contains(level) else {
                throw FeatureProblem("department \(e.code): level must be one of \(levels.joined(separator: ", "))")
            }
            guard !departments.contains(where: { $0.code == e.code }) else { throw FeatureProblem("department \(e.code) is defined twice") }
            departments.append(Department(entry: e, level: level))
        }
        guard !departments.isEmpty else { throw FeatureProblem("departments: a non-empty list 'departments'") }
        var escalation: [String: String] = [:]
        if case .object(let m)? = departmentsDoc["escalation"] {
            for (level, v) in m {
                guard levels.contains(level), let d = v.stringValue, departments.contains(where: { $0.code == d }) else {
                    throw FeatureProblem("departments: escalation maps a level (\(levels.joined(separator: ", "))) to a department's code")
                }
                escalation[level] = d
            }
        }

        let routingDoc = try doc("routing")
        try only(routingDoc, ["routes"], in: "routing")
        var routes: [Route] = []
        for v in routingDoc["routes"]?.arrayValue ?? [] {
            try only(v, ["category", "area", "department"], in: "route")
            guard let c = v["category"]?.stringValue, c == "*" || categories.contains(where: { $0.code == c }) else {
                throw FeatureProblem("routing: \(v["category"]?.stringValue ?? "a route") names no category of the catalogue (or *)")
            }
            guard let d = v["department"]?.stringValue, departments.contains(where: { $0.code == d }) else {
                throw FeatureProblem("routing: route of \(c) names no department of the catalogue")
            }
            let area = v["area"]?.stringValue
            if let area, !(area.allSatisfy { $0.isASCII && $0.isNumber } && !area.isEmpty) { throw FeatureProblem("routing: area '\(area)' must be an area code (digits)") }
            routes.append(Route(category: c, area: area, department: d))
        }
        guard routes.contains(where: { $0.category == "*" && $0.area == nil }) else {
            throw FeatureProblem("routing: needs a route for category * without an area, so that every case has a department")
        }

        let workflow = try Workflow.parse(json: try doc("workflow"))
        let calendar = try WorkCalendar.parse(json: try doc("calendar"))
        let deadlines = try DeadlineTable.parse(json: try doc("deadlines"), workflow: workflow, categories: Set(categories.map(\.code)))
        return IncidentConfig(categories: categories, channels: channels, departments: departments, escalation: escalation, routes: routes,
            workflow: workflow, deadlines: deadlines, calendar: calendar)
    }

    static func entry(_ v: JSONValue, in part: String) throws(FeatureProblem) -> CatalogueEntry {
        guard let code = v["code"]?.stringValue, !code.isEmpty, code.utf8.count <= 64, !code.contains(",") else {
            throw FeatureProblem("\(part): every entry needs a code (1–64 characters, no comma)")
        }
        guard let zh = v["zh"]?.stringValue, let en = v["en"]?.stringValue else { throw FeatureProblem("\(part): \(code) needs its names in Chinese (zh) and English (en)") }
        return CatalogueEntry(code: code, zh: zh, en: en)
    }

    /// Refuses members a document does not have (a misspelt key would otherwise be ignored silently).
    static func only(_ v: JSONValue, _ keys: Set<String>, in what: String) throws(FeatureProblem) {
        guard case .object(let members) = v else { throw FeatureProblem("\(what): a JSON object") }
        for (k, _) in members where !keys.contains(k) { throw FeatureProblem("\(what): no member '\(k)' (members: \(keys.sorted().joined(separator: ", ")))") }
    }
}

/// Names shared by the incident code.
public enum Incident {
    public static let priorities = ["low", "normal", "high", "urgent"]
    public static let kinds = ["immediate", "promised"]
    public static let lights = ["green", "yellow", "red"]
}
