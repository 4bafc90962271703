import Foundation

/// Why a feature cannot go into a layer. The importer adds the feature's index.
public struct FeatureProblem: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// One row of a layer table, checked and normalised: column values in `layer.fields` order, the
/// geometry in the column's type and RFC 7946 winding.
public struct Row: Sendable {
    public var id: Int64?
    public var values: [FieldValue]
    public var geometry: Geometry
    /// The properties no field takes, in source order, with their JSON types; empty when none.
    public var extra: [(String, JSONValue)] = []

    public init(id: Int64?, values: [FieldValue], geometry: Geometry, extra: [(String, JSONValue)] = []) {
        self.id = id
        self.values = values
        self.geometry = geometry
        self.extra = extra
    }

    /// The extra attributes as the store's JSON column holds them: an object, or NULL when there are none.
    public var extraColumnValue: FieldValue {
        guard !extra.isEmpty else { return .null }
        var out: [UInt8] = []
        GeoJSONWriter.value(.object(extra), into: &out)
        return .text(String(decoding: out, as: UTF8.self))
    }
}

/// Maps layer fields to the names they have in a source file (`floors` ← `building:levels`), and sets
/// fields the source lacks to one value for every feature (`type` = `hydrant`).
public struct PropertyMapping: Sendable {
    public var sourceForField: [String: String]
    public var constants: [String: String]
    public init(_ sourceForField: [String: String] = [:], constants: [String: String] = [:]) {
        self.sourceForField = sourceForField
        self.constants = constants
    }

    /// Parses `field=source` pairs, as given to `--map`.
    public init(parsing pairs: [String], constants: [String] = [], layer: Layer) throws(FeatureProblem) {
        sourceForField = try Self.pairs(pairs, layer: layer)
        self.constants = try Self.pairs(constants, layer: layer)
    }

    private static func pairs(_ pairs: [String], layer: Layer) throws(FeatureProblem) -> [String: String] {
        var map: [String: String] = [:]
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw FeatureProblem("mapping '\(pair)' is not of the form field=source")
            }
            guard layer.field(named: parts[0]) != nil else {
                throw FeatureProblem(
                    "mapping '\(pair)': layer \(layer.rawValue) has no field '\(parts[0])' (fields: \(layer.fields.map(\.name).joined(separator: ", ")))")
            }
            map[parts[0]] = parts[1]
        }
        return map
    }
}

extension Layer {
    /// Checks `feature` against this layer's geometry type and fields and returns the row to store. Properties
    /// that no field takes (after mapping) are kept as extra attributes unless `keepExtra` is false.
    public func row(for feature: Feature, mapping: PropertyMapping = .init(), keepExtra: Bool = true) throws(FeatureProblem) -> Row {
        guard accepts.contains(feature.geometry.kind) else {
            throw FeatureProblem(
                "geometry type \(feature.geometry.kind.rawValue) does not fit layer \(rawValue) (accepts \(accepts.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        if let problem = feature.geometry.structuralProblem() { throw FeatureProblem(problem) }

        var values: [FieldValue] = []
        values.reserveCapacity(fields.count)
        for field in fields {
            let source = mapping.sourceForField[field.name] ?? field.name
            let given = feature[property: source] ?? .null
            let value = given == .null ? mapping.constants[field.name].map(JSONValue.string) ?? .null : given
            values.append(try Self.coerce(value, to: field))
        }
        var id: Int64?
        switch feature.id {
        case .int(let i): id = i
        case .string(let s):
            // Store ids are integers; another string id is not kept and the store assigns one.
            id = Int64(s)
        case nil: id = nil
        }
        var row = Row(id: id, values: values, geometry: feature.geometry.rfc7946Wound.promotedToMulti)
        if keepExtra { row.extra = extraProperties(of: feature, mapping: mapping) }
        try applyRules(&row)
        return row
    }

    /// The names of source properties that fields take: a field's mapped source, or its own name.
    public func consumedProperties(_ mapping: PropertyMapping) -> Set<String> {
        Set(fields.map { mapping.sourceForField[$0.name] ?? $0.name } + fields.map(\.name))
    }

    /// The feature's properties that no field takes, in order.
    func extraProperties(of feature: Feature, mapping: PropertyMapping) -> [(String, JSONValue)] {
        guard !feature.properties.isEmpty else { return [] }
        if mapping.sourceForField.isEmpty {
            return feature.properties.filter { p in !fields.contains { $0.name == p.0 } }
        }
        let consumed = consumedProperties(mapping)
        return feature.properties.filter { !consumed.contains($0.0) }
    }

    private func index(_ name: String) -> Int { fields.firstIndex { $0.name == name }! }

    /// Cross-field rules: codes, derived parent codes, enumerations.
    private func applyRules(_ row: inout Row) throws(FeatureProblem) {
        switch rules {
        case .communities:
            let code = row.values[index("code")].text!
            guard code.allSatisfy({ $0.isASCII && $0.isNumber }),
                let level = AreaLevel.allCases.first(where: { $0.codeLength == code.count }), !code.hasPrefix("0")
            else {
                throw FeatureProblem("community code '\(code)' must be 6 (district), 9 (street) or 12 (community) digits, not starting with 0")
            }
            try derive(&row, "level", level.rawValue)
            if let parent = level.parent { try derive(&row, "parent_code", String(code.prefix(parent.codeLength))) }
        case .grids:
            let code = row.values[index("code")].text!
            guard let grid = GridCode(code) else { throw FeatureProblem(GridCode.problem(with: code)) }
            try derive(&row, "community_code", grid.community)
            let from = row.values[index("valid_from")].text, to = row.values[index("valid_to")].text
            if let from, let to, from > to { throw FeatureProblem("valid_from \(from) is after valid_to \(to)") }
        case .buildings:
            if let code = row.values[index("grid_code")].text, GridCode(code) == nil {
                throw FeatureProblem(GridCode.problem(with: code))
            }
        case .resources:
            let type = row.values[index("type")].text!
            guard Self.isIdentifier(type) else {
                throw FeatureProblem("resource type '\(type)' must be a lower-case name such as \(Self.knownResourceTypes.joined(separator: ", "))")
            }
            let s = index("status")
            if let status = row.values[s].text {
                guard Self.isIdentifier(status) else { throw FeatureProblem("status '\(status)' must be a lower-case name such as in_service") }
            } else {
                row.values[s] = .text("in_service")
            }
        case .incidents:
            if let kind = row.values[index("kind")].text, !["immediate", "promised"].contains(kind) {
                throw FeatureProblem("kind '\(kind)' must be immediate or promised")
            }
            if let p = row.values[index("priority")].text, !Incident.priorities.contains(p) {
                throw FeatureProblem("priority '\(p)' must be one of \(Incident.priorities.joined(separator: ", "))")
            }
            if let s = row.values[index("satisfaction")].integer, !(1...5).contains(s) { throw FeatureProblem("satisfaction must be 1–5, not \(s)") }
        case .roads, .defined:
            break
        }
    }

    /// Sets a field that follows from another; a value given in the file must agree.
    private func derive(_ row: inout Row, _ name: String, _ value: String) throws(FeatureProblem) {
        let i = index(name)
        if let given = row.values[i].text, given != value {
            throw FeatureProblem("\(name) '\(given)' contradicts the code, which implies '\(value)'")
        }
        row.values[i] = .text(value)
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, first >= 97, first <= 122 else { return false }
        return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    static func coerce(_ value: JSONValue, to field: Field) throws(FeatureProblem) -> FieldValue {
        let result: FieldValue
        switch (field.type, value) {
        case (_, .null), (_, .string("")):
            guard !field.required else { throw FeatureProblem("property '\(field.name)' is required") }
            return .null
        case (.text, .string(let s)): result = .text(s)
        case (.text, .number(let n)):
            // Codes often arrive as JSON numbers; 15 digits are exact in a double.
            result = .text(n == n.rounded() && abs(n) < 9e15 ? String(Int64(n)) : String(n))
        case (.integer, .number(let n)):
            guard n == n.rounded(), abs(n) < 9e15 else { throw FeatureProblem("property '\(field.name)': \(n) is not a whole number") }
            result = .integer(Int64(n))
        case (.integer, .string(let s)):
            let t = s.trimmingCharacters(in: .whitespaces)
            if let i = Int64(t) {
                result = .integer(i)
            } else if let d = Double(t), d == d.rounded(), abs(d) < 9e15 {
                result = .integer(Int64(d))
            } else {
                throw FeatureProblem("property '\(field.name)': '\(s)' is not a whole number")
            }
        case (.real, .number(let n)): result = .real(n)
        case (.real, .string(let s)):
            guard let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite else {
                throw FeatureProblem("property '\(field.name)': '\(s)' is not a number")
            }
            result = .real(d)
        case (.date, .string(let s)):
            guard isISODate(s) else { throw FeatureProblem("property '\(field.name)': '\(s)' is not a date (YYYY-MM-DD)") }
            result = .text(s)
        case (.timestamp, .string(let s)):
            guard let t = Timestamp(iso8601: s) else {
                throw FeatureProblem("property '\(field.name)': '\(s)' is not an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SSZ)")
            }
            result = .text(t.text)
        case (.boolean, .bool(let b)): result = .integer(b ? 1 : 0)
        case (.boolean, .number(let n)) where n == 0 || n == 1: result = .integer(Int64(n))
        case (.boolean, .string(let s)):
            switch s.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "1", "yes", "t", "y": result = .integer(1)
            case "false", "0", "no", "f", "n": result = .integer(0)
            default: throw FeatureProblem("property '\(field.name)': '\(s)' is not a boolean (true or false)")
            }
        case (.text, .bool(let b)): result = .text(b ? "true" : "false")
        default:
            let wanted = field.type.isNumeric ? "a number" : field.type == .boolean ? "a boolean" : "a string"
            throw FeatureProblem("property '\(field.name)' must be \(wanted), not \(value.typeDescription)")
        }
        if let minimum = field.minimum {
            let n: Double? = switch result {
            case .integer(let i): Double(i)
            case .real(let d): d
            default: nil
            }
            if let n, n < minimum { throw FeatureProblem("property '\(field.name)': \(n) is below \(minimum)") }
        }
        return result
    }

    public static func isISODate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == 45, b[7] == 45 else { return false }
        for i in [0, 1, 2, 3, 5, 6, 8, 9] where !(48...57).contains(b[i]) { return false }
        let month = Int(s.dropFirst(5).prefix(2))!, day = Int(s.suffix(2))!
        let year = Int(s.prefix(4))!
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return (1...12).contains(month) && day >= 1 && day <= days[month - 1]
    }
}
