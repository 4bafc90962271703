import Crypto
import Foundation

/// One edit of a layer's features (OGC API Features Part 4).
public enum EditRequest: Sendable {
    /// A new feature; the store assigns its id.
    case create(Feature)
    /// The whole feature replaced.
    case replace(id: Int64, Feature, ifMatch: String?)
    /// A JSON Merge Patch (RFC 7396) of the feature's `properties` (null removes a member), and a geometry that
    /// replaces the feature's when given.
    case patch(id: Int64, properties: JSONValue?, geometry: Geometry?, ifMatch: String?)
    case delete(id: Int64, ifMatch: String?)
}

/// Why an edit was refused; nothing of the request was written, and nothing audited.
public struct EditError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case unauthenticated, forbidden, notFound, preconditionFailed, invalid, conflict }
    public var kind: Kind
    /// The feature of the request it concerns (in a FeatureCollection), when there are several.
    public var index: Int?
    public var message: String
    /// For a transition the workflow does not allow (`conflict`): the case's stage and what it allows.
    public var stage: String?
    public var allowed: [String]?

    public init(kind: Kind, index: Int? = nil, message: String) {
        self.kind = kind
        self.index = index
        self.message = message
    }
    public var description: String { message }
}

public struct EditOutcome: Sendable {
    public var id: Int64
    /// The feature as stored now (nil after a delete), and its ETag.
    public var feature: Feature?
    public var etag: String?
}

extension GeoStore {
    /// The strong ETag of a stored feature: a digest of its GeoJSON as stored, so it changes with every edit.
    public static func etag(_ feature: Feature) -> String {
        var bytes: [UInt8] = []
        GeoJSONWriter(precision: 15).feature(feature, into: &bytes)
        let digest = SHA256.hash(data: bytes)
        return "\"" + Hex.string(digest.prefix(16)) + "\""
    }

    /// Applies `requests` to `layer` as one transaction, on behalf of `token`: every check an import makes
    /// (structure, validity by GEOS, field types and ranges, codes, duplicates), the role and scope of the
    /// token for the feature before and after, and If-Match against the feature's ETag; then each change
    /// with its audit row (the feature before and after as GeoJSON). The first refusal rolls everything back.
    /// Indexes and tiles follow at commit, like every write through the store; the commit is synced.
    public func edit(_ layer: Layer, _ requests: [EditRequest], by token: Token?) throws -> [EditOutcome] {
        guard let token else { throw EditError(kind: .unauthenticated, message: "writes need a token: Authorization: Bearer …") }
        if layer.rules == .incidents {
            throw EditError(kind: .forbidden, message: "cases change through the workflow (POST /incidents, POST /incidents/{id}/transitions), not by feature edits of incidents")
        }
        guard Access.mayWrite(token.role, layer) else {
            throw EditError(kind: .forbidden, message: "a \(token.role.rawValue) token may not write to \(layer.name)")
        }
        let locator = try self.locator()
        // Grouped with the edits arriving at the same moment into one synced commit (see GroupCommit); this
        // request's changes are one savepoint of it, all or nothing.
        return try groupCommit.run(self) { db in
            let geos = GEOSContext()
            let audit = try db.prepare("""
                INSERT INTO geogrid_audit (time, token_id, token_name, collection, feature_id, operation, before, after)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insert = try db.prepare(Importer.insertSQL(layer))
            let update = try db.prepare(
                "UPDATE \(layer.table) SET \((layer.fields.map { "\($0.column) = ?" } + ["\(Layer.extraColumn) = ?", "geom = ?"]).joined(separator: ", ")) WHERE id = ?")
            let delete = try db.prepare("DELETE FROM \(layer.table) WHERE id = ?")
            let now = Timestamp.now.text
            var outcomes: [EditOutcome] = []
            for (index, request) in requests.enumerated() {
                let at = requests.count > 1 ? index : nil
                func fail(_ kind: EditError.Kind, _ message: String) -> EditError {
                    EditError(kind: kind, index: at, message: (at.map { "feature \($0): " } ?? "") + message)
                }
                // The feature as it stands, for replace, patch and delete.
                var old: Feature?
                var id: Int64?
                switch request {
                case .create: break
                case .replace(let i, _, let ifMatch), .patch(let i, _, _, let ifMatch), .delete(let i, let ifMatch):
                    id = i
                    try self.forEachRow(db, layer: layer, bbox: nil, ids: [i]) { old = layer.feature($0) }
                    guard let old else { throw fail(.notFound, "no feature \(i) in \(layer.name)") }
                    if let ifMatch, !Self.matches(ifMatch, Self.etag(old)) {
                        throw fail(.preconditionFailed, "feature \(i) changed since its ETag \(ifMatch) was read (now \(Self.etag(old)))")
                    }
                }
                if let old, !Access.inScope(token, codes: Access.areaCodes(layer, old, locator: locator, geos: geos)) {
                    throw fail(.forbidden, "feature \(id!) lies outside the token's scope (\(token.scopes.joined(separator: ", ")))")
                }
                // The feature as it is to be.
                var new: Feature?
                switch request {
                case .create(let f): new = f
                case .replace(_, let f, _): new = f
                case .patch(_, let properties, let geometry, _):
                    var f = old!
                    if let properties {
                        guard case .object = properties else { throw fail(.invalid, "properties in a merge patch must be an object") }
                        if case .object(let merged) = Self.mergeValue(.object(f.properties), properties) { f.properties = merged }
                    }
                    if let geometry { f.geometry = geometry }
                    new = f
                case .delete: new = nil
                }
                var row: Row?
                if var f = new {
                    f.id = nil  // ids are the store's: a body's id does not choose the row
                    do {
                        var r = try layer.row(for: f)
                        if let reason = geos.invalidityReason(r.geometry) { throw FeatureProblem("invalid geometry: \(reason)") }
                        r.id = id
                        row = r
                        f = layer.feature(StoredRow(id: id ?? 0, values: r.values, extra: r.extraColumnValue.text, geometry: r.geometry))
                        new = f
                    } catch let p as FeatureProblem {
                        throw fail(.invalid, p.reason)
                    }
                    if !Access.inScope(token, codes: Access.areaCodes(layer, f, locator: locator, geos: geos)) {
                        throw fail(.forbidden, "the feature would lie outside the token's scope (\(token.scopes.joined(separator: ", ")))")
                    }
                }
                if token.role == .dispatcher {
                    // Dispatchers change a resource's status, nothing else of it.
                    guard let old, let new, Self.sameExcept("status", old, new) else {
                        throw fail(.forbidden, "a dispatcher token may change a resource's status only")
                    }
                }
                let operation: String
                do {
                    switch request {
                    case .create:
                        try Importer.bind(row!, SpatiaLiteBlob.encode(row!.geometry), to: insert)
                        try insert.bind(.null, at: 1)
                        defer { insert.reset() }
                        try insert.step()
                        id = db.lastInsertRowID
                        operation = "create"
                    case .replace, .patch:
                        update.reset()
                        for (i, v) in row!.values.enumerated() { try update.bind(v, at: Int32(i + 1)) }
                        try update.bind(row!.extraColumnValue, at: Int32(layer.fields.count + 1))
                        try update.bind(blob: SpatiaLiteBlob.encode(row!.geometry), at: Int32(layer.fields.count + 2))
                        try update.bind(.integer(id!), at: Int32(layer.fields.count + 3))
                        try update.step()
                        if case .replace = request { operation = "replace" } else { operation = "update" }
                    case .delete:
                        delete.reset()
                        try delete.bind([.integer(id!)])
                        try delete.step()
                        operation = "delete"
                    }
                } catch let e as SQLiteError where e.isConstraint {
                    throw fail(.invalid, Importer.explain(e))
                }
                if var f = new { f.id = .int(id!); new = f }
                func text(_ f: Feature?) -> FieldValue {
                    guard let f else { return .null }
                    var out: [UInt8] = []
                    GeoJSONWriter(precision: 15).feature(f, into: &out)
                    return .text(String(decoding: out, as: UTF8.self))
                }
                audit.reset()
                try audit.bind([.text(now), .integer(token.id), token.name.map(FieldValue.text) ?? .null, .text(layer.name), .integer(id!),
                    .text(operation), text(old), text(new)])
                try audit.step()
                outcomes.append(EditOutcome(id: id!, feature: new, etag: new.map(Self.etag)))
            }
            return outcomes
        }
    }

    /// Whether an If-Match header names this ETag (or `*`).
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { t in
            let t = t.trimmingCharacters(in: .whitespaces)
            return t == "*" || t == etag
        }
    }

    /// RFC 7396 §2 on one value: objects merge recursively, anything else replaces.
    static func mergeValue(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var members: [(String, JSONValue)] = []
        if case .object(let m) = target { members = m }
        for (k, v) in changes {
            let i = members.firstIndex { $0.0 == k }
            if v == .null {
                if let i { members.remove(at: i) }
            } else if let i {
                members[i].1 = mergeValue(members[i].1, v)
            } else {
                members.append((k, mergeValue(.null, v)))
            }
        }
        return .object(members)
    }

    /// Whether two versions of a feature differ at most in one property.
    static func sameExcept(_ name: String, _ a: Feature, _ b: Feature) -> Bool {
        a.geometry == b.geometry && JSONValue.object(a.properties.filter { $0.0 != name }) == JSONValue.object(b.properties.filter { $0.0 != name })
    }

    /// The audit, newest last: every write with the feature before and after.
    public func audit(collection: String? = nil, featureID: Int64? = nil, tokenID: Int64? = nil, since: String? = nil, limit: Int = 1000) throws -> [JSONValue] {
        try read { db in
            var sql = "SELECT id, time, token_id, token_name, collection, feature_id, operation, before, after FROM geogrid_audit WHERE 1"
            var binds: [FieldValue] = []
            if let collection { sql += " AND collection = ?"; binds.append(.text(collection)) }
            if let featureID { sql += " AND feature_id = ?"; binds.append(.integer(featureID)) }
            if let tokenID { sql += " AND token_id = ?"; binds.append(.integer(tokenID)) }
            if let since { sql += " AND time >= ?"; binds.append(.text(since)) }
            sql += " ORDER BY id LIMIT ?"
            binds.append(.integer(Int64(limit)))
            let s = try db.prepare(sql)
            try s.bind(binds)
            var out: [JSONValue] = []
            while try s.step() {
                func json(_ i: Int32) -> JSONValue { s.text(i).flatMap { try? JSONParser.parse($0) } ?? .null }
                out.append(.object([
                    ("id", .number(Double(s.int64(0)))), ("time", s.value(1).json), ("token_id", s.value(2).json), ("token_name", s.value(3).json),
                    ("collection", s.value(4).json), ("feature_id", s.value(5).json), ("operation", s.value(6).json), ("before", json(7)), ("after", json(8)),
                ]))
            }
            return out
        }
    }
}
