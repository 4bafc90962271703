import Foundation
import GeoGrid
import Hummingbird

/// A request's query parameters, read with a problem+json 400 for anything malformed.
struct Parameters {
    let values: [String: String]

    /// Read as HTML forms and most clients (requests, OWSLib, curl --data-urlencode) encode them
    /// (application/x-www-form-urlencoded): `+` is a space, then percent-decoding. Hummingbird's own
    /// `queryParameters` keeps `+`, which would break a CQL2 filter such as `floors+>+5`.
    init(_ request: Request) {
        var values: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            values[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        self.values = values
    }

    /// The first parameter (by name) given with no value, if any.
    var emptyName: String? { values.filter { $0.value.isEmpty }.keys.sorted().first }

    func string(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }

    func number(_ name: String, in range: ClosedRange<Double>? = nil) throws -> Double? {
        guard let text = string(name) else { return nil }
        guard let v = Double(text), v.isFinite else { throw Problem.badRequest("\(name) must be a number, not \"\(text)\"") }
        if let range, !range.contains(v) { throw Problem.badRequest("\(name) must be within \(Self.show(range.lowerBound))…\(Self.show(range.upperBound)), not \(text)") }
        return v
    }

    /// 180 rather than 180.0.
    static func show(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }

    func required(_ name: String, in range: ClosedRange<Double>? = nil) throws -> Double {
        guard let v = try number(name, in: range) else { throw Problem.badRequest("\(name) is required") }
        return v
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let v = Int(text), range.contains(v) else {
            throw Problem.badRequest("\(name) must be a whole number within \(range.lowerBound)…\(range.upperBound), not \"\(text)\"")
        }
        return v
    }

    /// A comma-separated list (`type=hydrant,aed`), or nil when absent.
    func list(_ name: String) -> Set<String>? {
        string(name).map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) }
    }

    /// The point of a query: lon and lat in the system `crs` names (wgs84 by default; gcj02, bd09).
    func point() throws -> (given: Position, crs: MapCRS) {
        let crs: MapCRS
        if let name = string("crs") {
            guard let c = MapCRS(rawValue: name.lowercased()) else {
                throw Problem.badRequest("crs must be one of \(MapCRS.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(name)\"")
            }
            crs = c
        } else {
            crs = .wgs84
        }
        return (Position(try required("lon", in: -180...180), try required("lat", in: -90...90)), crs)
    }
}

extension Response {
    /// A JSON body with its content type.
    static func json(_ bytes: [UInt8], contentType: String = "application/json", status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ value: JSONValue) -> Response {
        var bytes: [UInt8] = []
        GeoJSONWriter.value(value, into: &bytes)
        return .json(bytes)
    }
}

extension Request {
    /// The body as JSON (application/json or application/geo+json, or no Content-Type): 415 for another type,
    /// 413 beyond `limit` bytes, 400 when it does not parse.
    func json(upTo limit: Int) async throws -> JSONValue {
        if let type = headers[.contentType]?.lowercased(), !(type.hasPrefix("application/geo+json") || type.hasPrefix("application/json")) {
            throw Problem(.unsupportedMediaType, "send JSON (application/json or application/geo+json), not \(type)")
        }
        let bytes = try await body(upTo: limit)
        do { return try JSONParser.parse(bytes) } catch { throw Problem.badRequest("the body is not JSON: \(error)") }
    }
}

/// A query parameter given with no value (`?limit=`, `?bbox`) is a 400 naming it, on every route: an empty
/// value is a client's mistake, never a way to ask for the default (leaving the parameter out is).
struct ParameterMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Open311 answers in its own error format (JSON or XML), so it checks there.
        guard !request.uri.path.hasPrefix("/open311/") else { return try await next(request, context) }
        let parameters = Parameters(request)
        if let name = parameters.emptyName { throw Problem.badRequest("\(name) is empty: give it a value or leave it out") }
        return try await next(request, context)
    }
}
