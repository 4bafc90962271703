import Foundation
import GeoGrid
import Hummingbird

/// A request's query parameters, read by the core's `QueryParameters` (whose `ParameterError`s answer 400).
typealias Parameters = QueryParameters

extension QueryParameters {
    /// Hummingbird's own `queryParameters` keeps `+`, which would break a CQL2 filter such as `floors+>+5`.
    init(_ request: Request) { self.init(query: request.uri.query ?? "") }
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
