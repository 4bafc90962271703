import Foundation
import GeoGrid
import HTTPTypes
import Hummingbird

/// OGC API – Features Part 1 (Core, GeoJSON, OpenAPI 3.0) and Part 2 (CRS by reference) over the store's
/// layers: `/`, `/conformance`, `/api`, `/collections`, `/collections/{id}`, `/collections/{id}/items`,
/// `/collections/{id}/items/{featureId}`. Item pages are streamed from one read snapshot as they are read.
struct FeaturesAPI {
    let store: GeoStore
    let auth: Auth
    static let defaultLimit = 10
    static let maxLimit = 100_000
    static let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    /// The CRSs offered (Part 2): URI, PROJ name, whether its axis order is latitude first.
    static let crsList: [(uri: String, proj: String, latFirst: Bool)] = [
        (crs84, "OGC:CRS84", false),
        ("http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326", true),
        ("http://www.opengis.net/def/crs/EPSG/0/3857", "EPSG:3857", false),
        ("http://www.opengis.net/def/crs/EPSG/0/4490", "EPSG:4490", true),
    ]
    static let conformance = [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        // Part 3: CQL2 filters, text and JSON, with every spatial and temporal function; queryables.
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
        "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
        // Sorting and property selection, as the OGC drafts pygeoapi follows name them.
        "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
        "http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/properties",
        // Part 4 (draft): POST, PUT, PATCH (JSON Merge Patch), DELETE, with ETag / If-Match.
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
    ]

    func add(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in try landing(request) }
        router.get("conformance") { request, _ in
            try respond(request, .object([("conformsTo", .array(Self.conformance.map(JSONValue.string)))]), title: "Conformance")
        }
        router.get("api") { request, _ in
            var out: [UInt8] = []
            GeoJSONWriter.value(OpenAPIDocument.make(base: TileJSONAPI.base(of: request), layers: store.layers,
                codes: (try? store.incidentConfig()).map(OpenAPIDocument.Codes.init) ?? .init()), into: &out)
            return Response.json(out, contentType: "application/vnd.oai.openapi+json;version=3.0")
        }
        router.get("collections") { request, _ in
            let base = TileJSONAPI.base(of: request)
            let collections = try store.layers.map { try collection($0, base: base) }
            return try respond(request, .object([
                ("links", .array([link("\(base)/collections", "self", "application/json", "Collections")])),
                ("crs", .array(Self.crsList.map { .string($0.uri) })), ("collections", .array(collections)),
            ]), title: "Collections")
        }
        router.get("collections/:id") { request, context in
            let layer = try layer(context)
            return try respond(request, collection(layer, base: TileJSONAPI.base(of: request)), title: layer.title)
        }
        router.get("collections/:id/items") { request, context in try items(request, layer(context), auth.reader(request)) }
        router.get("collections/:id/queryables") { request, context in try queryables(request, layer(context)) }
        router.get("collections/:id/items/:featureId") { request, context in try item(request, context) }
    }

    /// The collection the path names, from the store's catalogue (a layer created a moment ago included).
    func layer(_ context: BasicRequestContext) throws -> Layer {
        let id = context.parameters.get("id") ?? ""
        guard let layer = store.layers.first(where: { $0.name == id }) else { throw Problem(.notFound, "no collection \"\(id)\"") }
        return layer
    }

    func link(_ href: String, _ rel: String, _ type: String, _ title: String) -> JSONValue {
        .object([("href", .string(href)), ("rel", .string(rel)), ("type", .string(type)), ("title", .string(title))])
    }

    func landing(_ request: Request) throws -> Response {
        let base = TileJSONAPI.base(of: request)
        return try respond(request, .object([
            ("title", .string("GeoGrid")),
            ("description", .string("Unit grids, communities, buildings, emergency resources and roads of one GeoGrid store.")),
            ("links", .array([
                link("\(base)/", "self", "application/json", "This document"),
                link("\(base)/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition"),
                link("\(base)/conformance", "conformance", "application/json", "Conformance classes"),
                link("\(base)/collections", "data", "application/json", "The collections"),
                link("\(base)/map", "alternate", "text/html", "The dispatch map"),
                link("\(base)/style.json", "describedby", "application/json", "MapLibre style of the vector tiles"),
            ])),
        ]), title: "GeoGrid")
    }

    /// A collection's description; its extent from the in-memory layer index (no scan of the store).
    func collection(_ layer: Layer, base: String) throws -> JSONValue {
        let id = layer.rawValue
        var extent: [(String, JSONValue)] = []
        if let e = try store.shapeIndex(layer).extent {
            extent = [("spatial", .object([("bbox", .array([.numbers([e.minX, e.minY, e.maxX, e.maxY])])), ("crs", .string(Self.crs84))]))]
        }
        return .object([
            ("id", .string(id)), ("title", .string(layer.title)), ("itemType", .string("feature")),
            ("extent", .object(extent)), ("crs", .array(Self.crsList.map { .string($0.uri) })), ("storageCrs", .string(Self.crs84)),
            ("links", .array([
                link("\(base)/collections/\(id)", "self", "application/json", layer.title),
                link("\(base)/collections/\(id)/items", "items", "application/geo+json", "Features"),
                link("\(base)/tiles/\(id).json", "describedby", "application/json", "Vector tiles (TileJSON)"),
            ])),
        ])
    }

    /// The `crs` (or `bbox-crs`) parameter as a CRS of the list; CRS84 when absent.
    static func crs(_ q: Parameters, _ name: String) throws -> (uri: String, proj: String, latFirst: Bool) {
        guard let given = q.string(name) else { return crsList[0] }
        guard let found = crsList.first(where: { $0.uri == given }) else {
            throw Problem.badRequest("\(name) must be one of \(crsList.map(\.uri).joined(separator: ", ")), not \(given)")
        }
        return found
    }

    func items(_ request: Request, _ layer: Layer, _ token: Token?) throws -> Response {
        let q = Parameters(request)
        let known: Set<String> = ["bbox", "bbox-crs", "limit", "offset", "crs", "f", "filter", "filter-lang", "filter-crs", "sortby", "properties", "datetime"]
        var query = FeatureQuery(layer: layer, limit: try q.integer("limit", in: 1...Self.maxLimit) ?? Self.defaultLimit)
        if let text = q.string("datetime") { query.inForce = try Self.dateInterval(text, layer) }
        query.offset = try q.integer("offset", in: 0...Int.max / 2) ?? 0
        // Any other parameter filters by a property: a field (`?community_code=…`) or an extra attribute
        // (`?FLOW=1060`), whose names a layer does not fix in advance.
        // A name that is neither a field nor held by any feature's extra attributes is a parameter the API does
        // not define: 400, as OGC API Features Part 1 requires (/req/core/query-param-unknown).
        for key in q.values.keys where !known.contains(key) && layer.field(named: key) == nil {
            guard !key.contains("\""), try store.hasExtraAttribute(layer, key) else {
                throw Problem.badRequest("unknown parameter \(key): not a property of \(layer.name) (fields: \(layer.fields.map(\.name).joined(separator: ", ")))")
            }
        }
        query.equals = q.values.filter { !known.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        query.filter = try filter(q, layer)
        if let text = q.string("sortby") {
            // `sortby=-floors,+name`: a minus sorts descending.
            for key in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !key.isEmpty {
                let ascending = !key.hasPrefix("-")
                let name = key.hasPrefix("-") || key.hasPrefix("+") ? String(key.dropFirst()) : key
                try checkProperty(name, layer, what: "sortby")
                query.sortBy.append((name, ascending))
            }
        }
        let selected = q.string("properties").map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        let outCRS = try Self.crs(q, "crs")
        let bboxCRS = try Self.crs(q, "bbox-crs")
        if var (a, b) = try q.bbox() {
            if bboxCRS.latFirst { (a, b) = (Position(a.lat, a.lon), Position(b.lat, b.lon)) }
            if bboxCRS.proj != "OGC:CRS84" && bboxCRS.proj != "EPSG:4326" && bboxCRS.proj != "EPSG:4490" {
                do {
                    let t = try ProjTransform(from: bboxCRS.proj)
                    (a, b) = (try t.transform(a), try t.transform(b))
                } catch { throw Problem.badRequest("bbox cannot be transformed from \(bboxCRS.uri): \(error)") }
            }
            guard a.lon <= b.lon, a.lat <= b.lat else { throw Problem.badRequest("bbox must have its minimum before its maximum") }
            query.bbox = BBox(minX: a.lon, minY: a.lat, maxX: b.lon, maxY: b.lat)
        }
        if try wantsHTML(request, q) { return try itemsHTML(query, layer, token) }
        let base = TileJSONAPI.base(of: request)
        let others = q.values.filter { $0.key != "offset" }.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.encode($0.value))" }
        let pageLink: @Sendable (Int, String) -> JSONValue = { offset, rel in
            .object([("href", .string("\(base)/collections/\(layer.rawValue)/items?\((others + ["offset=\(offset)"]).joined(separator: "&"))")),
                ("rel", .string(rel)), ("type", .string("application/geo+json")), ("title", .string(rel == "self" ? "This page" : "\(rel) page"))])
        }
        let store = self.store, page = query
        /// Writes the page, handing `emit` chunks of about 64 KiB (and the rest at the end, `last`); `emit`
        /// says false when the client is gone, and reading stops. Throws what reading the store threw.
        @Sendable func write(_ emit: (inout [UInt8], _ last: Bool) -> Bool) throws {
            var out: [UInt8] = []
            out.reserveCapacity(1 << 17)
            let writer = GeoJSONWriter()
            // Made on this thread (it owns a GEOS context). Should the locator fail, personal fields are left out
            // of every feature rather than shown.
            let redact: ((Feature) -> Feature)?
            do { redact = try Access.redactor(token, layer, locator: store.locator()) } catch {
                redact = Access.redactor(nil, layer, locator: Locator(grids: [], areas: []))
            }
            var transform: ProjTransform?
            if outCRS.proj == "EPSG:3857" { transform = try? ProjTransform(from: "OGC:CRS84", to: "EPSG:3857") }
            out.append(contentsOf: #"{"type":"FeatureCollection","features":["#.utf8)
            var returned = 0
            let matched = try store.features(page) { feature in
                var f = redact?(feature) ?? feature
                if let selected { f.properties.removeAll { !selected.contains($0.0) } }
                if let transform { f.geometry = try f.geometry.mapPositions { try transform.transform($0) } }
                if outCRS.latFirst { f.geometry = f.geometry.mapPositions { Position($0.lat, $0.lon) } }
                if returned > 0 { out.append(UInt8(ascii: ",")) }
                writer.feature(f, into: &out)
                returned += 1
                // A client gone: stop reading (the snapshot's transaction ends with it).
                if out.count >= 1 << 16 { guard emit(&out, false) else { throw CancellationError() } }
            }
            var links = [pageLink(page.offset, "self")]
            if page.offset + returned < matched { links.append(pageLink(page.offset + returned, "next")) }
            if page.offset > 0 { links.append(pageLink(max(0, page.offset - page.limit), "prev")) }
            out.append(contentsOf: "],\"numberMatched\":\(matched),\"numberReturned\":\(returned),\"links\":".utf8)
            GeoJSONWriter.value(.array(links), into: &out)
            out.append(contentsOf: ",\"timeStamp\":".utf8)
            GeoJSONWriter.value(.string(ISO8601DateFormatter().string(from: Date())), into: &out)
            out.append(UInt8(ascii: "}"))
            _ = emit(&out, true)
        }
        var response: Response
        if page.limit <= Self.unstreamedLimit {
            // A page of up to a thousand features is written here, whole: no thread and no hand-over per page,
            // and an error is still a problem answer rather than a cut document.
            var body = ByteBuffer()
            try write { chunk, _ in
                body.writeBytes(chunk)
                chunk.removeAll(keepingCapacity: true)
                return true
            }
            response = Response(status: .ok, headers: [.contentType: "application/geo+json"], body: .init(byteBuffer: body))
        } else {
            // Streamed: a producer thread reads the snapshot and hands ~64 KiB chunks over, waiting while the client lags.
            let room = DispatchSemaphore(value: 4)
            let stream = AsyncStream<ByteBuffer> { continuation in
                continuation.onTermination = { _ in room.signal() }
                Thread.detachNewThread {
                    do {
                        try write { chunk, _ in
                            room.wait()
                            defer { chunk.removeAll(keepingCapacity: true) }
                            if case .terminated = continuation.yield(ByteBuffer(bytes: chunk)) { return false }
                            return true
                        }
                    } catch {
                        // Headers are gone: the document ends unterminated, which a client sees as an error.
                        room.wait()
                        _ = continuation.yield(ByteBuffer(string: "\n"))
                    }
                    continuation.finish()
                }
            }
            response = Response(status: .ok, headers: [.contentType: "application/geo+json"], body: ResponseBody(asyncSequence: Signalling(base: stream, room: room)))
        }
        response.headers[HTTPField.Name("Content-Crs")!] = "<\(outCRS.uri)>"
        return response
    }

    /// OGC `datetime` as an interval of days, for a layer whose features are in force from `valid_from` to
    /// `valid_to` (the grids). A layer without them has no temporal information, so the parameter (checked all
    /// the same) selects nothing out (OGC API Features Part 1, /req/core/fc-time-response): nil.
    static func dateInterval(_ text: String, _ layer: Layer) throws -> (from: String?, to: String?)? {
        let interval = try QueryParameters.dayInterval(text)
        return layer.field(named: "valid_from") != nil && layer.field(named: "valid_to") != nil ? interval : nil
    }

    /// Pages up to this many features are written whole in the handler; larger ones are streamed.
    static let unstreamedLimit = 1_000

    /// `filter` in `filter-lang` (cql2-text by default, or cql2-json), its geometries in `filter-crs`; every property
    /// it names must be a queryable (400 otherwise, OGC API Features Part 3).
    func filter(_ q: Parameters, _ layer: Layer) throws -> CQL2? {
        let language = q.string("filter-lang") ?? "cql2-text"
        guard ["cql2-text", "cql2-json"].contains(language) else { throw Problem.badRequest("filter-lang must be cql2-text or cql2-json, not \(language)") }
        let crs = try Self.crs(q, "filter-crs")
        guard let text = q.string("filter") else { return nil }
        var filter: CQL2
        do {
            switch language {
            case "cql2-text": filter = try CQL2TextParser.parse(text)
            case "cql2-json": filter = try CQL2JSONParser.parse(text)
            case let other: throw Problem.badRequest("filter-lang must be cql2-text or cql2-json, not \(other)")
            }
        } catch let e as CQL2Error {
            throw Problem.badRequest(e.description)
        }
        for name in filter.properties { try checkProperty(name, layer, what: "filter") }
        if crs.latFirst { filter = filter.mapGeometries { $0.mapPositions { Position($0.lat, $0.lon) } } }
        if crs.proj == "EPSG:3857" {
            let t = try ProjTransform(from: "EPSG:3857")
            filter = try filter.mapGeometries { g in try g.mapPositions { try t.transform($0) } }
        }
        if let problem = filter.geometryProblem { throw Problem.badRequest("filter: \(problem)") }
        return filter
    }

    /// A property a filter or sort names: a field, the geometry, or an extra attribute some feature holds.
    func checkProperty(_ name: String, _ layer: Layer, what: String) throws {
        if layer.field(named: name) != nil || name == CQL2.geometryProperty { return }
        guard !name.contains("\""), !name.contains("'"), try store.hasExtraAttribute(layer, name) else {
            throw Problem.badRequest("\(what): \(name) is not a queryable of \(layer.name) (see /collections/\(layer.name)/queryables)")
        }
    }

    /// `/collections/{id}/queryables`: a JSON Schema of every field, the geometry, and the extra attributes the
    /// features hold (Part 3).
    func queryables(_ request: Request, _ layer: Layer) throws -> Response {
        func type(_ t: FieldType) -> [(String, JSONValue)] {
            switch t {
            case .text: [("type", .string("string"))]
            case .integer: [("type", .string("integer"))]
            case .real: [("type", .string("number"))]
            case .boolean: [("type", .string("boolean"))]
            case .date: [("type", .string("string")), ("format", .string("date"))]
            case .timestamp: [("type", .string("string")), ("format", .string("date-time"))]
            }
        }
        let geometry: String = switch layer.geometry {
        case .point: "https://geojson.org/schema/Point.json"
        case .line: "https://geojson.org/schema/MultiLineString.json"
        case .polygon: "https://geojson.org/schema/MultiPolygon.json"
        }
        var properties: [(String, JSONValue)] = [(CQL2.geometryProperty, .object([("title", .string("Geometry")), ("format", .string("geometry-any")),
            ("$ref", .string(geometry))]))]
        for f in layer.fields { properties.append((f.name, .object([("title", .string(f.summary.isEmpty ? f.name : f.summary))] + type(f.type)))) }
        for (name, types) in try store.extraAttributes(layer) where layer.field(named: name) == nil {
            let json: [String] = types.map { t in
                switch t {
                case "integer": "integer"
                case "real": "number"
                case "true", "false": "boolean"
                case "object": "object"
                case "array": "array"
                case "null": "null"
                default: "string"
                }
            }
            let distinct = Array(Set(json)).sorted()
            properties.append((name, .object([("title", .string(name)), ("type", distinct.count == 1 ? .string(distinct[0]) : .array(distinct.map(JSONValue.string)))])))
        }
        let base = TileJSONAPI.base(of: request)
        var out: [UInt8] = []
        GeoJSONWriter.value(.object([
            ("$schema", .string("https://json-schema.org/draft/2019-09/schema")), ("$id", .string("\(base)/collections/\(layer.name)/queryables")),
            ("type", .string("object")), ("title", .string(layer.title)), ("properties", .object(properties)), ("additionalProperties", .bool(false)),
        ]), into: &out)
        return .json(out, contentType: "application/schema+json")
    }

    func item(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let layer = try layer(context)
        let token = try auth.reader(request)
        let q = Parameters(request)
        guard let id = Int64(context.parameters.get("featureId") ?? "") else { throw Problem(.notFound, "no such feature") }
        let outCRS = try Self.crs(q, "crs")
        guard var feature = try store.feature(layer, id: id) else { throw Problem(.notFound, "no feature \(id) in \(layer.rawValue)") }
        // The ETag is the stored feature's (what If-Match compares), whatever the caller is shown of it.
        let etag = GeoStore.etag(feature)
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: [.eTag: etag])
        }
        if let redact = try Access.redactor(token, layer, locator: store.locator()) { feature = redact(feature) }
        if outCRS.proj == "EPSG:3857" {
            let t = try ProjTransform(from: "OGC:CRS84", to: "EPSG:3857")
            feature.geometry = try feature.geometry.mapPositions { try t.transform($0) }
        }
        if outCRS.latFirst { feature.geometry = feature.geometry.mapPositions { Position($0.lat, $0.lon) } }
        let base = TileJSONAPI.base(of: request)
        var out: [UInt8] = []
        GeoJSONWriter().feature(feature, into: &out)
        out.removeLast()  // the closing brace: links follow
        out.append(contentsOf: ",\"links\":".utf8)
        GeoJSONWriter.value(.array([
            link("\(base)/collections/\(layer.rawValue)/items/\(id)", "self", "application/geo+json", "This feature"),
            link("\(base)/collections/\(layer.rawValue)", "collection", "application/json", layer.title),
        ]), into: &out)
        out.append(UInt8(ascii: "}"))
        if try wantsHTML(request, q) { return html(layer.title + " \(id)", "<pre>" + Self.escape(String(decoding: out, as: UTF8.self)) + "</pre>") }
        var response = Response.json(out, contentType: "application/geo+json")
        response.headers[HTTPField.Name("Content-Crs")!] = "<\(outCRS.uri)>"
        response.headers[.eTag] = etag
        return response
    }

    // MARK: HTML for browsers

    func wantsHTML(_ request: Request, _ q: Parameters) throws -> Bool {
        if let f = q.string("f") {
            guard f == "json" || f == "html" else { throw Problem.badRequest("f must be json or html, not \(f)") }
            return f == "html"
        }
        let accept = request.headers[.accept] ?? ""
        return accept.contains("text/html")
    }

    func respond(_ request: Request, _ json: JSONValue, title: String) throws -> Response {
        let q = Parameters(request)
        if try wantsHTML(request, q) {
            var out: [UInt8] = []
            GeoJSONWriter.value(json, into: &out)
            var body = "<pre>" + Self.escape(String(decoding: out, as: UTF8.self)) + "</pre>"
            // Links as links.
            body = body.replacingOccurrences(of: #"&quot;href&quot;:&quot;([^&]*)&quot;"#, with: #"&quot;href&quot;:&quot;<a href="$1?f=html">$1</a>&quot;"#,
                options: .regularExpression)
            return html(title, body)
        }
        return .json(json)
    }

    func itemsHTML(_ query: FeatureQuery, _ layer: Layer, _ token: Token?) throws -> Response {
        var rows = ""
        let redact = try Access.redactor(token, layer, locator: store.locator())
        let matched = try store.features(query) { feature in
            let f = redact?(feature) ?? feature
            let props = f.properties.map { "\(Self.escape($0.0)): \(Self.escape($0.1.stringValue ?? $0.1.numberValue.map { String($0) } ?? ""))" }.joined(separator: ", ")
            if case .int(let id) = f.id { rows += "<tr><td><a href=\"items/\(id)?f=html\">\(id)</a></td><td>\(props)</td></tr>\n" }
        }
        return html(layer.title, "<p>\(matched) features match; showing \(min(query.limit, max(0, matched - query.offset))) from \(query.offset).</p><table>\(rows)</table>")
    }

    func html(_ title: String, _ body: String) -> Response {
        let page = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title)) — GeoGrid</title>
            <style>body{font:14px system-ui,sans-serif;margin:2em}pre{white-space:pre-wrap}td{padding:2px 8px;border-bottom:1px solid #eee}</style></head>
            <body><p><a href="/?f=html">GeoGrid</a> · <a href="/collections?f=html">collections</a> · <a href="/map">map</a></p><h1>\(Self.escape(title))</h1>\(body)</body></html>
            """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? s }
}

/// The chunks of a streamed page, letting the producer go on (a semaphore) as each is taken: at most a few
/// chunks wait in memory however slow the client.
struct Signalling: AsyncSequence, Sendable {
    let base: AsyncStream<ByteBuffer>
    let room: DispatchSemaphore

    struct AsyncIterator: AsyncIteratorProtocol {
        var iterator: AsyncStream<ByteBuffer>.AsyncIterator
        let room: DispatchSemaphore

        mutating func next() async -> ByteBuffer? {
            let chunk = await iterator.next()
            if chunk != nil { room.signal() }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(iterator: base.makeAsyncIterator(), room: room) }
}
