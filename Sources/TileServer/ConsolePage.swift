import Foundation
import GeoGrid
import Hummingbird

/// `GET /console`: the console of dispatchers, planners and grid workers, from the files in `Console/` (its page,
/// JavaScript, CSS and the strings of each language), and `GET /auth/token`, who the caller's token is, so that the
/// console offers only what its role may do. Only the files named here are served: no path reaches the disk.
struct ConsolePage {
    let auth: Auth

    /// Each file's path under `Console/` and its content type.
    static let files: [String: String] = [
        "console.js": "text/javascript; charset=utf-8",
        "console-edit.js": "text/javascript; charset=utf-8",
        "console.css": "text/css; charset=utf-8",
        "i18n/en.json": "application/json",
        "i18n/zh-CN.json": "application/json",
    ]

    func add(to router: Router<BasicRequestContext>) {
        router.get("console") { _, _ in try Self.file("index.html", type: "text/html; charset=utf-8") }
        for (path, type) in Self.files {
            router.get("console/\(path)") { _, _ in try Self.file(path, type: type) }
        }
        router.get("auth/token") { request, _ in
            guard let token = try auth.token(request) else { throw Auth.unauthorized("send Authorization: Bearer <token> to learn who it is") }
            return Response.json(.object([("id", .number(Double(token.id))), ("name", token.name.map(JSONValue.string) ?? .null), ("label", .string(token.label)), ("role", .string(token.role.rawValue)),
                ("scopes", .array(token.scopes.map(JSONValue.string)))]))
        }
    }

    static func file(_ path: String, type: String) throws -> Response {
        guard let url = Bundle.module.resourceURL?.appendingPathComponent("Console/\(path)"), let data = FileManager.default.contents(atPath: url.path) else {
            throw Problem(.notFound, "the console's file \(path) is missing from this build")
        }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
