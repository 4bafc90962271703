import Foundation
import GeoGrid
import HTTPTypes
import Hummingbird

/// Bearer tokens at the edge: the request's token (401 for one that is unknown, revoked or expired), and, with
/// `--public-read none`, no reads without one. The decisions themselves are the core's (`Access`).
struct Auth: Sendable {
    let store: GeoStore
    let publicRead: Bool

    /// The caller's token; nil for an anonymous request. A token that is sent but not valid is a 401, never
    /// silently anonymous. The secret is never logged: only the token's id and name travel further.
    func token(_ request: Request) throws -> Token? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.unauthorized("Authorization must be Bearer <token>")
        }
        guard let token = try store.authenticate(String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
            throw Self.unauthorized("the token is not known, or it was revoked or has expired")
        }
        return token
    }

    /// The token of a read: with public reads off, anonymous reads are 401.
    func reader(_ request: Request) throws -> Token? {
        let token = try token(request)
        if token == nil && !publicRead { throw Self.unauthorized("this server does not answer anonymous reads: send Authorization: Bearer <token>") }
        return token
    }

    /// The token of a write: an anonymous write is a 401 before its body is read, whatever the body holds.
    func writer(_ request: Request) throws -> Token {
        guard let token = try token(request) else { throw Self.unauthorized("writes need a token: send Authorization: Bearer <token>") }
        return token
    }

    /// A 401 problem with the WWW-Authenticate challenge RFC 6750 asks for.
    static func unauthorized(_ detail: String) -> Problem {
        var p = Problem(.unauthorized, detail)
        p.headers = [.wwwAuthenticate: "Bearer realm=\"GeoGrid\""]
        return p
    }
}

/// Guards every route with `--public-read none`: only /health answers anonymous callers.
struct PublicReadMiddleware<Context: RequestContext>: RouterMiddleware {
    let auth: Auth

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if !auth.publicRead && request.method != .options && request.uri.path != "/health" { _ = try auth.reader(request) }
        return try await next(request, context)
    }
}
