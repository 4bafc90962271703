import Foundation
import GeoGrid
import Hummingbird

/// `GET /tiles/{layers}.json` (TileJSON 3.0.0) and `GET /style.json` (a MapLibre style of every layer).
struct TileJSONAPI {
    let store: GeoStore
    static let attribution = "© GeoGrid contributors; demo data © OpenStreetMap contributors (ODbL)"

    func add(to router: Router<BasicRequestContext>) {
        router.get("tiles/:layers") { request, context in
            guard let name = context.parameters.get("layers"), name.hasSuffix(".json") else {
                throw Problem(.notFound, "no such resource: \(request.uri.path)")
            }
            return try tileJSON(layers: TileAPI.layers(String(name.dropLast(5)), of: store), base: Self.base(of: request))
        }
        router.get("style.json") { request, _ in try style(base: Self.base(of: request)) }
    }

    /// The URL clients reached us by (Host header; https behind a proxy that says so).
    static func base(of request: Request) -> String {
        let scheme = request.headers[.init("X-Forwarded-Proto")!] == "https" ? "https" : "http"
        return "\(scheme)://\(request.head.authority ?? "127.0.0.1")"
    }

    func tileJSON(layers: [Layer], base: String) throws -> Response {
        // From the in-memory layer indexes: no scan of the store per request.
        var bounds = BBox.empty
        for layer in layers { if let e = try store.shapeIndex(layer).extent { bounds.extend(e) } }
        if bounds.isEmpty { bounds = BBox(minX: -180, minY: -85.051_128_78, maxX: 180, maxY: 85.051_128_78) }
        let specs = layers.map(TileLayerSpec.of)
        let minZoom = specs.map(\.minZoom).min() ?? 0, maxZoom = specs.map(\.maxZoom).max() ?? 16
        let vectorLayers: [JSONValue] = specs.map { spec in
            .object([
                ("id", .string(spec.layer.rawValue)), ("description", .string(spec.layer.title)),
                ("minzoom", .number(Double(spec.minZoom))), ("maxzoom", .number(Double(spec.maxZoom))),
                ("fields", .object(spec.fieldTypes.map { ($0.0, .string($0.1)) })),
            ])
        }
        let path = layers.map(\.rawValue).joined(separator: ",")
        return .json(.object([
            ("tilejson", .string("3.0.0")), ("name", .string("GeoGrid \(path)")), ("scheme", .string("xyz")),
            ("tiles", .array([.string("\(base)/tiles/\(path)/{z}/{x}/{y}.mvt")])),
            ("minzoom", .number(Double(minZoom))), ("maxzoom", .number(Double(maxZoom))),
            ("bounds", .numbers([bounds.minX, bounds.minY, bounds.maxX, bounds.maxY])),
            ("center", .numbers([(bounds.minX + bounds.maxX) / 2, (bounds.minY + bounds.maxY) / 2, Double(max(minZoom, 14))])),
            ("attribution", .string(Self.attribution)), ("vector_layers", .array(vectorLayers)),
        ]))
    }

    /// Grids outlined (and filled faintly so a click finds them) and labelled by code, communities beneath and
    /// named, buildings shaded by floors, roads by class, resources as circles coloured by type. Labels use the
    /// glyphs this server makes (`/fonts`).
    func style(base: String) throws -> Response {
        func layer(_ id: String, _ type: String, _ source: Layer?, minzoom: Int? = nil, paint: [(String, JSONValue)], layout: [(String, JSONValue)] = [],
            filter: JSONValue? = nil
        ) -> JSONValue {
            var members: [(String, JSONValue)] = [("id", .string(id)), ("type", .string(type))]
            if let source { members += [("source", .string("geogrid")), ("source-layer", .string(source.rawValue))] }
            if let minzoom { members.append(("minzoom", .number(Double(minzoom)))) }
            if let filter { members.append(("filter", filter)) }
            if !layout.isEmpty { members.append(("layout", .object(layout))) }
            members.append(("paint", .object(paint)))
            return .object(members)
        }
        func s(_ v: String) -> JSONValue { .string(v) }
        func n(_ v: Double) -> JSONValue { .number(v) }
        let get = { (field: String) -> JSONValue in .array([s("get"), s(field)]) }
        let typeColours: [(String, String)] = [
            ("hydrant", "#d7191c"), ("fire_station", "#b2182b"), ("hospital", "#2c7bb6"), ("aed", "#1a9641"), ("shelter", "#7b3294"),
            ("police", "#253494"), ("supply_depot", "#a6611a"),
        ]
        var typeMatch: [JSONValue] = [s("match"), get("type")]
        for (t, c) in typeColours { typeMatch += [s(t), s(c)] }
        typeMatch.append(s("#636363"))
        var layers: [JSONValue] = [
            layer("background", "background", nil, paint: [("background-color", s("#f4f1ea"))]),
            layer("communities-fill", "fill", .communities, paint: [("fill-color", s("#e8e2d0")), ("fill-opacity", n(0.6))],
                filter: .array([s("=="), get("level"), s("community")])),
            layer("buildings", "fill", .buildings, minzoom: 13, paint: [
                ("fill-color", .array([s("interpolate"), .array([s("linear")]), .array([s("coalesce"), get("floors"), n(1)]),
                    n(1), s("#d9d0c1"), n(4), s("#b8a58a"), n(8), s("#8c7355"), n(16), s("#5a4632")])),
                ("fill-outline-color", s("#7a6a55")),
            ]),
            layer("roads", "line", .roads, minzoom: 10, paint: [
                ("line-color", .array([s("match"), get("class"), s("primary"), s("#e8a33d"), s("secondary"), s("#f2c46d"), s("#ffffff")])),
                ("line-width", .array([s("interpolate"), .array([s("linear")]), .array([s("zoom")]), n(12), n(0.5), n(17), n(4)])),
            ]),
            layer("grids-fill", "fill", .grids, minzoom: 11, paint: [("fill-color", s("#3182bd")), ("fill-opacity", n(0.05))]),
            layer("grids-outline", "line", .grids, minzoom: 11, paint: [("line-color", s("#08519c")), ("line-width", n(1.5))]),
            layer("community-outline", "line", .communities, minzoom: 8, paint: [("line-color", s("#54278f")), ("line-width", n(2.5)),
                ("line-dasharray", .numbers([3, 2]))], filter: .array([s("=="), get("level"), s("community")])),
            layer("grids-label", "symbol", .grids, minzoom: 14, paint: [
                ("text-color", s("#08306b")), ("text-halo-color", s("#ffffff")), ("text-halo-width", n(1.5)),
            ], layout: [
                ("text-field", get("code")), ("text-font", .array([s("DejaVu Sans Bold")])), ("text-size", n(11)),
                ("symbol-placement", s("point")), ("text-allow-overlap", .bool(false)),
            ]),
            layer("community-label", "symbol", .communities, minzoom: 12, paint: [
                ("text-color", s("#3f007d")), ("text-halo-color", s("#ffffff")), ("text-halo-width", n(2)),
            ], layout: [("text-field", get("name")), ("text-font", .array([s("DejaVu Sans")])), ("text-size", n(13))],
                filter: .array([s("=="), get("level"), s("community")])),
            layer("resources", "circle", .resources, minzoom: 11, paint: [
                ("circle-color", .array(typeMatch)), ("circle-radius", .array([s("interpolate"), .array([s("linear")]), .array([s("zoom")]), n(12), n(2), n(17), n(7)])),
                // Out of service: a red ring and faded, so a commander does not count on it.
                ("circle-stroke-color", .array([s("match"), get("status"), s("out_of_service"), s("#d7191c"), s("#ffffff")])),
                ("circle-stroke-width", .array([s("match"), get("status"), s("out_of_service"), n(2.5), n(1)])),
                ("circle-opacity", .array([s("match"), get("status"), s("out_of_service"), n(0.45), n(1)])),
            ]),
            // Cases on top, coloured by their light (grey once closed), urgent ones larger.
            layer("incidents", "circle", .incidents, minzoom: Layer.incidents.minZoom, paint: [
                ("circle-color", .array([s("match"), get("light"), s("green"), s("#1a9641"), s("yellow"), s("#f0b400"), s("red"), s("#d7191c"), s("#969696")])),
                ("circle-radius", .array([s("interpolate"), .array([s("linear")]), .array([s("zoom")]), n(10), n(3), n(17),
                    .array([s("match"), get("priority"), s("urgent"), n(11), n(8)])])),
                ("circle-stroke-color", s("#222222")), ("circle-stroke-width", n(1.2)),
            ]),
        ]
        // The city's own layers: a default look per geometry type, each in a colour of its own (from its name,
        // so a layer keeps its colour from one request to the next), beneath the resources.
        var defined: [JSONValue] = []
        for l in store.layers where !l.isBuiltIn {
            let palette = ["#e6550d", "#31a354", "#756bb1", "#636363", "#3182bd", "#de2d26", "#8c6d31", "#17becf"]
            let colour = palette[Int(l.name.utf8.reduce(UInt32(5381)) { ($0 &* 33) &+ UInt32($1) } % UInt32(palette.count))]
            switch l.geometry {
            case .point:
                defined.append(layer("\(l.name)-point", "circle", l, minzoom: l.minZoom, paint: [
                    ("circle-color", s(colour)), ("circle-radius", n(4)), ("circle-stroke-color", s("#ffffff")), ("circle-stroke-width", n(1)),
                ]))
            case .line:
                defined.append(layer("\(l.name)-line", "line", l, minzoom: l.minZoom, paint: [("line-color", s(colour)), ("line-width", n(2))]))
            case .polygon:
                defined.append(layer("\(l.name)-fill", "fill", l, minzoom: l.minZoom, paint: [("fill-color", s(colour)), ("fill-opacity", n(0.3))]))
                defined.append(layer("\(l.name)-outline", "line", l, minzoom: l.minZoom, paint: [("line-color", s(colour)), ("line-width", n(1))]))
            }
        }
        layers.insert(contentsOf: defined, at: layers.count - 2)
        let gridExtent = try store.shapeIndex(.grids).extent
        let center: [Double] = gridExtent.map { [($0.minX + $0.maxX) / 2, ($0.minY + $0.maxY) / 2] } ?? [0, 0]
        return .json(.object([
            ("version", n(8)), ("name", s("GeoGrid")), ("center", .numbers(center)), ("zoom", n(15)),
            ("glyphs", s("\(base)/fonts/{fontstack}/{range}.pbf")),
            ("sources", .object([("geogrid", .object([
                ("type", s("vector")), ("url", s("\(base)/tiles/\(store.layers.map(\.name).joined(separator: ",")).json")),
            ]))])),
            ("layers", .array(layers)),
        ]))
    }
}
