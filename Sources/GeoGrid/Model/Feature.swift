/// A feature's identifier as GeoJSON allows it (RFC 7946 §3.2): a number or a string.
public enum FeatureID: Hashable, Sendable {
    case int(Int64)
    case string(String)
}

/// A feature read from, or written to, a file: what crosses the edge of the store.
public struct Feature: Hashable, Sendable {
    public var id: FeatureID?
    public var geometry: Geometry
    /// Properties in the order they came.
    public var properties: [(String, JSONValue)]

    public init(id: FeatureID? = nil, geometry: Geometry, properties: [(String, JSONValue)] = []) {
        self.id = id
        self.geometry = geometry
        self.properties = properties
    }

    public subscript(property key: String) -> JSONValue? {
        for (k, v) in properties where k == key { return v }
        return nil
    }

    public static func == (a: Feature, b: Feature) -> Bool {
        a.id == b.id && a.geometry == b.geometry && JSONValue.object(a.properties) == JSONValue.object(b.properties)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(geometry)
        hasher.combine(JSONValue.object(properties))
    }
}
