import ArgumentParser
import Foundation
import GeoGrid

/// `geo-cli token create|list|revoke` and `geo-cli audit`.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Bearer tokens for the server's writes (and, with --public-read none, its reads).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a token and print it alone on standard output, once: the store keeps only its SHA-256.",
            discussion: """
                Roles: viewer (reads), dispatcher (resources' status), planner (grids, communities, buildings, roads and \
                defined layers), admin (everything). A scope (a district, street or community code; repeatable) limits \
                writes, and what dispatchers and planners see of personal fields, to features inside those areas.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "viewer, dispatcher, planner or admin.") var role: Role
        @Option(name: .customLong("scope"), help: "A district, street or community code (repeatable).") var scopes: [String] = []
        @Option(help: "A name for the audit and token list.") var name: String?
        @Option(help: "Last day (YYYY-MM-DD) or moment (ISO 8601) the token works.") var expires: String?

        func run() throws {
            let store = try GeoStore(path: self.store.db)
            let (token, secret) = try store.createToken(role: role, scopes: scopes, name: name, expires: expires)
            print(secret)
            printErr("token \(token.id) (\(token.role.rawValue)\(token.scopes.isEmpty ? "" : ", scope \(token.scopes.joined(separator: ","))")): send it as Authorization: Bearer <token>")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let tokens = try GeoStore(path: self.store.db).tokens()
            if json {
                printJSON(.array(tokens.map { t in
                    .object([("id", .number(Double(t.id))), ("name", t.name.map(JSONValue.string) ?? .null), ("role", .string(t.role.rawValue)),
                        ("scopes", .array(t.scopes.map(JSONValue.string))), ("created", .string(t.created)),
                        ("expires", t.expires.map(JSONValue.string) ?? .null), ("revoked", t.revoked.map(JSONValue.string) ?? .null)])
                }))
                return
            }
            printTable(["id", "name", "role", "scope", "created", "expires", "revoked"], tokens.map {
                [String($0.id), $0.name ?? "", $0.role.rawValue, $0.scopes.joined(separator: ","), $0.created, $0.expires ?? "", $0.revoked ?? ""]
            })
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id; it stops working at once.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The token's id (geo-cli token list).") var id: Int64

        func run() throws {
            try GeoStore(path: self.store.db).revokeToken(id: id)
            print("revoked token \(id)")
        }
    }
}

extension Role: ExpressibleByArgument {}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Every write to the store, oldest first, as JSON lines: who, when, what, the feature before and after.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Only this collection.") var collection: String?
    @Option(help: "Only this feature id.") var feature: Int64?
    @Option(help: "Only this token id.") var token: Int64?
    @Option(help: "Only from this moment (ISO 8601).") var since: String?
    @Option(help: "At most this many.") var limit = 100_000

    func run() throws {
        for entry in try GeoStore(path: self.store.db).audit(collection: collection, featureID: feature, tokenID: token, since: since, limit: limit) {
            var out: [UInt8] = []
            GeoJSONWriter.value(entry, into: &out)
            print(String(decoding: out, as: UTF8.self))
        }
    }
}
