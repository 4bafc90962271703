import Foundation

/// A layer's definition as JSON: what `geo-cli layer create --schema FILE` reads, what `layer list --json` prints
/// and what the store keeps in `geogrid_layers`:
/// `{"name": "hydrant_points", "title": "…", "geometry": "point", "fields": [{"name": "flow", "type": "real"},
/// {"name": "keeper_phone", "type": "text", "personal": true}], "tile_properties": ["flow"], "min_zoom": 11}`.
public enum LayerDefinition {
    /// Checks a definition and returns the layer it defines.
    public static func layer(from json: JSONValue) throws(FeatureProblem) -> Layer {
        guard case .object(let members) = json else { throw FeatureProblem("a layer definition is a JSON object") }
        // `built_in` and `count`, as `layer list --json` prints them, are read past, so its output can be fed back.
        let known: Set<String> = ["name", "title", "geometry", "fields", "tile_properties", "min_zoom", "built_in", "count"]
        for (k, _) in members where !known.contains(k) {
            throw FeatureProblem("a layer definition has no member '\(k)' (members: \(known.sorted().joined(separator: ", ")))")
        }
        guard let name = json["name"]?.stringValue else { throw FeatureProblem("a layer definition needs a name") }
        guard let g = json["geometry"]?.stringValue, let geometry = LayerGeometry(rawValue: g) else {
            throw FeatureProblem("layer \(name): geometry must be point, line or polygon")
        }
        var fields: [Field] = []
        for f in json["fields"]?.arrayValue ?? [] {
            guard let fieldName = f["name"]?.stringValue, let typeName = f["type"]?.stringValue else {
                throw FeatureProblem("layer \(name): every field needs a name and a type")
            }
            guard let type = FieldType(rawValue: typeName) else {
                throw FeatureProblem("field \(fieldName): type must be one of \(FieldType.allCases.map(\.rawValue).joined(separator: ", ")), not \(typeName)")
            }
            fields.append(Field(fieldName, type, personal: f["personal"] == .bool(true), f["title"]?.stringValue ?? ""))
        }
        let tile = try json["tile_properties"]?.arrayValue.map { list throws(FeatureProblem) in
            try list.map { v throws(FeatureProblem) in
                guard let s = v.stringValue else { throw FeatureProblem("tile_properties are property names") }
                return s
            }
        }
        let minZoom = json["min_zoom"]?.numberValue.map { Int($0) }
        let layer = Layer(name: name, title: json["title"]?.stringValue ?? name, geometry: geometry, fields: fields, tileProperties: tile, minZoom: minZoom)
        try check(layer)
        return layer
    }

    /// `--field NAME:TYPE[:personal]`.
    public static func field(parsing text: String) throws(FeatureProblem) -> Field {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && parts[2] == "personal"), !parts[0].isEmpty else {
            throw FeatureProblem("field '\(text)' is not of the form NAME:TYPE or NAME:TYPE:personal")
        }
        guard let type = FieldType(rawValue: parts[1]) else {
            throw FeatureProblem("field '\(text)': type must be one of \(FieldType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return Field(parts[0], type, personal: parts.count == 3)
    }

    /// A lower-case identifier that is not a built-in layer nor a table SpatiaLite or GeoGrid keeps.
    public static func checkName(_ name: String) throws(FeatureProblem) {
        guard Layer.isIdentifier(name), name.utf8.count <= 63 else {
            throw FeatureProblem("layer name '\(name)' must be a lower-case identifier (a–z, 0–9, _; starting with a letter; at most 63)")
        }
        if Layer.builtIn.contains(where: { $0.name == name }) { throw FeatureProblem("\(name) is a built-in layer: it cannot be redefined") }
        for prefix in ["geogrid_", "idx_", "sqlite_", "spatial", "geometry_", "views_geometry", "virts_geometry", "sql_statements", "rl2", "vector_", "raster_",
            "data_licenses", "wms_", "topologies", "networks", "se_", "iso_", "knn", "elementarygeometries", "spatialite_history", "geom_cols"]
        where name.hasPrefix(prefix) {
            throw FeatureProblem("layer name '\(name)' is kept for SpatiaLite's or GeoGrid's own tables (it starts with \(prefix))")
        }
    }

    static func check(_ layer: Layer) throws(FeatureProblem) {
        try checkName(layer.name)
        var seen = Set<String>()
        for f in layer.fields {
            // Any name a city uses (SQL keywords such as `end` or `date` included: columns are quoted), but not
            // one SQLite would take for another: names are compared without case, as SQLite does.
            guard !f.name.isEmpty, f.name.utf8.count <= 63, !f.name.unicodeScalars.contains(where: { $0.value < 32 || $0 == "\"" }) else {
                throw FeatureProblem("field name '\(f.name)' must be 1–63 bytes without control characters or double quotes")
            }
            guard !Layer.reservedFieldNames.contains(f.name.lowercased()) else {
                throw FeatureProblem("field name '\(f.name)' is kept for the store (\(Layer.reservedFieldNames.sorted().joined(separator: ", ")))")
            }
            guard seen.insert(f.name.lowercased()).inserted else { throw FeatureProblem("field '\(f.name)' is defined twice") }
        }
        guard (0...22).contains(layer.minZoom) else { throw FeatureProblem("min_zoom must be within 0…22") }
    }

    /// The definition as JSON (for built-in layers too: their fields as GeoGrid defines them).
    public static func json(_ layer: Layer) -> JSONValue {
        var fields: [JSONValue] = []
        for f in layer.fields {
            var m: [(String, JSONValue)] = [("name", .string(f.name)), ("type", .string(f.type.rawValue))]
            if f.personal { m.append(("personal", .bool(true))) }
            if !f.summary.isEmpty { m.append(("title", .string(f.summary))) }
            fields.append(.object(m))
        }
        return .object([
            ("name", .string(layer.name)), ("title", .string(layer.title)), ("geometry", .string(layer.geometry.rawValue)),
            ("built_in", .bool(layer.isBuiltIn)), ("fields", .array(fields)), ("tile_properties", .array(layer.tileProperties.map(JSONValue.string))),
            ("min_zoom", .number(Double(layer.minZoom))),
        ])
    }

    /// What `geogrid_layers` keeps: the whole definition of a defined layer, the settings of a built-in one.
    static func stored(_ layer: Layer) -> String {
        var out: [UInt8] = []
        if layer.isBuiltIn {
            GeoJSONWriter.value(.object([("tile_properties", .array(layer.tileProperties.map(JSONValue.string))), ("min_zoom", .number(Double(layer.minZoom)))]), into: &out)
        } else {
            var json = json(layer)
            if case .object(let m) = json { json = .object(m.filter { $0.0 != "built_in" }) }
            GeoJSONWriter.value(json, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Layer {
    /// The layer with its stored settings (tile properties, min zoom) applied; built-in layers keep their fields.
    func withSettings(_ json: JSONValue) -> Layer {
        var l = self
        if let t = json["tile_properties"]?.arrayValue { l.tileProperties = t.compactMap(\.stringValue) }
        if let z = json["min_zoom"]?.numberValue { l.minZoom = Int(z) }
        return l
    }
}

extension GeoStore {
    /// The store's layers: the built-in ones, then those the city defined, by name.
    public var layers: [Layer] { catalogue.withLock { $0 } }

    /// The layer of this name, or an error listing the layers there are.
    public func layer(named name: String) throws -> Layer {
        guard let layer = layers.first(where: { $0.name == name }) else {
            throw StoreError("no layer \(name) (layers: \(layers.map(\.name).joined(separator: ", ")))")
        }
        return layer
    }

    /// The catalogue as the file holds it.
    static func readCatalogue(_ db: Connection) throws -> [Layer] {
        var settings: [String: JSONValue] = [:]
        var defined: [Layer] = []
        let s = try db.prepare("SELECT name, definition FROM geogrid_layers ORDER BY name")
        while try s.step() {
            let name = s.text(0) ?? "", text = s.text(1) ?? "{}"
            guard let json = try? JSONParser.parse(text) else { throw StoreError("geogrid_layers: the definition of \(name) is not JSON") }
            if Layer.builtIn.contains(where: { $0.name == name }) {
                settings[name] = json
            } else {
                do { defined.append(try LayerDefinition.layer(from: json)) } catch { throw StoreError("geogrid_layers: \(name): \(error)") }
            }
        }
        return Layer.builtIn.map { settings[$0.name].map($0.withSettings) ?? $0 } + defined
    }

    /// Adds a layer of the city's own: a SpatiaLite table registered like the built-in ones (geometry column
    /// `geom`, SRID 4326, R*Tree), its fields quoted so that any name works, and the JSON column of extra
    /// attributes. One transaction; the catalogue changes once it commits.
    public func createLayer(_ layer: Layer) throws {
        do { try LayerDefinition.check(layer) } catch { throw StoreError("\(error)") }
        try write { db in
            let exists = try db.scalar("SELECT count(*) FROM sqlite_master WHERE lower(name) = lower(?)", [.text(layer.name)])
            guard exists == .integer(0) else { throw StoreError("the store already has a layer or table named \(layer.name)") }
            let columns = ["id INTEGER PRIMARY KEY"] + layer.fields.map { "\($0.column) \($0.type.sqlType)" } + ["\(Layer.extraColumn) TEXT"]
            try db.execute("CREATE TABLE \(layer.table) (\(columns.joined(separator: ", ")))")
            // AddGeometryColumn and CreateSpatialIndex return 0 rather than failing.
            guard try db.scalar("SELECT AddGeometryColumn(?, 'geom', 4326, ?, 'XY', 1)", [.text(layer.name), .text(layer.columnGeometry)]) == .integer(1),
                try db.scalar("SELECT CreateSpatialIndex(?, 'geom')", [.text(layer.name)]) == .integer(1)
            else { throw StoreError("SpatiaLite could not register the geometry of \(layer.name)") }
            let s = try db.prepare("INSERT INTO geogrid_layers (name, definition, created) VALUES (?, ?, ?)")
            try s.bind([.text(layer.name), .text(LayerDefinition.stored(layer)), .text(Timestamp.now.text)])
            try s.step()
            db.catalogueChanged = true
        }
    }

    /// Changes a layer's settings (title of a defined layer, tile properties, min zoom).
    public func configureLayer(_ layer: Layer) throws {
        guard layers.contains(layer) else { throw StoreError("no layer \(layer.name)") }
        try write { db in
            let s = try db.prepare("INSERT OR REPLACE INTO geogrid_layers (name, definition, created) VALUES (?, ?, coalesce((SELECT created FROM geogrid_layers WHERE name = ?1), ?))")
            try s.bind([.text(layer.name), .text(LayerDefinition.stored(layer)), .text(Timestamp.now.text)])
            try s.step()
            db.catalogueChanged = true
        }
    }

    /// Drops a defined layer: its table, R*Tree and registration. Refused for built-in layers, and while it
    /// holds features unless `force`. Returns how many features went with it.
    @discardableResult public func dropLayer(_ name: String, force: Bool = false) throws -> Int {
        if Layer.builtIn.contains(where: { $0.name == name }) { throw StoreError("\(name) is a built-in layer: it cannot be dropped") }
        let layer = try self.layer(named: name)
        return try write { db in
            let count = Int(try db.scalar("SELECT count(*) FROM \(layer.table)").integer ?? 0)
            if count > 0 && !force { throw StoreError("layer \(name) holds \(count) features: drop it with --force to delete them too") }
            // DropGeoTable refuses to run inside a transaction, so its steps are done here, in ours: the R*Tree,
            // the registration (triggers and geometry_columns), the metadata rows DiscardGeometryColumn leaves, the table.
            guard try db.scalar("SELECT DisableSpatialIndex(?, 'geom')", [.text(name)]) == .integer(1) else { throw StoreError("SpatiaLite could not drop the index of \(name)") }
            try db.execute("DROP TABLE IF EXISTS \(layer.spatialIndex)")
            guard try db.scalar("SELECT DiscardGeometryColumn(?, 'geom')", [.text(name)]) == .integer(1) else { throw StoreError("SpatiaLite could not unregister \(name)") }
            for meta in ["geometry_columns_statistics", "geometry_columns_time", "geometry_columns_auth", "geometry_columns_field_infos"] {
                let d = try db.prepare("DELETE FROM \(meta) WHERE lower(f_table_name) = lower(?)")
                try d.bind([.text(name)])
                try d.step()
            }
            try db.execute("DROP TABLE \(layer.table)")
            let s = try db.prepare("DELETE FROM geogrid_layers WHERE name = ?")
            try s.bind([.text(name)])
            try s.step()
            db.catalogueChanged = true
            return count
        }
    }
}
