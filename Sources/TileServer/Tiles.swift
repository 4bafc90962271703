import Foundation
import GeoGrid
import HTTPTypes
import Hummingbird

/// `GET|HEAD /tiles/{layers}/{z}/{x}/{y}.mvt`: Mapbox Vector Tiles from the store's indexes, cached.
struct TileAPI {
    let store: GeoStore
    let cache: TileCache
    let metrics: ServerMetrics
    static let contentType = "application/vnd.mapbox-vector-tile"
    /// Tiles change when the store does (a case reported, a boundary applied), and an emergency map must not
    /// show yesterday's: clients keep tiles but revalidate each use, which costs a 304 by ETag when nothing changed.
    static let cacheControl = "public, no-cache"

    func add(to router: Router<BasicRequestContext>) {
        router.get("tiles/:layers/:z/:x/:y") { request, context in try await tile(request, context) }
        router.head("tiles/:layers/:z/:x/:y") { request, context in try await tile(request, context) }
    }

    /// The layers named in a path segment: collection ids joined by commas, each once.
    static func layers(_ text: String, of store: GeoStore) throws -> [Layer] {
        var out: [Layer] = []
        let all = store.layers
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let layer = all.first(where: { $0.name == name }) else {
                throw Problem(.notFound, "no layer \"\(name)\"; layers: \(all.map(\.name).joined(separator: ", "))")
            }
            if !out.contains(layer) { out.append(layer) }
        }
        return out
    }

    func tile(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let p = context.parameters
        let rawLayers = p.get("layers") ?? ""
        let layers = try Self.layers(rawLayers.removingPercentEncoding ?? rawLayers, of: store)
        guard let last = p.get("y"), last.hasSuffix(".mvt") else { throw Problem(.notFound, "tiles end in .mvt: /tiles/{layers}/{z}/{x}/{y}.mvt") }
        let yText = String(last.dropLast(4))
        guard let z = Int(p.get("z") ?? ""), let x = Int(p.get("x") ?? ""), let y = Int(yText) else {
            throw Problem.badRequest("z, x and y must be whole numbers")
        }
        guard let tile = TileID(z: z, x: x, y: y) else {
            throw Problem.badRequest("no tile \(z)/\(x)/\(y): z must be 0…\(TileID.maxZoom) and x, y within 0…\(z >= 0 && z <= TileID.maxZoom ? (1 << z) - 1 : 0)")
        }
        let q = Parameters(request)
        for name in q.values.keys where name != "at" && name != "cases" { throw Problem.badRequest("unknown parameter \(name) (parameters: at, cases)") }
        // The map of cases is the open ones (coloured by light); `cases=all` adds the closed, for a map of history.
        var closedCases = false
        if let cases = q.string("cases") {
            guard cases == "open" || cases == "all" else { throw Problem.badRequest("cases must be open or all, not \(cases)") }
            closedCases = cases == "all" && layers.contains(.incidents)
        }
        // Grids are shown as in force on a day: today, or `at` (a date) for the map of another day.
        var day: String?
        if layers.contains(where: { $0.rules == .grids }) {
            day = store.today
            if let at = q.string("at") {
                guard Layer.isISODate(at) else { throw Problem.badRequest("at must be a date YYYY-MM-DD, not \(at)") }
                day = at
            }
        } else if let at = q.string("at"), !Layer.isISODate(at) {
            throw Problem.badRequest("at must be a date YYYY-MM-DD, not \(at)")
        }
        let key = TileCache.Key(layers: layers, tile: tile, day: day, closedCases: closedCases)
        let store = self.store, showClosed = closedCases, shownDay = day
        let (entry, cached) = try await cache.entry(key) {
            let bytes = try VectorTiles.encode(tile, layers: layers) { layer, box in
                let found = try store.shapeIndex(layer).entries(intersecting: box)
                if layer == .incidents && !showClosed, let open = layer.fields.firstIndex(where: { $0.name == "open" }) {
                    return found.filter { $0.values[open] == .integer(1) }
                }
                // Grids closed by a plan (or not yet in force) keep their rows for as-of answers, not for the map.
                guard layer.rules == .grids, let shownDay else { return found }
                let inForce = layer.inForce(on: shownDay)
                return found.filter { inForce($0.values) }
            }
            return TileCache.Entry(bytes: bytes)
        }
        if cached {
            metrics.count("geogrid_tile_cache_hits_total", help: "Tiles answered from the tile cache.")
        } else {
            metrics.count("geogrid_tile_cache_misses_total", help: "Tiles encoded (or joined while encoded) because the cache did not hold them.")
        }
        var headers: HTTPFields = [.cacheControl: Self.cacheControl, .eTag: entry.etag]
        headers.append(HTTPField(name: .vary, value: "Accept-Encoding"))
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == entry.etag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        if entry.bytes.isEmpty { return Response(status: .noContent, headers: headers) }
        headers[.contentType] = Self.contentType
        let gzip = Self.acceptsGzip(request.headers[.acceptEncoding])
        let body = gzip ? entry.gzipped : entry.bytes
        if gzip { headers[.contentEncoding] = "gzip" }
        headers[.contentLength] = String(body.count)
        if request.method == .head { return Response(status: .ok, headers: headers, body: .init()) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Whether an Accept-Encoding header allows gzip (and does not refuse it with q=0).
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for item in header.lowercased().split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first == "gzip" || parts.first == "*" else { continue }
            let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return q > 0
        }
        return false
    }
}
