/// Decoding of RFC 7946 objects from parsed JSON. Structure errors are reported in GeoJSON's terms
/// ("a position needs at least two numbers"); range and ring rules are `Geometry.structuralProblem`.
public enum GeoJSON {
    public static func feature(from value: JSONValue) throws(FeatureProblem) -> Feature {
        guard case .object(let members) = value else { throw FeatureProblem("expected a Feature object, found \(value.typeDescription)") }
        let type = try typeName(members, "a Feature")
        guard type == "Feature" else {
            if GeometryKind(rawValue: type) != nil || type == "GeometryCollection" {
                throw FeatureProblem("expected a Feature, found a bare \(type) geometry")
            }
            throw FeatureProblem("expected a Feature, found type \"\(type)\"")
        }
        try checkMembers(members, forbidden: ["features", "coordinates", "geometries"], of: "a Feature")
        var id: FeatureID?
        switch value["id"] {
        case nil, .null?: id = nil
        case .number(let n)?:
            guard n == n.rounded(), abs(n) < 9e15 else { throw FeatureProblem("feature id \(n) is not an integer") }
            id = .int(Int64(n))
        case .string(let s)?: id = .string(s)
        case let other?: throw FeatureProblem("feature id must be a string or a number, not \(other.typeDescription)")
        }
        var properties: [(String, JSONValue)] = []
        switch value["properties"] {
        case nil: throw FeatureProblem("a Feature needs a \"properties\" member (null when it has none), RFC 7946 §3.2")
        case .null?: break
        case .object(let members)?:
            try checkMembers(members, forbidden: [], of: "the properties")
            properties = members
        case let other?: throw FeatureProblem("\"properties\" must be an object or null, not \(other.typeDescription)")
        }
        guard let geometryValue = value["geometry"] else { throw FeatureProblem("a Feature needs a \"geometry\" member") }
        if case .null = geometryValue { throw FeatureProblem("the feature has no geometry (null)") }
        let geometry = try Self.geometry(from: geometryValue)
        return Feature(id: id, geometry: geometry, properties: properties)
    }

    public static func geometry(from value: JSONValue) throws(FeatureProblem) -> Geometry {
        guard case .object(let members) = value else { throw FeatureProblem("geometry must be an object, not \(value.typeDescription)") }
        let type = try typeName(members, "a geometry")
        try checkMembers(members, forbidden: ["properties", "geometry", "features"], of: "a geometry")
        if type == "GeometryCollection" { throw FeatureProblem("GeometryCollection is not supported: split it into features") }
        guard let kind = GeometryKind(rawValue: type) else { throw FeatureProblem("unknown geometry type \"\(type)\"") }
        guard let c = value["coordinates"] else { throw FeatureProblem("\(type) needs a \"coordinates\" member") }
        switch kind {
        case .point: return .point(try position(c))
        case .multiPoint: return .multiPoint(try positions(c))
        case .lineString: return .lineString(try positions(c))
        case .multiLineString: return .multiLineString(try list(c, "lines") { v throws(FeatureProblem) in try positions(v) })
        case .polygon: return .polygon(try rings(c))
        case .multiPolygon: return .multiPolygon(try list(c, "polygons") { v throws(FeatureProblem) in try rings(v) })
        }
    }

    /// The `type` member, which every GeoJSON object has (RFC 7946 §3).
    static func typeName(_ members: [(String, JSONValue)], _ what: String) throws(FeatureProblem) -> String {
        guard let value = members.first(where: { $0.0 == "type" })?.1 else { throw FeatureProblem("\(what) needs a \"type\" member") }
        guard case .string(let type) = value else { throw FeatureProblem("the \"type\" member must be a string, not \(value.typeDescription)") }
        return type
    }

    /// Rules every GeoJSON object keeps: no member twice (its meaning would depend on the parser), no member
    /// that belongs to another kind of object (RFC 7946 §7.1), and a well-formed `bbox` (§5).
    static func checkMembers(_ members: [(String, JSONValue)], forbidden: Set<String>, of what: String) throws(FeatureProblem) {
        for (i, (key, value)) in members.enumerated() {
            // Objects here have a handful of members: a pairwise scan beats building a set.
            for j in 0..<i where members[j].0 == key { throw FeatureProblem("\(what) has the member \"\(key)\" twice") }
            if forbidden.contains(key) { throw FeatureProblem("\(what) must not have a \"\(key)\" member (RFC 7946 §7.1)") }
            if key == "bbox" && what != "the properties" {
                guard case .numbers(let n) = value else {
                    throw FeatureProblem("bbox must be an array of numbers, not \(value.typeDescription == "an array" ? "an array holding other values" : value.typeDescription)")
                }
                guard n.count == 4 || n.count == 6 else { throw FeatureProblem("bbox must have 4 numbers (2D) or 6 (3D), has \(n.count)") }
            }
        }
    }

    private static func position(_ v: JSONValue) throws(FeatureProblem) -> Position {
        guard case .numbers(let n) = v else {
            if case .array(let items) = v, items.contains(where: { if case .string = $0 { true } else { false } }) {
                throw FeatureProblem("a position holds a string where a number belongs")
            }
            throw FeatureProblem("a position must be an array of numbers, not \(v.typeDescription)")
        }
        guard n.count >= 2 else { throw FeatureProblem("a position needs at least two numbers, has \(n.count)") }
        // A third number (altitude) is allowed by RFC 7946 §3.1.1; GeoGrid stores 2D.
        return Position(n[0], n[1])
    }

    private static func positions(_ v: JSONValue) throws(FeatureProblem) -> [Position] {
        try list(v, "positions") { p throws(FeatureProblem) in try position(p) }
    }

    private static func rings(_ v: JSONValue) throws(FeatureProblem) -> PolygonRings {
        try list(v, "rings") { r throws(FeatureProblem) in try positions(r) }
    }

    private static func list<T>(_ v: JSONValue, _ what: String, _ each: (JSONValue) throws(FeatureProblem) -> T) throws(FeatureProblem) -> [T] {
        switch v {
        case .array(let items):
            var out: [T] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try each(item)) }
            return out
        case .numbers(let n) where n.isEmpty: return []
        default: throw FeatureProblem("expected an array of \(what), found \(v.typeDescription == "an array" ? "numbers" : v.typeDescription)")
        }
    }
}
