/// A column value as the store keeps it.
public enum FieldValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public var json: JSONValue {
        switch self {
        case .null: .null
        case .integer(let i): .number(Double(i))
        case .real(let d): .number(d)
        case .text(let s): .string(s)
        }
    }

    public var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    public var integer: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }
}

public enum FieldType: String, Sendable {
    case text, integer, real
    /// An ISO 8601 calendar date, `YYYY-MM-DD`, kept as text.
    case date
}

public struct Field: Sendable {
    public let name: String
    public let type: FieldType
    public let required: Bool
    /// Lowest accepted value for numbers.
    public let minimum: Double?
    public let summary: String

    init(_ name: String, _ type: FieldType, required: Bool = false, minimum: Double? = nil, _ summary: String) {
        self.name = name
        self.type = type
        self.required = required
        self.minimum = minimum
        self.summary = summary
    }
}

/// The layers of a GeoGrid store. The raw values are the public collection ids used by the CLI, the
/// tile server and OGC API Features, and the SpatiaLite table names.
public enum Layer: String, Sendable, CaseIterable {
    case communities, grids, buildings, resources, roads

    public var title: String {
        switch self {
        case .communities: "Districts, streets and communities"
        case .grids: "Unit grids"
        case .buildings: "Buildings"
        case .resources: "Emergency resources"
        case .roads: "Roads"
        }
    }

    /// The SpatiaLite geometry type of the `geom` column.
    public var columnGeometry: String {
        switch self {
        case .communities, .grids, .buildings: "MULTIPOLYGON"
        case .resources: "POINT"
        case .roads: "MULTILINESTRING"
        }
    }

    /// Geometry types accepted on import; single forms are promoted to the multi column type.
    public var accepts: Set<GeometryKind> {
        switch self {
        case .communities, .grids, .buildings: [.polygon, .multiPolygon]
        case .resources: [.point]
        case .roads: [.lineString, .multiLineString]
        }
    }

    public var fields: [Field] {
        switch self {
        case .communities:
            [
                Field("code", .text, required: true, "6 digits (district), 9 (street) or 12 (community)"),
                Field("name", .text, "Name"),
                Field("level", .text, "district, street or community; follows from the code's length"),
                Field("parent_code", .text, "Code of the area above; follows from the code"),
            ]
        case .grids:
            [
                Field("code", .text, required: true, "15-digit grid code (or the older 14-digit form)"),
                Field("name", .text, "Name"),
                Field("community_code", .text, "12-digit community code; follows from the grid code"),
                Field("worker_name", .text, "Grid worker"),
                Field("worker_phone", .text, "Grid worker's phone"),
                Field("households", .integer, minimum: 0, "Households"),
                Field("population", .integer, minimum: 0, "Residents"),
                Field("valid_from", .date, "First day the boundary is in force"),
                Field("valid_to", .date, "Last day the boundary is in force; empty while current"),
            ]
        case .buildings:
            [
                Field("name", .text, "Name"),
                Field("address", .text, "Street address"),
                Field("floors", .integer, minimum: 0, "Floors above ground"),
                Field("households", .integer, minimum: 0, "Households"),
                Field("population", .integer, minimum: 0, "Residents"),
                Field("grid_code", .text, "Grid the building belongs to"),
            ]
        case .resources:
            [
                Field("type", .text, required: true, "hydrant, fire_station, hospital, aed, shelter, police, supply_depot or another lower-case name"),
                Field("name", .text, "Name"),
                Field("capacity", .integer, minimum: 0, "Beds, places, litres per minute: what the type counts"),
                Field("status", .text, "in_service (default), out_of_service, or another lower-case state"),
            ]
        case .roads:
            [
                Field("name", .text, "Name"),
                Field("class", .text, "Road class (OSM highway values: primary, residential, footway, …)"),
                Field("width", .real, minimum: 0, "Width in metres where known"),
            ]
        }
    }

    public func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// Resource types GeoGrid knows by name; others are accepted when they are lower-case identifiers.
    public static let knownResourceTypes = ["hydrant", "fire_station", "hospital", "aed", "shelter", "police", "supply_depot"]
}
