import Foundation

/// A page of a layer's features, as OGC API Features asks for them: in id order, optionally meeting a box and
/// having given field values, skipping `offset` and taking at most `limit`.
public struct FeatureQuery: Sendable {
    public var layer: Layer
    public var bbox: BBox?
    /// Fields (or extra attributes) that must equal the given text (compared as SQL does: '12' matches the
    /// integer 12).
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
    /// and the page agree with SpatiaLite's ST_Intersects. A filter on a name no field has is a filter on the
    /// extra attributes (`?FLOW=1060`), compared as JSON numbers, strings or booleans.
    @discardableResult
    public func features(_ q: FeatureQuery, _ body: (Feature) throws -> Void) throws -> Int {
        let layer = q.layer, fields = layer.fields
        return try read { db in
            var sql = "FROM \(layer.table) WHERE 1"
            var binds: [FieldValue] = []
            if let b = q.bbox {
                sql += " AND id IN (SELECT pkid FROM \(layer.spatialIndex) WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?)"
                binds += [.real(b.maxX), .real(b.minX), .real(b.maxY), .real(b.minY)]
            }
            for f in q.equals {
                if let field = fields.first(where: { $0.name == f.field }) {
                    sql += " AND \(field.column) = ?"
                    binds.append(Self.filterValue(f.value, field.type))
                } else {
                    guard !f.field.contains("\"") else { throw StoreError("no property filter can name \(f.field)") }
                    // json_extract gives JSON numbers as SQL numbers, strings as text, true/false as 1/0.
                    sql += " AND json_extract(\(Layer.extraColumn), ?) IN (?, ?)"
                    let number = Double(f.value).map(FieldValue.real) ?? (f.value == "true" ? .integer(1) : f.value == "false" ? .integer(0) : .text(f.value))
                    binds += [.text("$.\"\(f.field)\""), .text(f.value), number]
                }
            }
            let select = "SELECT \(Self.selectList(layer)) "
            if q.bbox == nil {
                // No geometry test: SQL counts and pages by itself.
                let count = try db.prepare("SELECT count(*) " + sql)
                try count.bind(binds)
                _ = try count.step()
                let total = Int(count.int64(0))
                let s = try db.prepare(select + sql + " ORDER BY id LIMIT ? OFFSET ?")
                try s.bind(binds + [.integer(Int64(q.limit)), .integer(Int64(q.offset))])
                while try s.step() { try body(layer.feature(Self.storedRow(s, fields.count))) }
                return total
            }
            let s = try db.prepare(select + sql + " ORDER BY id")
            try s.bind(binds)
            var matched = 0
            while try s.step() {
                let row = try Self.storedRow(s, fields.count)
                guard row.geometry.intersects(q.bbox!) else { continue }
                matched += 1
                if matched > q.offset && matched <= q.offset + q.limit { try body(layer.feature(row)) }
            }
            return matched
        }
    }

    /// A filter's text as the column's type compares it ('12' matches the integer 12; true matches 1).
    static func filterValue(_ text: String, _ type: FieldType) -> FieldValue {
        switch type {
        case .integer: Int64(text).map(FieldValue.integer) ?? .text(text)
        case .real: Double(text).map(FieldValue.real) ?? .text(text)
        case .boolean: text == "true" || text == "1" ? .integer(1) : text == "false" || text == "0" ? .integer(0) : .text(text)
        case .timestamp: Timestamp(iso8601: text).map { .text($0.text) } ?? .text(text)
        default: .text(text)
        }
    }

    /// Whether any feature of `layer` has an extra attribute of this name.
    public func hasExtraAttribute(_ layer: Layer, _ name: String) throws -> Bool {
        guard !name.contains("\"") else { return false }
        return try read { db in
            try db.scalar("SELECT EXISTS (SELECT 1 FROM \(layer.table) WHERE json_type(\(Layer.extraColumn), ?) IS NOT NULL)", [.text("$.\"\(name)\"")]) == .integer(1)
        }
    }

    /// One feature by id, or nil.
    public func feature(_ layer: Layer, id: Int64) throws -> Feature? {
        try read { db in
            var found: Feature?
            try forEachRow(db, layer: layer, bbox: nil, ids: [id]) { found = layer.feature($0) }
            return found
        }
    }
}
