import Foundation

/// A case as the `incidents` table holds it, with its fields by name.
struct CaseRow: Sendable {
    var id: Int64?
    var values: [FieldValue]
    var extra: [(String, JSONValue)]
    var position: Position

    static let layer = Layer.incidents
    static let index: [String: Int] = Dictionary(uniqueKeysWithValues: layer.fields.enumerated().map { ($1.name, $0) })

    init(position: Position) {
        id = nil
        values = Array(repeating: .null, count: Self.layer.fields.count)
        extra = []
        self.position = position
    }

    init(_ row: StoredRow) throws {
        guard case .point(let p) = row.geometry else { throw StoreError("incident \(row.id) has no point") }
        id = row.id
        values = row.values
        extra = Layer.extraMembers(row.extra)
        position = p
    }

    subscript(_ name: String) -> FieldValue {
        get { values[Self.index[name]!] }
        set { values[Self.index[name]!] = newValue }
    }

    func text(_ name: String) -> String? { self[name].text }
    func time(_ name: String) -> Timestamp? { text(name).flatMap { Timestamp(iso8601: $0) } }
    mutating func set(_ name: String, _ text: String?) { self[name] = text.map(FieldValue.text) ?? .null }
    mutating func set(_ name: String, _ t: Timestamp?) { self[name] = t.map { .text($0.text) } ?? .null }
    mutating func set(_ name: String, _ b: Bool) { self[name] = .integer(b ? 1 : 0) }

    var isOpen: Bool { self["open"].integer == 1 }
    var stage: String { text("stage") ?? "" }
    var caseNumber: String { text("case_number") ?? "" }
    var areaCodes: [String] { ["grid_code", "community_code", "street_code", "district_code"].compactMap { text($0) } }

    /// The light at `t`: from the current stage's limits; nil once the case is closed.
    func light(at t: Timestamp) -> String? {
        guard isOpen else { return nil }
        if let red = time("red_at"), t >= red { return "red" }
        if let yellow = time("yellow_at"), t >= yellow { return "yellow" }
        return "green"
    }

    /// As a row of the layer (for the INSERT or UPDATE).
    var row: Row { Row(id: id, values: values, geometry: .point(position), extra: extra) }

    /// As a GeoJSON feature: every field, the light as it is at `t`, then the extra attributes.
    func feature(at t: Timestamp, personal: Bool) -> Feature {
        var c = self
        c.set("light", light(at: t))
        var properties: [(String, JSONValue)] = []
        for (field, value) in zip(Self.layer.fields, c.values) where personal || !field.personal { properties.append((field.name, field.json(value))) }
        let taken = Set(properties.map(\.0))
        properties += extra.filter { !taken.contains($0.0) }
        return Feature(id: .int(id ?? 0), geometry: .point(position), properties: properties)
    }

    /// What every event of this case says about it (never a personal field).
    func eventSummary(at t: Timestamp) -> [(String, JSONValue)] {
        var m: [(String, JSONValue)] = [("id", .number(Double(id ?? 0)))]
        for name in ["case_number", "category", "subcategory", "priority", "stage", "department", "assignee", "grid_code", "community_code", "street_code", "district_code"] {
            m.append((name, text(name).map(JSONValue.string) ?? .null))
        }
        m.append(("light", light(at: t).map(JSONValue.string) ?? .null))
        m += [("lon", .number(position.lon)), ("lat", .number(position.lat))]
        return m
    }
}
