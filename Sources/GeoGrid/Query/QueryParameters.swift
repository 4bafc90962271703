import Foundation

/// A query parameter that does not read: the one sentence a client is shown (a 400 over HTTP).
public struct ParameterError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A request's query string, read the way HTML forms and most clients (requests, OWSLib, curl
/// --data-urlencode) encode it (application/x-www-form-urlencoded): `+` is a space, then percent-decoding.
/// Its typed readers refuse anything malformed with a `ParameterError` naming the parameter. Kept free of
/// HTTP types so the parsers can be fuzzed on their own (Fuzz/).
public struct QueryParameters: Sendable {
    public let values: [String: String]

    public init(query: String) {
        var values: [String: String] = [:]
        func decode(_ s: Substring) -> String {
            let spaced = s.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            values[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        self.values = values
    }

    /// The first parameter (by name) given with no value, if any.
    public var emptyName: String? { values.filter { $0.value.isEmpty }.keys.sorted().first }

    public func string(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }

    public func number(_ name: String, in range: ClosedRange<Double>? = nil) throws -> Double? {
        guard let text = string(name) else { return nil }
        guard let v = Double(text), v.isFinite else { throw ParameterError("\(name) must be a number, not \"\(text)\"") }
        if let range, !range.contains(v) { throw ParameterError("\(name) must be within \(Self.show(range.lowerBound))…\(Self.show(range.upperBound)), not \(text)") }
        return v
    }

    /// 180 rather than 180.0.
    public static func show(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }

    public func required(_ name: String, in range: ClosedRange<Double>? = nil) throws -> Double {
        guard let v = try number(name, in: range) else { throw ParameterError("\(name) is required") }
        return v
    }

    public func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let v = Int(text), range.contains(v) else {
            throw ParameterError("\(name) must be a whole number within \(range.lowerBound)…\(range.upperBound), not \"\(text)\"")
        }
        return v
    }

    /// A comma-separated list (`type=hydrant,aed`), or nil when absent.
    public func list(_ name: String) -> Set<String>? {
        string(name).map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) }
    }

    /// The point of a query: lon and lat in the system `crs` names (wgs84 by default; gcj02, bd09).
    public func point() throws -> (given: Position, crs: MapCRS) {
        let crs: MapCRS
        if let name = string("crs") {
            guard let c = MapCRS(rawValue: name.lowercased()) else {
                throw ParameterError("crs must be one of \(MapCRS.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(name)\"")
            }
            crs = c
        } else {
            crs = .wgs84
        }
        return (Position(try required("lon", in: -180...180), try required("lat", in: -90...90)), crs)
    }

    /// `bbox` as four finite numbers (its two corners as given, in whatever order and CRS the caller reads them);
    /// nil when absent. `ordered` also requires the minimum before the maximum.
    public func bbox(_ name: String = "bbox", axes: String = "minx,miny,maxx,maxy", ordered: Bool = false) throws -> (Position, Position)? {
        guard let text = string(name) else { return nil }
        let n = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard n.count == 4, let a = n[0], let b = n[1], let c = n[2], let d = n[3], [a, b, c, d].allSatisfy(\.isFinite) else {
            throw ParameterError("\(name) must be four numbers: \(axes)")
        }
        if ordered, a > c || b > d { throw ParameterError("\(name) must have its minimum before its maximum: \(axes)") }
        return (Position(a, b), Position(c, d))
    }

    /// OGC `datetime` (a date or date-time, or an interval `a/b` with `..` for open) as an interval of days
    /// (`yyyy-mm-dd`, nil for open).
    public static func dayInterval(_ text: String) throws -> (from: String?, to: String?) {
        func day(_ s: String) throws -> String? {
            if s == ".." || s.isEmpty { return nil }
            let d = String(s.prefix(10))
            guard Layer.isISODate(d), s.count == 10 || Timestamp(iso8601: s) != nil else {
                throw ParameterError("datetime must be a date or date-time (RFC 3339), or an interval of them with .. for open, not \(text)")
            }
            return d
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { throw ParameterError("datetime has at most one /, not \(text)") }
        let (a, b) = parts.count == 1 ? (try day(parts[0]), try day(parts[0])) : (try day(parts[0]), try day(parts[1]))
        if let a, let b, a > b { throw ParameterError("datetime's start \(a) is after its end \(b)") }
        return (a, b)
    }
}

extension IncidentQuery {
    /// The parameters a list of cases takes, checked: an unknown one is refused, as OGC items' are.
    public static let parameterNames: Set<String> = ["stage", "light", "grid", "community", "street", "district", "area", "department", "category",
        "channel", "open", "since", "until", "datetime", "bbox", "limit", "offset", "f"]

    public init(_ q: QueryParameters, known extra: Set<String> = [], maxLimit: Int) throws {
        let known = Self.parameterNames
        for name in q.values.keys.sorted() where !known.contains(name) && !extra.contains(name) {
            throw ParameterError("unknown parameter \(name) (parameters: \(known.union(extra).sorted().joined(separator: ", ")))")
        }
        self.init()
        func list(_ name: String) -> [String] { (q.list(name) ?? []).sorted() }
        stages = list("stage")
        lights = list("light")
        for l in lights where !Incident.lights.contains(l) { throw ParameterError("light must be green, yellow or red, not \(l)") }
        grids = list("grid")
        communities = list("community")
        areas = list("street") + list("district") + list("area")
        for a in areas where !(a.allSatisfy { $0.isASCII && $0.isNumber } && !a.isEmpty) { throw ParameterError("an area is a code (digits), not \(a)") }
        departments = list("department")
        categories = list("category")
        channels = list("channel")
        if let text = q.string("open") {
            guard text == "true" || text == "false" else { throw ParameterError("open must be true or false") }
            open = text == "true"
        }
        func time(_ text: String, _ name: String) throws -> Timestamp {
            guard let t = Timestamp(iso8601: text) else { throw ParameterError("\(name) must be an ISO 8601 date or time, not \(text)") }
            return t
        }
        if let s = q.string("since") { since = try time(s, "since") }
        if let u = q.string("until") { until = try time(u, "until") }
        if let d = q.string("datetime") {
            // An OGC interval: a/b, ../b, a/.. (reported_at); one instant alone is not an interval of cases.
            let parts = d.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { throw ParameterError("datetime must be an interval start/end (.. for open), not \(d)") }
            if !["", ".."].contains(parts[0]) { since = try time(parts[0], "datetime") }
            if !["", ".."].contains(parts[1]) { until = try time(parts[1], "datetime") }
        }
        if let (a, b) = try q.bbox(axes: "minlon,minlat,maxlon,maxlat", ordered: true) {
            bbox = BBox(minX: a.lon, minY: a.lat, maxX: b.lon, maxY: b.lat)
        }
        limit = try q.integer("limit", in: 1...maxLimit) ?? 100
        offset = try q.integer("offset", in: 0...Int(Int32.max)) ?? 0
    }
}
