import Foundation
import GeoGrid
import Hummingbird

/// The dispatch queries over HTTP: the JSON of `geo-cli locate/nearest/around --json`, from the same indexes.
struct QueryAPI {
    let store: GeoStore
    let auth: Auth
    static let maxK = 1_000
    static let maxRadius = 5_000.0

    func add(to router: Router<BasicRequestContext>) {
        router.get("locate") { request, _ in try locate(Parameters(request), auth.reader(request)) }
        router.get("nearest") { request, _ in try nearest(Parameters(request), auth.reader(request)) }
        router.get("around") { request, _ in try around(Parameters(request), auth.reader(request)) }
        router.get("search") { request, _ in _ = try auth.reader(request); return try search(Parameters(request)) }
    }
    static let maxSearch = 50

    /// What a dispatcher types: a case number, a grid's or area's code or name, an address, a road's name.
    func search(_ q: Parameters) throws -> Response {
        for name in q.values.keys where !["q", "kind", "limit"].contains(name) {
            throw Problem.badRequest("unknown parameter \(name) (parameters: kind, limit, q)")
        }
        guard let text = q.string("q") else { throw Problem.badRequest("q is required: a case number, a code, a name or an address") }
        guard text.count <= 200 else { throw Problem.badRequest("q is at most 200 characters") }
        var kinds = Set(SearchHit.Kind.allCases)
        if q.values["kind"] != nil && (q.list("kind") ?? []).isEmpty { throw Problem.badRequest("kind must name at least one kind") }
        if let asked = q.list("kind") {
            let known = SearchHit.Kind.allCases.map(\.rawValue)
            kinds = Set(try asked.map { k in
                guard let kind = SearchHit.Kind(rawValue: k) else { throw Problem.badRequest("kind must be among \(known.joined(separator: ", ")), not \(k)") }
                return kind
            })
        }
        let limit = try q.integer("limit", in: 1...Self.maxSearch) ?? 10
        let hits = try store.search(text, kinds: kinds, limit: limit)
        func n(_ v: Double) -> JSONValue { .number((v * 1e7).rounded() / 1e7) }
        return .json(.object([
            ("query", .string(text)),
            ("results", .array(hits.map { h in
                .object([
                    ("kind", .string(h.kind.rawValue)), ("id", .number(Double(h.id))), ("label", .string(h.label)),
                    ("detail", h.detail.map(JSONValue.string) ?? .null), ("grid_code", h.gridCode.map(JSONValue.string) ?? .null),
                    ("lon", n(h.point.lon)), ("lat", n(h.point.lat)),
                    ("bbox", .array([n(h.bbox.minX), n(h.bbox.minY), n(h.bbox.maxX), n(h.bbox.maxY)])),
                    ("match", .string(["exact", "prefix", "word", "inside"][h.match])),
                ])
            })),
        ]))
    }

    /// Whether the caller sees personal fields at `p` (the grid worker's phone): within its scope.
    func personal(_ token: Token?, at p: Position) throws -> Bool {
        guard token != nil else { return false }
        return Access.seesPersonal(token, codes: try store.locate(p).areaCodes)
    }

    /// `at=YYYY-MM-DD`: the grids in force on that day (a case of last year in last year's grid).
    func locate(_ q: Parameters, _ token: Token?) throws -> Response {
        let (given, crs) = try q.point()
        let p = crs.toWGS84(given)
        var result = try store.locate(p)
        if let at = q.string("at") {
            guard Layer.isISODate(at) else { throw Problem.badRequest("at must be a date YYYY-MM-DD, not \(at)") }
            result = try store.locator(on: at).locate(p)
        }
        return .json(QueryJSON.locate(result, at: given, personal: token != nil && Access.seesPersonal(token, codes: result.areaCodes)))
    }

    func nearest(_ q: Parameters, _ token: Token?) throws -> Response {
        let (given, crs) = try q.point()
        let k = try q.integer("k", in: 1...Self.maxK) ?? 5
        let within = try q.number("within", in: 0...20_000_000)
        var layer = Layer.resources
        if let name = q.string("layer") {
            guard let found = store.layers.first(where: { $0.name == name }), found.geometry == .point else {
                throw Problem.badRequest("layer must be a point layer: \(store.layers.filter { $0.geometry == .point }.map(\.name).joined(separator: ", ")), not \(name)")
            }
            layer = found
        }
        let hits = try store.pointIndex(layer).nearest(crs.toWGS84(given), k: k, types: q.list("type"), statuses: q.list("status"), within: within).map { h in
            var h = h
            h.resource.position = crs.fromWGS84(h.resource.position)
            return h
        }
        return .json(QueryJSON.nearest(hits, at: given, layer: layer, personal: try personal(token, at: crs.toWGS84(given))))
    }

    func around(_ q: Parameters, _ token: Token?) throws -> Response {
        let (given, crs) = try q.point()
        let radius = try q.number("radius", in: 1...Self.maxRadius) ?? 200
        var out: [UInt8] = []
        let p = crs.toWGS84(given)
        QueryJSON.around(try store.around(p, radius: radius), crs: crs, given: given, personal: try personal(token, at: p), into: &out)
        return .json(out, contentType: "application/geo+json")
    }
}
