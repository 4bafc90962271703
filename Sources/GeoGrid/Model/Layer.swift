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

public enum FieldType: String, Sendable, CaseIterable {
    case text, integer, real
    /// 0 or 1 in SQLite; `true`/`false` in JSON.
    case boolean
    /// An ISO 8601 calendar date, `YYYY-MM-DD`, kept as text.
    case date
    /// An ISO 8601 instant, kept as UTC text `YYYY-MM-DDTHH:MM:SS[.fff]Z` (so text order is time order).
    case timestamp

    /// The SQLite column type (SpatiaLite and GDAL read DATE and TIMESTAMP declarations as such).
    var sqlType: String {
        switch self {
        case .text: "TEXT"
        case .integer: "INTEGER"
        case .real: "REAL"
        case .boolean: "BOOLEAN"
        case .date: "DATE"
        case .timestamp: "TIMESTAMP"
        }
    }

    var isNumeric: Bool { self == .integer || self == .real }
}

public struct Field: Hashable, Sendable {
    public let name: String
    public let type: FieldType
    public let required: Bool
    /// Lowest accepted value for numbers.
    public let minimum: Double?
    public let summary: String
    /// A personal field (a phone, a reporter's name): it reaches only callers allowed to see it.
    public let personal: Bool

    public init(_ name: String, _ type: FieldType, required: Bool = false, minimum: Double? = nil, personal: Bool = false, _ summary: String = "") {
        self.name = name
        self.type = type
        self.required = required
        self.minimum = minimum
        self.summary = summary
        self.personal = personal
    }

    /// The value as JSON: booleans as `true`/`false`, the rest as stored.
    public func json(_ value: FieldValue) -> JSONValue {
        if type == .boolean, case .integer(let i) = value { return .bool(i != 0) }
        return value.json
    }

    /// The column name quoted for SQL (any name, SQL keywords such as `end` included).
    public var column: String { SQL.quote(name) }
}

/// The geometry a layer holds; stored as the column type SpatiaLite registers.
public enum LayerGeometry: String, Sendable, CaseIterable {
    case point, line, polygon

    /// The SpatiaLite geometry type of the `geom` column: single points, multi lines and polygons.
    public var columnType: String {
        switch self {
        case .point: "POINT"
        case .line: "MULTILINESTRING"
        case .polygon: "MULTIPOLYGON"
        }
    }

    /// Geometry types accepted on input; single forms are promoted to the multi column type.
    public var accepts: Set<GeometryKind> {
        switch self {
        case .point: [.point]
        case .line: [.lineString, .multiLineString]
        case .polygon: [.polygon, .multiPolygon]
        }
    }
}

/// A layer of a GeoGrid store: a SpatiaLite table with a `geom` column (SRID 4326, R*Tree), its fields, and a
/// JSON column holding the properties no field takes. The five built-in layers and the layers a city defines
/// are values of this one type, kept in one catalogue (`GeoStore.layers`) and served the same way; they
/// differ only in their `rules` (codes, hierarchy, resource types) and in that built-in ones cannot be dropped.
///
/// Two `Layer` values are the same layer when their names match: a store holds one layer of a name.
public struct Layer: Hashable, Sendable, CustomStringConvertible {
    /// The cross-field rules a layer's rows obey.
    public enum Rules: String, Sendable {
        case communities, grids, buildings, resources, roads
        /// The cases (`incidents`): written only through the workflow (`IncidentDesk`), never by feature edits.
        case incidents
        /// A layer a city defined: its fields' types and ranges, nothing more.
        case defined
    }

    /// The collection id in the CLI, the tile server and OGC API Features, and the table's name.
    public let name: String
    public var title: String
    public let geometry: LayerGeometry
    public let fields: [Field]
    public let rules: Rules
    /// Properties carried in vector tiles (fields or extra attributes), besides the feature id.
    public var tileProperties: [String]
    /// The lowest zoom the layer's tiles carry it at.
    public var minZoom: Int

    public init(name: String, title: String, geometry: LayerGeometry, fields: [Field], rules: Rules = .defined, tileProperties: [String]? = nil,
        minZoom: Int? = nil
    ) {
        self.name = name
        self.title = title
        self.geometry = geometry
        self.fields = fields
        self.rules = rules
        // Defined layers: every field that is not personal (extra attributes only when configured).
        self.tileProperties = tileProperties ?? fields.filter { !$0.personal }.map(\.name)
        self.minZoom = minZoom ?? (geometry == .polygon ? 12 : 11)
    }

    public static func == (a: Layer, b: Layer) -> Bool { a.name == b.name }
    public func hash(into h: inout Hasher) { h.combine(name) }
    public var description: String { name }

    /// The collection id (the name), as the enum this type replaced called it.
    public var rawValue: String { name }
    public var isBuiltIn: Bool { rules != .defined }
    /// The SpatiaLite geometry type of the `geom` column.
    public var columnGeometry: String { geometry.columnType }
    public var accepts: Set<GeometryKind> { geometry.accepts }

    public func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// A test of whether a feature of this layer is in force on `day` (YYYY-MM-DD) by its `valid_from` and
    /// `valid_to` (the grids); every feature passes for a layer without them. The columns are found once.
    public func inForce(on day: String) -> ([FieldValue]) -> Bool {
        guard let from = fields.firstIndex(where: { $0.name == "valid_from" }), let to = fields.firstIndex(where: { $0.name == "valid_to" }) else { return { _ in true } }
        return { values in
            if let f = values[from].text, f > day { return false }
            if let t = values[to].text, t < day { return false }
            return true
        }
    }
    public var personalFields: [Field] { fields.filter(\.personal) }

    /// The table quoted for SQL, and its R*Tree (SpatiaLite's `idx_<table>_geom`).
    public var table: String { SQL.quote(name) }
    public var spatialIndex: String { SQL.quote("idx_\(name)_geom") }

    /// The column holding the properties no field takes, as a JSON object (text, so QGIS and GDAL read it).
    public static let extraColumn = "extra_properties"
    /// Names a defined field cannot take: the row id, the geometry, the extra attributes' column.
    public static let reservedFieldNames: Set<String> = ["id", "geom", "geometry", extraColumn, "fid", "ogc_fid"]

    /// Resource types GeoGrid knows by name; others are accepted when they are lower-case identifiers.
    public static let knownResourceTypes = ["hydrant", "fire_station", "hospital", "aed", "shelter", "police", "supply_depot"]

    // MARK: The built-in layers

    public static let communities = Layer(
        name: "communities", title: "Districts, streets and communities", geometry: .polygon,
        fields: [
            Field("code", .text, required: true, "6 digits (district), 9 (street) or 12 (community)"),
            Field("name", .text, "Name"),
            Field("level", .text, "district, street or community; follows from the code's length"),
            Field("parent_code", .text, "Code of the area above; follows from the code"),
        ], rules: .communities, tileProperties: ["code", "name", "level"], minZoom: 8)

    public static let grids = Layer(
        name: "grids", title: "Unit grids", geometry: .polygon,
        fields: [
            Field("code", .text, required: true, "15-digit grid code (or the older 14-digit form)"),
            Field("name", .text, "Name"),
            Field("community_code", .text, "12-digit community code; follows from the grid code"),
            Field("worker_name", .text, "Grid worker"),
            Field("worker_phone", .text, personal: true, "Grid worker's phone"),
            Field("households", .integer, minimum: 0, "Households"),
            Field("population", .integer, minimum: 0, "Residents"),
            Field("valid_from", .date, "First day the boundary is in force"),
            Field("valid_to", .date, "Last day the boundary is in force; empty while current"),
        ], rules: .grids, tileProperties: ["code", "name", "community_code", "worker_name", "households", "population"], minZoom: 11)

    public static let buildings = Layer(
        name: "buildings", title: "Buildings", geometry: .polygon,
        fields: [
            Field("name", .text, "Name"),
            Field("address", .text, "Street address"),
            Field("floors", .integer, minimum: 0, "Floors above ground"),
            Field("households", .integer, minimum: 0, "Households"),
            Field("population", .integer, minimum: 0, "Residents"),
            Field("grid_code", .text, "Grid the building belongs to"),
        ], rules: .buildings, tileProperties: ["name", "floors", "households", "population", "grid_code"], minZoom: 13)

    public static let resources = Layer(
        name: "resources", title: "Emergency resources", geometry: .point,
        fields: [
            Field("type", .text, required: true, "hydrant, fire_station, hospital, aed, shelter, police, supply_depot or another lower-case name"),
            Field("name", .text, "Name"),
            Field("capacity", .integer, minimum: 0, "Beds, places, litres per minute: what the type counts"),
            Field("status", .text, "in_service (default), out_of_service, or another lower-case state"),
        ], rules: .resources, tileProperties: ["type", "name", "status", "capacity"], minZoom: 11)

    public static let roads = Layer(
        name: "roads", title: "Roads", geometry: .line,
        fields: [
            Field("name", .text, "Name"),
            Field("class", .text, "Road class (OSM highway values: primary, residential, footway, …)"),
            Field("width", .real, minimum: 0, "Width in metres where known"),
        ], rules: .roads, tileProperties: ["name", "class"], minZoom: 10)

    /// The cases: one point per case with its stage, owner, department, light and the times of every stage.
    /// Its rows change only through the workflow (`IncidentDesk`); the history and the situation package are
    /// kept beside it (`geogrid_incident_history`, `geogrid_incident_situations`).
    public static let incidents = Layer(
        name: "incidents", title: "Incidents (cases)", geometry: .point,
        fields: [
            Field("case_number", .text, required: true, "Readable, unique case number: year and sequence (2026-000123)"),
            Field("category", .text, required: true, "Category code from the store's catalogue (event, component or emergency class)"),
            Field("subcategory", .text, "Minor class code, when the category has them"),
            Field("priority", .text, "low, normal, high or urgent"),
            Field("kind", .text, "immediate (即办件) or promised (承诺件)"),
            Field("promised_date", .date, "The date a promised case is due"),
            Field("title", .text, "Title"),
            Field("description", .text, "Description"),
            Field("channel", .text, "Channel code from the catalogue (grid_worker, hotline, …)"),
            Field("reporter_name", .text, personal: true, "Reporter's name"),
            Field("reporter_contact", .text, personal: true, "Reporter's phone or address"),
            Field("building_id", .integer, "Building the case is in, when known"),
            Field("floor", .integer, "Floor"),
            Field("location_detail", .text, "Where exactly (gas meter, stairwell B)"),
            Field("owner", .text, "How the place was assigned: grid, community_fallback, street_fallback, district_fallback or outside"),
            Field("grid_code", .text, "Owning grid"),
            Field("community_code", .text, "Owning community"),
            Field("street_code", .text, "Owning street"),
            Field("district_code", .text, "Owning district"),
            Field("stage", .text, required: true, "Current stage of the workflow"),
            Field("open", .boolean, "Whether the case is still open (its stage is not final)"),
            Field("department", .text, "Responsible department code"),
            Field("department_level", .text, "community, street, district or city"),
            Field("assignee", .text, "Person handling the case"),
            Field("co_departments", .text, "Co-handling department codes, comma-separated"),
            Field("light", .text, "green, yellow or red as last computed (open cases); empty once closed"),
            Field("yellow_at", .timestamp, "When the current stage's light turns yellow"),
            Field("red_at", .timestamp, "When the current stage's light turns red"),
            Field("overdue", .boolean, "Whether the case went red at any stage"),
            Field("reporter_answered", .boolean, "Whether the reporter was told the outcome (回告)"),
            Field("no_answer_reason", .text, "Why the reporter was not answered"),
            Field("satisfaction", .integer, minimum: 1, "The reporter's satisfaction, 1–5"),
            Field("reported_at", .timestamp, "Reported"),
            Field("registered_at", .timestamp, "Registered"),
            Field("dispatched_at", .timestamp, "Dispatched (last time)"),
            Field("accepted_at", .timestamp, "Accepted"),
            Field("handling_at", .timestamp, "Handling began"),
            Field("handled_at", .timestamp, "Handled (feedback given)"),
            Field("closed_at", .timestamp, "Closed (verified, at source, or cancelled)"),
            Field("evaluated_at", .timestamp, "Evaluated"),
            Field("stage_since", .timestamp, "When the case entered its current stage"),
            Field("updated_at", .timestamp, "Last change"),
        ], rules: .incidents,
        tileProperties: ["case_number", "category", "priority", "stage", "light", "department", "grid_code", "title"], minZoom: 10)

    /// The built-in layers of the map, in the order the demo loads them from its files (areas before what lies in them).
    public static let mapLayers: [Layer] = [.communities, .grids, .buildings, .resources, .roads]
    /// Every built-in layer: the map's, then the cases.
    public static let builtIn: [Layer] = mapLayers + [.incidents]
}

/// SQL text helpers.
public enum SQL {
    /// An identifier quoted for SQLite: `"end"`, with inner quotes doubled.
    public static func quote(_ identifier: String) -> String {
        // The common case without a quote inside skips Foundation's search-and-replace (hot in every write).
        guard identifier.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + identifier + "\"" }
        return "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    /// A string literal for SQLite.
    public static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
}
