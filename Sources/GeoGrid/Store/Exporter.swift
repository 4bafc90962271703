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
        let fields = layer.fields
        try forEachRow(db, layer: layer, bbox: bbox) { id, values, geometry in
            try body(Feature(id: .int(id), geometry: geometry, properties: zip(fields, values).map { ($0.name, $1.json) }))
        }
    }

    /// Calls `body` with each row of `layer` in id order: its id, field values (in `layer.fields` order) and
    /// geometry. With a bbox the R*Tree picks candidates and only geometries meeting the box are passed on.
    /// Every row of `layer` by id, or those meeting `bbox`, or those of `ids`.
    func forEachRow(_ db: Connection, layer: Layer, bbox: BBox?, ids: Set<Int64>? = nil, _ body: (Int64, [FieldValue], Geometry) throws -> Void) throws {
        let fields = layer.fields
        var sql = "SELECT id, \(fields.map(\.name).joined(separator: ", ")), geom FROM \(layer.rawValue)"
        let geomColumn = Int32(fields.count + 1)
        if let ids {
            let s = try db.prepare(sql + " WHERE id = ?")
            for id in ids.sorted() {
                s.reset()
                try s.bind(.integer(id), at: 1)
                if try s.step() { try body(s.int64(0), (0..<fields.count).map { s.value(Int32($0 + 1)) }, try Self.geometry(s, geomColumn)) }
            }
            return
        }
        if bbox != nil {
            // The R*Tree keeps 32-bit floats rounded outwards: a superset, refined exactly below.
            sql += " WHERE id IN (SELECT pkid FROM idx_\(layer.rawValue)_geom WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?)"
        }
        sql += " ORDER BY id"
        let s = try db.prepare(sql)
        if let bbox { try s.bind([.real(bbox.maxX), .real(bbox.minX), .real(bbox.maxY), .real(bbox.minY)]) }
        while try s.step() {
            let geometry = try Self.geometry(s, geomColumn)
            if let bbox, !geometry.intersects(bbox) { continue }
            try body(s.int64(0), (0..<fields.count).map { s.value(Int32($0 + 1)) }, geometry)
        }
    }
}
