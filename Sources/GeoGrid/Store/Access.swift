import Crypto
import Foundation

/// What a token may do. Every write route asks `Access` with the token, the layer and the feature.
public enum Role: String, Sendable, CaseIterable, Comparable {
    /// Reads, with personal fields hidden.
    case viewer
    /// A grid worker on a phone: reports cases and closes at source the matters settled on the spot, within
    /// the scope of their grid; reads like a viewer.
    case gridWorker = "grid_worker"
    /// Resources' status (and, with incidents, cases); sees personal fields within its scope.
    case dispatcher
    /// Grids, communities, buildings, roads and the city's own layers; sees personal fields within its scope.
    case planner
    /// Everything: layers and tokens included.
    case admin

    public static func < (a: Role, b: Role) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// A bearer token as the store keeps it: only a SHA-256 of its secret.
public struct Token: Sendable, Equatable {
    public var id: Int64
    public var name: String?
    public var role: Role
    /// District, street, community or grid codes limiting writes (and personal fields) to those areas; empty: all.
    public var scopes: [String]
    public var created: String
    public var expires: String?
    public var revoked: String?

    /// A name for logs and the audit: the token's name, or its id. Never the secret.
    public var label: String { name ?? "token \(id)" }
}

public struct AccessError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case unauthenticated, forbidden }
    public var kind: Kind
    public var description: String
}

extension GeoStore {
    /// Makes a token and returns it with its secret, which is shown once and never stored: the store keeps
    /// its SHA-256. Secrets are `gg_` and 43 base64url characters of 32 random bytes.
    public func createToken(role: Role, scopes: [String] = [], name: String? = nil, expires: String? = nil) throws -> (Token, String) {
        for scope in scopes where !(scope.allSatisfy { $0.isASCII && $0.isNumber } && [6, 9, 12, 14, 15].contains(scope.count)) {
            throw StoreError("scope '\(scope)' must be a district (6 digits), street (9), community (12) or grid (15, or the older 14) code")
        }
        if let expires, !Layer.isISODate(expires) && Timestamp(iso8601: expires) == nil { throw StoreError("--expires must be a date (YYYY-MM-DD) or a timestamp") }
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let secret = "gg_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        var scopesJSON: [UInt8] = []
        GeoJSONWriter.value(.array(scopes.map(JSONValue.string)), into: &scopesJSON)
        let created = Timestamp.now.text
        let id = try write { db -> Int64 in
            let s = try db.prepare("INSERT INTO geogrid_tokens (name, role, scopes, hash, created, expires) VALUES (?, ?, ?, ?, ?, ?)")
            try s.bind([name.map(FieldValue.text) ?? .null, .text(role.rawValue), .text(String(decoding: scopesJSON, as: UTF8.self)),
                .text(Self.tokenHash(secret)), .text(created), expires.map(FieldValue.text) ?? .null])
            try s.step()
            return db.lastInsertRowID
        }
        return (Token(id: id, name: name, role: role, scopes: scopes, created: created, expires: expires), secret)
    }

    /// Every token, revoked and expired ones included, by id.
    public func tokens() throws -> [Token] {
        try read { db in
            let s = try db.prepare("SELECT id, name, role, scopes, created, expires, revoked FROM geogrid_tokens ORDER BY id")
            var out: [Token] = []
            while try s.step() { out.append(try Self.token(s)) }
            return out
        }
    }

    /// Revokes a token at once (its row stays, for the audit's sake).
    public func revokeToken(id: Int64) throws {
        try write { db in
            let s = try db.prepare("UPDATE geogrid_tokens SET revoked = ? WHERE id = ? AND revoked IS NULL")
            try s.bind([.text(Timestamp.now.text), .integer(id)])
            try s.step()
            guard db.changes == 1 else { throw StoreError("no token \(id) that is not revoked already") }
        }
    }

    /// The token whose secret this is, when it is neither revoked nor expired; nil otherwise.
    public func authenticate(_ secret: String) throws -> Token? {
        guard secret.hasPrefix("gg_"), secret.utf8.count < 200 else { return nil }
        let token: Token? = try read { db in
            let s = try db.cached("SELECT id, name, role, scopes, created, expires, revoked FROM geogrid_tokens WHERE hash = ?")
            defer { s.reset() }
            try s.bind([.text(Self.tokenHash(secret))])
            return try s.step() ? try Self.token(s) : nil
        }
        guard let token, token.revoked == nil else { return nil }
        if let expires = token.expires {
            // A date expires at the end of that day (UTC); a timestamp at that moment.
            let end = Layer.isISODate(expires) ? Timestamp(iso8601: expires).map { $0.seconds + 86_400 } : Timestamp(iso8601: expires)?.seconds
            if let end, Timestamp.now.seconds >= end { return nil }
        }
        return token
    }

    /// The SHA-256 of a secret, as stored (and as the server keys its rate limits by).
    public static func tokenHash(_ secret: String) -> String {
        Hex.string(SHA256.hash(data: Data(secret.utf8)))
    }

    static func token(_ s: Statement) throws -> Token {
        let scopes = (try? JSONParser.parse(s.text(3) ?? "[]"))?.arrayValue?.compactMap(\.stringValue) ?? []
        return Token(id: s.int64(0), name: s.text(1), role: Role(rawValue: s.text(2) ?? "") ?? .viewer, scopes: scopes, created: s.text(4) ?? "",
            expires: s.text(5), revoked: s.text(6))
    }
}

/// Who may do what: one decision of the core, which every adapter (HTTP, and later others) calls.
public enum Access {
    /// Whether `role` may write to `layer` at all (a dispatcher only resources, and of them only the status).
    public static func mayWrite(_ role: Role, _ layer: Layer) -> Bool {
        switch role {
        // Cases change through the workflow only (IncidentDesk), never by feature edits, whoever asks.
        case _ where layer.rules == .incidents: false
        case .admin: true
        case .planner: layer.rules != .resources
        case .dispatcher: layer.rules == .resources
        case .viewer, .gridWorker: false
        }
    }

    /// The area codes a feature lies in, finest first: a grid's or community's own code, else the codes of the
    /// areas its representative point falls in (`locate`).
    public static func areaCodes(_ layer: Layer, _ feature: Feature, locator: Locator, geos: GEOSContext) -> [String] {
        switch layer.rules {
        case .communities, .grids:
            if case .string(let code)? = feature[property: "code"] { return [code] }
        default: break
        }
        guard let p = geos.representativePoint(feature.geometry) else { return [] }
        return locator.locate(p).areaCodes
    }

    /// Whether a token's scope covers a feature in these areas (no scope covers everything).
    public static func inScope(_ token: Token, codes: [String]) -> Bool {
        token.scopes.isEmpty || token.scopes.contains { scope in codes.contains { $0.hasPrefix(scope) } }
    }

    /// Whether the caller sees personal fields of a feature in these areas: dispatchers, planners and admins
    /// within their scope; anonymous callers and viewers never.
    public static func seesPersonal(_ token: Token?, codes: [String]) -> Bool {
        guard let token, token.role >= .dispatcher else { return false }
        return inScope(token, codes: codes)
    }

    /// What removes from each feature of `layer` the personal fields the caller may not see; nil when the
    /// caller sees everything (or the layer has no personal field). The function owns a GEOS context: make it
    /// on the thread that calls it.
    public static func redactor(_ token: Token?, _ layer: Layer, locator: @autoclosure () throws -> Locator) rethrows -> ((Feature) -> Feature)? {
        let personal = Set(layer.personalFields.map(\.name))
        guard !personal.isEmpty else { return nil }
        let strip = { (f: Feature) -> Feature in
            var f = f
            f.properties.removeAll { personal.contains($0.0) }
            return f
        }
        guard let token, token.role >= .dispatcher else { return strip }
        if token.scopes.isEmpty { return nil }
        let locator = try locator()
        let geos = GEOSContext()
        return { f in seesPersonal(token, codes: areaCodes(layer, f, locator: locator, geos: geos)) ? f : strip(f) }
    }
}
