import Foundation

/// A page of a layer's features, as OGC API Features asks for them: in id order, optionally meeting a box and
/// having given field values, skipping `offset` and taking at most `limit`.
public struct FeatureQuery: Sendable {
    public var layer: Layer
    public var bbox: BBox?
    /// Fields that must equal the given text (compared as SQL does: '12' matches the integer 12).
    public var equals: [(field: String, value: String)] = []
    public var limit: Int
    public var offset: Int = 0

    public init(layer: Layer, limit: Int) {
        self.layer = layer
        self.limit = limit
    }
}

extension GeoStore {
    /// Calls `body` with each feature of the page (in one read snapshot) and returns how many features match
    /// in all (numberMatched). With a bbox the R*Tree picks candidates and the exact test decides, so the count
    /// and the page agree with SpatiaLite's ST_Intersects.
    @discardableResult
    public func features(_ q: FeatureQuery, _ body: (Feature) throws -> Void) throws -> Int {
        let fields = q.layer.fields
        for f in q.equals where !fields.contains(where: { $0.name == f.field }) { throw StoreError("\(q.layer.rawValue) has no field \(f.field)") }
        return try read { db in
            var sql = "SELECT id, \(fields.map(\.name).joined(separator: ", ")), geom FROM \(q.layer.rawValue) WHERE 1"
            var binds: [FieldValue] = []
            if let b = q.bbox {
                sql += " AND id IN (SELECT pkid FROM idx_\(q.layer.rawValue)_geom WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?)"
                binds += [.real(b.maxX), .real(b.minX), .real(b.maxY), .real(b.minY)]
            }
            for f in q.equals {
                sql += " AND \(f.field) = ?"
                let type = fields.first { $0.name == f.field }!.type
                binds.append(type == .integer ? (Int64(f.value).map(FieldValue.integer) ?? .text(f.value)) : type == .real ? (Double(f.value).map(FieldValue.real) ?? .text(f.value)) : .text(f.value))
            }
            if q.bbox == nil {
                // No geometry test: SQL counts and pages by itself.
                let count = try db.prepare(sql.replacingOccurrences(of: "SELECT id, \(fields.map(\.name).joined(separator: ", ")), geom", with: "SELECT count(*)"))
                try count.bind(binds)
                _ = try count.step()
                let total = Int(count.int64(0))
                let s = try db.prepare(sql + " ORDER BY id LIMIT ? OFFSET ?")
                try s.bind(binds + [.integer(Int64(q.limit)), .integer(Int64(q.offset))])
                while try s.step() {
                    let geometry = try Self.geometry(s, Int32(fields.count + 1))
                    try body(Feature(id: .int(s.int64(0)), geometry: geometry, properties: (0..<fields.count).map { (fields[$0].name, s.value(Int32($0 + 1)).json) }))
                }
                return total
            }
            let s = try db.prepare(sql + " ORDER BY id")
            try s.bind(binds)
            var matched = 0
            while try s.step() {
                let geometry = try Self.geometry(s, Int32(fields.count + 1))
                guard geometry.intersects(q.bbox!) else { continue }
                matched += 1
                if matched > q.offset && matched <= q.offset + q.limit {
                    try body(Feature(id: .int(s.int64(0)), geometry: geometry, properties: (0..<fields.count).map { (fields[$0].name, s.value(Int32($0 + 1)).json) }))
                }
            }
            return matched
        }
    }
}

extension GeoStore {
    /// One feature by id, or nil.
    public func feature(_ layer: Layer, id: Int64) throws -> Feature? {
        try read { db in
            var found: Feature?
            try forEachRow(db, layer: layer, bbox: nil, ids: [id]) { rowID, values, geometry in
                found = Feature(id: .int(rowID), geometry: geometry, properties: zip(layer.fields, values).map { ($0.name, $1.json) })
            }
            return found
        }
    }
}
