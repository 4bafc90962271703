import Foundation

public enum ExportFormat: String, Sendable, CaseIterable {
    /// One RFC 7946 FeatureCollection.
    case geojson
    /// Newline-delimited GeoJSON: one Feature per line.
    case geojsonseq
}

public struct ExportOptions: Sendable {
    public var layer: Layer
    public var bbox: BBox?
    public var format: ExportFormat = .geojson
    public var precision = 7

    public init(layer: Layer) { self.layer = layer }
}

extension GeoStore {
    /// Streams the layer's features, in id order, to `sink` in chunks of about 64 KiB: memory stays
    /// flat however many features there are. With a bbox the R*Tree picks candidates and an exact
    /// test keeps the features whose geometry meets the box. Returns the number written.
    @discardableResult
    public func export(_ options: ExportOptions, to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        try read { db in
            let writer = GeoJSONWriter(precision: options.precision)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 17)
            func flush(_ force: Bool) throws {
                if force || buffer.count >= 1 << 16 {
                    try buffer.withUnsafeBytes(sink)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            if options.format == .geojson { buffer.append(contentsOf: "{\"type\":\"FeatureCollection\",\"features\":[\n".utf8) }
            var count = 0
            try forEachFeature(db, layer: options.layer, bbox: options.bbox) { feature in
                if options.format == .geojson && count > 0 { buffer.append(contentsOf: ",\n".utf8) }
                writer.feature(feature, into: &buffer)
                if options.format == .geojsonseq { buffer.append(0x0A) }
                count += 1
                try flush(false)
            }
            if options.format == .geojson { buffer.append(contentsOf: "\n]}\n".utf8) }
            try flush(true)
            return count
        }
    }

    /// Calls `body` with each feature of `layer` in id order, decoded from the store.
    func forEachFeature(_ db: Connection, layer: Layer, bbox: BBox?, _ body: (Feature) throws -> Void) throws {
        try forEachRow(db, layer: layer, bbox: bbox) { row in try body(layer.feature(row)) }
    }

    /// Calls `body` with each row of `layer` in id order: its id, field values (in `layer.fields` order), extra
    /// attributes and geometry. With a bbox the R*Tree picks candidates and only geometries meeting the box are
    /// passed on; with `ids`, only those rows.
    func forEachRow(_ db: Connection, layer: Layer, bbox: BBox?, ids: Set<Int64>? = nil, _ body: (StoredRow) throws -> Void) throws {
        let fields = layer.fields
        var sql = "SELECT \(Self.selectList(layer)) FROM \(layer.table)"
        if let ids {
            let s = try db.prepare(sql + " WHERE id = ?")
            for id in ids.sorted() {
                s.reset()
                try s.bind(.integer(id), at: 1)
                if try s.step() { try body(Self.storedRow(s, fields.count)) }
            }
            return
        }
        if bbox != nil {
            // The R*Tree keeps 32-bit floats rounded outwards: a superset, refined exactly below.
            sql += " WHERE id IN (SELECT pkid FROM \(layer.spatialIndex) WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?)"
        }
        sql += " ORDER BY id"
        let s = try db.prepare(sql)
        if let bbox { try s.bind([.real(bbox.maxX), .real(bbox.minX), .real(bbox.maxY), .real(bbox.minY)]) }
        while try s.step() {
            let row = try Self.storedRow(s, fields.count)
            if let bbox, !row.geometry.intersects(bbox) { continue }
            try body(row)
        }
    }

    /// `id, <fields…>, extra_properties, geom`: the columns `storedRow` reads.
    static func selectList(_ layer: Layer) -> String {
        (["id"] + layer.fields.map(\.column) + [Layer.extraColumn, "geom"]).joined(separator: ", ")
    }

    /// The row at the statement's cursor, selected with `selectList`.
    static func storedRow(_ s: Statement, _ fieldCount: Int) throws -> StoredRow {
        let n = Int32(fieldCount)
        return StoredRow(id: s.int64(0), values: (0..<fieldCount).map { s.value(Int32($0 + 1)) }, extra: s.text(n + 1), geometry: try geometry(s, n + 2))
    }
}

/// A row of a layer table as read: its id, field values in `layer.fields` order, the extra attributes' JSON text
/// and the geometry.
public struct StoredRow: Sendable {
    public var id: Int64
    public var values: [FieldValue]
    public var extra: String?
    public var geometry: Geometry

    public init(id: Int64, values: [FieldValue], extra: String?, geometry: Geometry) {
        self.id = id
        self.values = values
        self.extra = extra
        self.geometry = geometry
    }

    init(_ e: ShapeIndex.Entry) { self.init(id: e.id, values: e.values, extra: e.extra, geometry: e.geometry) }
}

extension Layer {
    /// A stored row as a feature: the fields in order (null ones included), then the extra attributes.
    public func feature(_ row: StoredRow) -> Feature {
        var properties = zip(fields, row.values).map { ($0.name, $0.json($1)) }
        properties += Self.extraMembers(row.extra)
        return Feature(id: .int(row.id), geometry: row.geometry, properties: properties)
    }

    /// The members of a stored extra-attributes object (none for NULL, or for text that is not an object).
    public static func extraMembers(_ text: String?) -> [(String, JSONValue)] {
        guard let text, case .object(let members)? = try? JSONParser.parse(text) else { return [] }
        return members
    }
}
