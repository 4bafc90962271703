import Foundation
import GeoGrid

/// What each fuzz target does with one input: read it with the parser under test and check what must hold of
/// whatever the parser accepts. A crash (a trap, an overflow, an address error under ASan) is a finding; so is
/// an invariant that does not hold, returned as a sentence. The libFuzzer executables (Fuzz/Targets, built with
/// `scripts/fuzz.sh`) trap on it; `FuzzRegressionTests` runs every committed corpus and regression file
/// through the same function in the ordinary suite.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// JSON and GeoJSON: the byte parser, the streaming FeatureCollection reader, feature decoding.
    case geojson
    /// SpatiaLite's geometry BLOB.
    case spatialiteBlob = "spatialite-blob"
    /// CSV import with lon/lat or WKT columns.
    case csv
    /// Well-known text.
    case wkt
    /// CQL2 text and JSON filters, and their evaluation against a feature.
    case cql2
    /// Query strings: form decoding and every typed reader the routes use.
    case query

    public func run(_ bytes: [UInt8]) -> String? {
        switch self {
        case .geojson: return Self.geojson(bytes)
        case .spatialiteBlob: return Self.blob(bytes)
        case .csv: return Self.csv(bytes)
        case .wkt: return Self.wkt(String(decoding: bytes, as: UTF8.self))
        case .cql2: return Self.cql2(bytes)
        case .query: return Self.query(String(decoding: bytes, as: UTF8.self))
        }
    }

    static func positionCount(_ g: Geometry) -> Int {
        var n = 0
        _ = g.mapPositions { n += 1; return $0 }
        return n
    }

    /// A feature we accepted, written back as GeoJSON, must read again as the same kind of geometry with as many
    /// positions, and the properties written must read back equal.
    static func rewrites(_ f: Feature) -> String? {
        _ = f.geometry.structuralProblem()
        var out: [UInt8] = []
        GeoJSONWriter().feature(f, into: &out)
        let again: Feature
        do { again = try GeoJSON.feature(from: try JSONParser.parse(out)) } catch {
            return "an accepted feature written back does not read: \(error): \(String(decoding: out.prefix(300), as: UTF8.self))"
        }
        if again.geometry.kind != f.geometry.kind || positionCount(again.geometry) != positionCount(f.geometry) {
            return "an accepted \(f.geometry.kind) written back reads as \(again.geometry.kind) of \(positionCount(again.geometry)) positions"
        }
        return nil
    }

    static func geojson(_ bytes: [UInt8]) -> String? {
        if let value = try? JSONParser.parse(bytes) {
            var out: [UInt8] = []
            GeoJSONWriter.value(value, into: &out)
            guard let again = try? JSONParser.parse(out) else { return "accepted JSON written back does not parse: \(String(decoding: out.prefix(300), as: UTF8.self))" }
            if again != value { return "accepted JSON written back reads differently: \(String(decoding: out.prefix(300), as: UTF8.self))" }
            if let f = try? GeoJSON.feature(from: value), let problem = rewrites(f) { return problem }
        }
        var found: String?
        for format in [SourceFormat.geojson, .geojsonseq] {
            try? FeatureReader(format: format).read(InputBytes(data: Data(bytes), name: "fuzz")) { record in
                if found == nil, case .success(let f) = record.result { found = rewrites(f) }
            }
        }
        return found
    }

    static func blob(_ bytes: [UInt8]) -> String? {
        guard let (g, srid) = try? bytes.withUnsafeBytes({ raw in try SpatiaLiteBlob.decode(raw) }) else { return nil }
        _ = g.structuralProblem()
        let written = SpatiaLiteBlob.encode(g, srid: srid)
        guard let (again, sridAgain) = try? written.withUnsafeBytes({ raw in try SpatiaLiteBlob.decode(raw) }) else {
            return "a decoded \(g.kind) encoded again does not decode"
        }
        if again != g || sridAgain != srid { return "a decoded \(g.kind) encoded again decodes differently" }
        return nil
    }

    static func csv(_ bytes: [UInt8]) -> String? {
        var found: String?
        for delimiter in [UInt8(ascii: ","), UInt8(ascii: ";")] {
            var reader = FeatureReader(format: .csv)
            reader.csvOptions.delimiter = delimiter
            try? reader.read(InputBytes(data: Data(bytes), name: "fuzz.csv")) { record in
                if found == nil, case .success(let f) = record.result { found = rewrites(f) }
            }
        }
        return found
    }

    /// Accepted WKT must survive both of the store's own encodings: the BLOB it is stored as, and GeoJSON.
    static func wkt(_ text: String) -> String? {
        guard let (g, _) = try? WKT.parse(text) else { return nil }
        guard let (again, _) = try? SpatiaLiteBlob.encode(g).withUnsafeBytes({ raw in try SpatiaLiteBlob.decode(raw) }), again == g else {
            return "accepted WKT does not survive the store's BLOB: \(text.prefix(200))"
        }
        return rewrites(Feature(geometry: g))
    }

    /// A sample building for filters to be evaluated against.
    static let building = Feature(id: .int(1), geometry: .polygon([[Position(24.9, 60.1), Position(24.91, 60.1), Position(24.91, 60.11), Position(24.9, 60.1)]]),
        properties: [("name", .string("Kallio 7")), ("floors", .number(5)), ("households", .number(40)), ("population", .number(90)),
            ("community_code", .string("110101001001")), ("FLOW", .number(1060))])

    static func cql2(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        for parse in [CQL2TextParser.parse, CQL2JSONParser.parse] {
            guard var filter = try? parse(text) else { continue }
            _ = filter.properties
            if filter.geometryProblem == nil {
                _ = CQL2Evaluator(filter, layer: .buildings).matches(building)
                filter = filter.mapGeometries { $0.mapPositions { Position($0.lat, $0.lon) } }
                _ = CQL2Evaluator(filter, layer: .incidents).matches(building)
            }
        }
        return nil
    }

    static func query(_ text: String) -> String? {
        let q = QueryParameters(query: text)
        _ = q.emptyName
        for name in ["radius", "k", "lon", "lat", "z", "limit", "offset", "floor"] {
            _ = try? q.number(name, in: 0...5000)
            _ = try? q.integer(name, in: 1...1000)
        }
        _ = q.list("type")
        _ = try? q.point()
        if let (a, b) = try? q.bbox(ordered: true), a.lon > b.lon || a.lat > b.lat { return "an ordered bbox came back with its minimum after its maximum" }
        if let d = q.string("datetime"), let (from, to) = try? QueryParameters.dayInterval(d), let from, let to, from > to {
            return "a datetime interval came back with its start after its end"
        }
        if let query = try? IncidentQuery(q, maxLimit: 100_000) {
            if !(1...100_000).contains(query.limit) || query.offset < 0 { return "a case list's limit or offset came back outside its range" }
            if query.lights.contains(where: { !Incident.lights.contains($0) }) { return "a case list accepted a light that is not one" }
        }
        return nil
    }
}
