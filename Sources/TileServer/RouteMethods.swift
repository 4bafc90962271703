import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The methods each route takes, from the router once every route is added, so that a request whose path is
/// a route's but whose method is not gets 405 with `Allow` (RFC 9110 §15.5.6) rather than 404.
final class RouteMethods: Sendable {
    private struct Route: Sendable {
        /// Literal segments, or nil for one that captures (`:id`, `{y}.mvt`) and so matches any segment.
        let segments: [String?]
        /// A final `**`: the rest of the path, whatever it is.
        let rest: Bool
        var methods: Set<String>
    }

    private let routes = Mutex<[Route]>([])

    /// Takes the router's routes (HEAD wherever GET is: Hummingbird answers it).
    func load(_ descriptions: [Router<BasicRequestContext>.RouteDescription]) {
        var byPath: [String: Route] = [:]
        for d in descriptions {
            let path = d.path.description
            var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            let rest = parts.last == "**"
            if rest { parts.removeLast() }
            let segments: [String?] = parts.map { $0.contains(":") || $0.contains("{") || $0.contains("*") ? nil : $0 }
            var route = byPath[path] ?? Route(segments: segments, rest: rest, methods: [])
            route.methods.insert(d.method.rawValue)
            if d.method == .get { route.methods.insert(HTTPRequest.Method.head.rawValue) }
            byPath[path] = route
        }
        let sorted = byPath.values.sorted { ($0.segments.count, $0.rest ? 1 : 0) < ($1.segments.count, $1.rest ? 1 : 0) }
        routes.withLock { $0 = sorted }
    }

    /// Every method some route of this path takes; empty when no route has the path.
    func allowed(_ path: String) -> Set<String> {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.withLock { routes in
            var out = Set<String>()
            for r in routes {
                guard r.rest ? parts.count >= r.segments.count : parts.count == r.segments.count else { continue }
                if zip(r.segments, parts).allSatisfy({ $0 == nil || $0! == $1 }) { out.formUnion(r.methods) }
            }
            return out
        }
    }

    /// The order the `Allow` header lists them in.
    static let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
}

/// 405 with `Allow` for a path that routes know under other methods; every other answer as it is.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.allowed(request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else { throw error }
            let list = RouteMethods.order.filter(allowed.contains) + allowed.subtracting(RouteMethods.order).sorted()
            var problem = Problem(.methodNotAllowed, "\(request.method.rawValue) is not a method of \(request.uri.path) (it takes \(list.joined(separator: ", ")))")
            problem.headers[.allow] = list.joined(separator: ", ")
            throw problem
        }
    }
}
