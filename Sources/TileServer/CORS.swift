import HTTPTypes
import Hummingbird

/// Cross-origin access for web maps on other origins: `*` allows any; otherwise only the listed origins are
/// echoed back (with `Vary: Origin`). Preflight requests (OPTIONS with Access-Control-Request-Method) are
/// answered here with 204.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowed: [String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !allowed.isEmpty, let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowAll = allowed.contains("*")
        guard allowAll || allowed.contains(origin) else { return try await next(request, context) }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            response = Response(status: .noContent)
            // The edits (OGC API Features Part 4) too: a web console on another origin sends them with a token.
            response.headers[.accessControlAllowMethods] = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
            response.headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? "*"
            response.headers[.accessControlMaxAge] = "86400"
        } else {
            response = try await next(request, context)
            response.headers[.accessControlExposeHeaders] = "ETag, Content-Crs, Link, Location"
        }
        response.headers[.accessControlAllowOrigin] = allowAll ? "*" : origin
        if !allowAll { response.headers.append(HTTPField(name: .vary, value: "Origin")) }
        return response
    }
}
