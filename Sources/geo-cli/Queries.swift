import ArgumentParser
import Foundation
import GeoGrid

/// A point given on the command line.
struct PointOptions: ParsableArguments {
    // `.unconditional`: a western or southern coordinate (`--lon -95.9`) is a value, not an option.
    @Option(parsing: .unconditional, help: "Longitude in degrees (in the system --crs names).") var lon: Double?
    @Option(parsing: .unconditional, help: "Latitude in degrees (in the system --crs names).") var lat: Double?
    @Option(help: "The coordinates' system: wgs84, gcj02 (Amap, Tencent) or bd09 (Baidu); answers come in the same system.")
    var crs: MapCRS = .wgs84

    /// The point as given (in `crs`).
    func position() throws -> Position {
        guard let lon, let lat else { throw ValidationError("give --lon and --lat") }
        guard lon.isFinite, lat.isFinite, (-180...180).contains(lon), (-90...90).contains(lat) else {
            throw ValidationError("--lon must be within -180…180 and --lat within -90…90")
        }
        return Position(lon, lat)
    }
}

extension MapCRS: ExpressibleByArgument {}

struct Locate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Which grid, community, street and district own a point.",
        discussion: """
            A point on an edge shared by two grids belongs to the grid east of a north-south edge and north of an \
            east-west edge (each grid owns its south and west edges). A point in a community but in no grid is answered \
            with the community (owner community_fallback); a point outside every community with owner outside. \
            With --input, one JSON object per input point is written, in input order.
            """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var point: PointOptions
    @Option(help: "Locate many points: CSV with a lon,lat header or newline-delimited GeoJSON points; - for standard input.")
    var input: String?
    @Option(help: "Answer with the grids in force on this date (YYYY-MM-DD): as-of, for last year's cases.") var at: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if input == nil { _ = try point.position() }
        if input != nil && (point.lon != nil || point.lat != nil) { throw ValidationError("give either --input or --lon/--lat") }
    }

    func run() throws {
        let store = try GeoStore(path: self.store.db)
        let locator = try at.map { try store.locator(on: $0) } ?? store.locator()
        if let input {
            var out: [UInt8] = []
            let stdout = FileHandle.standardOutput
            try readPoints(input) { index, p in
                var line: [UInt8] = []
                switch p {
                case .success(let p): GeoJSONWriter.value(QueryJSON.locate(locator.locate(point.crs.toWGS84(p)), at: p), into: &line)
                case .failure(let e): GeoJSONWriter.value(.object([("index", .number(Double(index))), ("error", .string(e.reason))]), into: &line)
                }
                out.append(contentsOf: line)
                out.append(0x0A)
                if out.count > 1 << 16 {
                    stdout.write(Data(out))
                    out.removeAll(keepingCapacity: true)
                }
            }
            stdout.write(Data(out))
            return
        }
        let p = try point.position()
        let result = locator.locate(point.crs.toWGS84(p))
        if json {
            printJSON(QueryJSON.locate(result, at: p))
            return
        }
        switch result.owner {
        case .outside: print("(\(p.lon), \(p.lat)) lies outside every community")
        case .communityFallback: print("(\(p.lon), \(p.lat)) lies in no grid; the community answers for it")
        case .streetFallback: print("(\(p.lon), \(p.lat)) lies in no grid or community; the street answers for it")
        case .districtFallback: print("(\(p.lon), \(p.lat)) lies in no grid, community or street; the district answers for it")
        case .grid: break
        }
        var rows: [[String]] = []
        if let g = result.grid {
            rows.append(["grid", g.code, g.name ?? ""])
            rows.append(["worker", g.workerName ?? "-", g.workerPhone ?? "-"])
            rows.append(["households", g.households.map(String.init) ?? "-", "population \(g.population.map(String.init) ?? "-")"])
        }
        for (label, a) in [("community", result.community), ("street", result.street), ("district", result.district)] {
            if let a { rows.append([label, a.code, a.name ?? ""]) }
        }
        if !rows.isEmpty { printTable(["", "code", "name"], rows) }
    }
}

struct Nearest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The nearest emergency resources to a point, with geodesic distance (WGS84 ellipsoid) and bearing.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var point: PointOptions
    @Option(help: "Resource types, comma-separated (default: all).") var type: String?
    @Option(name: .short, help: "How many.") var k = 5
    @Option(help: "Only within this many metres.") var within: Double?
    @Option(help: "Only with these statuses, comma-separated (e.g. in_service).") var status: String?
    @Option(help: "A point layer of the city's own to search instead of resources (its type and status fields filter).") var layer: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        _ = try point.position()
        guard (1...10_000).contains(k) else { throw ValidationError("-k must be 1 to 10000") }
        if let within, !(within.isFinite && within > 0) { throw ValidationError("--within must be a positive number of metres") }
    }

    func run() throws {
        let p = try point.position()
        let store = try GeoStore(path: self.store.db)
        let layer = try self.layer.map { try store.layer(named: $0) } ?? .resources
        let list = { (s: String?) in s.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) } }
        let hits = try store.pointIndex(layer).nearest(point.crs.toWGS84(p), k: k, types: list(type), statuses: list(status), within: within).map { h in
            var h = h
            h.resource.position = point.crs.fromWGS84(h.resource.position)
            return h
        }
        if json {
            printJSON(QueryJSON.nearest(hits, at: p, layer: layer))
            return
        }
        if hits.isEmpty {
            print("no resources found")
            return
        }
        printTable(
            ["#", "type", "name", "status", "metres", "bearing", "lon, lat"],
            hits.enumerated().map { i, h in
                [String(i + 1), h.resource.type, h.resource.name ?? "", h.resource.status, String(format: "%.1f", h.distance),
                    String(format: "%.0f°", h.bearing), String(format: "%.7f, %.7f", h.resource.position.lon, h.resource.position.lat)]
            })
    }
}

struct Around: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The situation around a point: its grid and worker, buildings with floors, households and population, resources by type, and the roads.",
        discussion: "--json prints a GeoJSON FeatureCollection of everything found, with a summary member.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var point: PointOptions
    @Option(help: "Radius in metres.") var radius: Double
    @Flag(help: "Print GeoJSON.") var json = false

    func validate() throws {
        _ = try point.position()
        guard radius.isFinite, radius > 0, radius <= 50_000 else { throw ValidationError("--radius must be more than 0 and at most 50000 metres") }
    }

    func run() throws {
        let given = try point.position()
        let store = try GeoStore(path: self.store.db)
        let result = try store.around(point.crs.toWGS84(given), radius: radius)
        if json {
            var out: [UInt8] = []
            QueryJSON.around(result, crs: point.crs, given: given, into: &out)
            print(String(decoding: out, as: UTF8.self))
            return
        }
        let loc = result.location
        if let g = loc.grid {
            print("grid \(g.code) \(g.name ?? ""): worker \(g.workerName ?? "-") \(g.workerPhone ?? "")")
        } else {
            print(loc.owner == .outside ? "outside every area" : "in no grid; \(loc.community?.code ?? loc.street?.code ?? loc.district?.code ?? "") answers")
        }
        if let c = loc.community { print("community \(c.code) \(c.name ?? ""), street \(loc.street?.name ?? "-"), district \(loc.district?.name ?? "-")") }
        let t = result.buildingTotals
        print("within \(Int(radius)) m: \(t.count) buildings, \(t.households) households, \(t.population) residents\(t.maxFloors.map { ", up to \($0) floors" } ?? "")")
        if !result.resources.isEmpty {
            print("resources: " + result.resourcesByType.map { "\($0.count) \($0.type)" }.joined(separator: ", "))
            printTable(["type", "name", "metres", "bearing"], result.resources.prefix(10).map {
                [$0.resource.type, $0.resource.name ?? "", String(format: "%.0f", $0.distance), String(format: "%.0f°", $0.bearing)]
            })
        }
        let roads = result.roadNames.filter { $0.name != nil }
        if !roads.isEmpty {
            print("roads: " + roads.prefix(12).map { "\($0.name!) (\($0.roadClass ?? "?"), \(Int($0.distance)) m)" }.joined(separator: "; "))
        }
    }
}

/// Reads points for batch queries: CSV with lon and lat columns, or newline-delimited GeoJSON Point features
/// or geometries. Calls `body` in input order; a bad line gives its reason instead of a point.
func readPoints(_ path: String, _ body: (Int, Result<Position, FeatureProblem>) throws -> Void) throws {
    let input = try InputBytes(path: path)
    let text = String(decoding: input.data, as: UTF8.self)
    let first = text.first { !$0.isWhitespace }
    if first == "{" || first == "\u{1E}" {
        try FeatureReaderPoints.read(input, body)
        return
    }
    var csv = CSVOptions()
    csv.wktColumn = nil
    var reader = FeatureReader(format: .csv)
    reader.csvOptions = csv
    try reader.read(input) { record in
        try body(record.index, record.result.flatMap(pointOf))
    }
}

private func pointOf(_ f: Feature) -> Result<Position, FeatureProblem> {
    guard case .point(let p) = f.geometry else { return .failure(FeatureProblem("expected a Point, found \(f.geometry.kind.rawValue)")) }
    if let problem = f.geometry.structuralProblem() { return .failure(FeatureProblem(problem)) }
    return .success(p)
}

/// Newline-delimited GeoJSON: each line a Point Feature or a bare Point geometry.
enum FeatureReaderPoints {
    static func read(_ input: InputBytes, _ body: (Int, Result<Position, FeatureProblem>) throws -> Void) throws {
        var index = 0
        for line in input.data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let trimmed = line.filter { $0 != 0x1E && $0 != 0x0D }
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let result: Result<Position, FeatureProblem>
            do {
                let value = try JSONParser.parse(trimmed)
                if value["type"]?.stringValue == "Feature" {
                    result = Result { () throws(FeatureProblem) in try GeoJSON.feature(from: value) }.flatMap(pointOf)
                } else {
                    result = Result { () throws(FeatureProblem) in try GeoJSON.geometry(from: value) }.flatMap { pointOf(Feature(geometry: $0)) }
                }
            } catch {
                result = .failure(FeatureProblem("invalid JSON: \(error)"))
            }
            try body(index, result)
            index += 1
        }
    }
}
