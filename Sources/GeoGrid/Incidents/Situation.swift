import Foundation

extension IncidentDesk {
    /// The situation package of a case: who owns the place (the grid and its worker, the community chain: the
    /// answer of `/locate`), the building and floor when given, the nearest in-service resources of each type
    /// the category names (the answer of `/nearest?type=…&status=in_service&k=3`), and within the category's
    /// radius the buildings, households and population, resources by type and the access roads (the summary of
    /// `/around`). Made from the in-memory indexes, so it costs microseconds, not queries.
    func situation(for c: CaseRow, config: IncidentConfig, at now: Timestamp) throws -> JSONValue {
        let p = c.position
        let category = config.category(c.text("subcategory") ?? "") ?? config.category(c.text("category") ?? "")
        let radius = category?.radius ?? 200
        let around = try store.aroundSummary(p, radius: radius)
        var members: [(String, JSONValue)] = [
            ("computed_at", .string(now.text)), ("category", category.map { .object($0.entry.json) } ?? .null),
            ("location", QueryJSON.locate(around.location, at: p, personal: true)),
        ]
        if let id = c["building_id"].integer, let b = try store.shapeIndex(.buildings).entry(id: id) {
            var m: [(String, JSONValue)] = [("id", .number(Double(id)))]
            for (f, v) in zip(Layer.buildings.fields, b.values) { m.append((f.name, f.json(v))) }
            m.append(("floor", c["floor"].json))
            members.append(("building", .object(m)))
        } else {
            members.append(("building", .null))
        }
        var nearest: [(String, JSONValue)] = []
        let resources = try store.resourceIndex()
        for type in category?.resources ?? [] {
            let hits = resources.nearest(p, k: 3, types: [type], statuses: ["in_service"])
            nearest.append((type, QueryJSON.nearest(hits, at: p)["resources"] ?? .array([])))
        }
        members.append(("nearest", .object(nearest)))
        members.append(("around", QueryJSON.aroundSummary(around, given: p)))
        return .object(members)
    }
}

extension IncidentRecord {
    /// The situation package without the personal fields (the grid worker's phone) a caller may not see.
    public static func redacted(_ situation: JSONValue) -> JSONValue {
        func strip(_ v: JSONValue) -> JSONValue {
            guard case .object(var m) = v else { return v }
            m.removeAll { $0.0 == "worker_phone" }
            return .object(m.map { ($0.0, strip($0.1)) })
        }
        return strip(situation)
    }
}
