import Foundation
import GeoGrid
import TestSupport
import Testing

/// Issue 9: CQL2 filters (OGC API Features Part 3) over a real server, against an independent oracle: the cql2
/// package (cql2-rs, PyPI) parses each filter and matches it over the layer as GDAL's ogr2ogr exports it from
/// the store; both cql2-text and the cql2-json that cql2 itself converts it to must give the same features.
@Suite(.enabled(if: which("curl") != nil && which("ogr2ogr") != nil && venvPython != nil, "needs curl, ogr2ogr and .venv-test (scripts/setup.sh test)"))
struct CQL2Tests {
    static let corpus: [String: [String]] = [
        "buildings": [
            "floors > 5", "floors >= 5 AND floors <= 8", "floors = 3 OR floors = 4", "NOT floors < 4", "floors <> 2",
            "floors BETWEEN 2 AND 4", "floors NOT BETWEEN 2 AND 4", "floors IN (1, 3, 5)", "floors NOT IN (1, 3, 5)",
            "name IS NULL", "name IS NOT NULL", "name LIKE 'H%'", "name LIKE '%a_a%'", "name NOT LIKE '%o%'", "households > 10 AND population < 200",
            "S_INTERSECTS(geometry, BBOX(24.93,60.16,24.945,60.17))", "floors > 5 AND S_INTERSECTS(geometry, BBOX(24.93,60.16,24.945,60.17))",
            "S_INTERSECTS(geometry, POINT(24.9384 60.1678))", "S_DISJOINT(geometry, POLYGON((24.935 60.165, 24.945 60.165, 24.945 60.172, 24.935 60.172, 24.935 60.165)))",
            "S_WITHIN(geometry, POLYGON((24.935 60.165, 24.945 60.165, 24.945 60.172, 24.935 60.172, 24.935 60.165)))",
            "S_CONTAINS(geometry, POINT(24.9384 60.1678))", "S_OVERLAPS(geometry, POLYGON((24.935 60.165, 24.945 60.165, 24.945 60.172, 24.935 60.172, 24.935 60.165)))",
            "S_CROSSES(geometry, LINESTRING(24.93 60.168, 24.95 60.168))", "S_TOUCHES(geometry, POLYGON((24.935 60.165, 24.945 60.165, 24.945 60.172, 24.935 60.172, 24.935 60.165)))",
            "S_INTERSECTS(geometry, MULTIPOINT((24.9384 60.1678), (24.94 60.17)))",
            "S_INTERSECTS(geometry, MULTILINESTRING((24.93 60.168, 24.95 60.168), (24.94 60.16, 24.94 60.18)))",
            "S_INTERSECTS(geometry, MULTIPOLYGON(((24.935 60.165, 24.94 60.165, 24.94 60.17, 24.935 60.165))))",
            "(floors > 6 OR name LIKE 'K%') AND NOT S_INTERSECTS(geometry, BBOX(24.93,60.16,24.94,60.17))",
        ],
        "roads": [
            "class = 'primary'", "class IN ('footway', 'steps') AND name IS NOT NULL", "S_CROSSES(geometry, LINESTRING(24.93 60.168, 24.95 60.168))",
            "S_TOUCHES(geometry, POINT(24.9445 60.17))", "name LIKE '%katu' AND S_INTERSECTS(geometry, BBOX(24.94,60.165,24.95,60.175))",
        ],
        "resources": ["type = 'hydrant'", "type <> 'hydrant' AND status = 'in_service'", "S_WITHIN(geometry, BBOX(24.94,60.165,24.95,60.175))",
            "S_EQUALS(geometry, POINT(24.9501964 60.1755429))"],
        "inspections": [
            "T_AFTER(inspected, DATE('2026-06-15'))", "T_BEFORE(inspected, DATE('2026-06-15'))",
            "T_DURING(inspected, INTERVAL('2026-03-01', '2026-08-31'))", "T_INTERSECTS(seen, INTERVAL('2026-05-01T00:00:00Z', '2026-07-01T00:00:00Z'))",
            "T_DISJOINT(seen, INTERVAL('2026-05-01T00:00:00Z', '2026-07-01T00:00:00Z'))", "T_AFTER(seen, TIMESTAMP('2026-06-01T12:00:00Z'))",
            "T_BEFORE(seen, TIMESTAMP('2026-06-01T12:00:00Z')) AND passed = TRUE", "inspected > DATE('2026-06-15')", "inspected = DATE('2026-04-10')",
            "seen >= TIMESTAMP('2026-06-01T12:00:00Z')", "passed = FALSE OR score < 40", "KIND = 'pillar' AND score BETWEEN 30 AND 70",
        ],
    ]

    @Test func filtersAgreeWithTheCQL2Oracle() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("demo.sqlite")
        try DemoCity.build(from: Fixtures.demoCity.path, at: db)
        // A layer with dates, timestamps, booleans and an extra attribute, for the temporal functions.
        #expect(try runProcess(CLITests.executable, ["layer", "create", "--db", db, "inspections", "--geometry", "point", "--field", "inspected:date",
            "--field", "seen:timestamp", "--field", "passed:boolean", "--field", "score:integer"]).status == 0)
        var lines: [String] = []
        for i in 0..<60 {
            let day = 1 + (i * 7) % 28, month = 1 + i % 12
            let inspected = String(format: "2026-%02d-%02d", month, day)
            let seen = String(format: "2026-%02d-%02dT%02d:%02d:00Z", 1 + (i * 5) % 12, 1 + (i * 3) % 28, (i * 7) % 24, (i * 11) % 60)
            lines.append(#"{"type":"Feature","properties":{"inspected":"\#(inspected)","seen":"\#(seen)","passed":\#(i % 3 != 0),"score":\#((i * 37) % 100),"KIND":"\#(i % 2 == 0 ? "pillar" : "underground")"},"geometry":{"type":"Point","coordinates":[\#(24.935 + Double(i % 10) * 0.001),\#(60.165 + Double(i / 10) * 0.001)]}}"#)
        }
        let imported = try runProcess(CLITests.executable, ["import", "--db", db, "--layer", "inspections", "--format", "geojsonseq", "-"],
            input: Data(lines.joined(separator: "\n").utf8))
        #expect(imported.status == 0, "\(imported.stderr)")
        let server = try RunningServer(db: db)
        var checked = 0, discriminating = 0
        for (layer, filters) in Self.corpus {
            let all = try #require(try curl("\(server.baseURL)/collections/\(layer)/items?limit=1").json() as? [String: Any])["numberMatched"] as? Int
            let exported = dir.path("\(layer).geojson")
            let ogr = try runProcess(which("ogr2ogr")!, ["-preserve_fid", "-f", "GeoJSON", exported, db, layer])
            #expect(ogr.status == 0, "\(ogr.stderr)")
            let request = try JSONSerialization.data(withJSONObject: filters.map { [$0, "cql2-text"] })
            let oracle = try runProcess(venvPython!, [Fixtures.repository.appendingPathComponent("Tests/Scripts/cql2-oracle.py").path, exported], input: request)
            let answers = try #require(try JSONSerialization.jsonObject(with: Data(oracle.stdout.utf8)) as? [Any], "\(oracle.stderr)")
            for (filter, answer) in zip(filters, answers) {
                guard let pair = answer as? [Any], let expected = pair[0] as? [Int], let json = pair[1] as? String else {
                    Issue.record("the oracle could not read \(filter): \(answer)")
                    continue
                }
                for (text, lang) in [(filter, "cql2-text"), (json, "cql2-json")] {
                    var q = URLComponents(string: "\(server.baseURL)/collections/\(layer)/items")!
                    q.queryItems = [URLQueryItem(name: "filter", value: text), URLQueryItem(name: "filter-lang", value: lang), URLQueryItem(name: "limit", value: "100000")]
                    let r = try curl(q.url!.absoluteString.replacingOccurrences(of: "+", with: "%2B"))
                    let page = try #require(try r.json() as? [String: Any], "\(lang) \(text): \(r.text)")
                    let ids = ((page["features"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int }.sorted()
                    #expect(ids == expected, "\(layer) \(lang): \(text)")
                    #expect(page["numberMatched"] as? Int == expected.count)
                }
                checked += 1
                if !expected.isEmpty && expected.count < (all ?? 0) { discriminating += 1 }
            }
        }
        #expect(checked == Self.corpus.values.map(\.count).reduce(0, +))
        // A corpus whose filters match nothing or everything would prove little.
        #expect(discriminating * 10 >= checked * 8, "\(discriminating) of \(checked) filters match some but not all")
    }

    @Test func badFiltersAreClear400sAndTheAntimeridianBoxWorks() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("pacific.sqlite")
        _ = try runProcess(CLITests.executable, ["init", "--db", db])
        let points = """
            {"type":"Feature","properties":{"type":"aed","name":"Fiji"},"geometry":{"type":"Point","coordinates":[178.4,-18.1]}}
            {"type":"Feature","properties":{"type":"aed","name":"Samoa"},"geometry":{"type":"Point","coordinates":[-171.8,-13.8]}}
            {"type":"Feature","properties":{"type":"aed","name":"Sydney"},"geometry":{"type":"Point","coordinates":[151.2,-33.9]}}
            """
        #expect(try runProcess(CLITests.executable, ["import", "--db", db, "--layer", "resources", "--format", "geojsonseq", "-"], input: Data(points.utf8)).status == 0)
        let server = try RunningServer(db: db)
        func names(_ filter: String, _ extra: String = "") throws -> [String] {
            var q = URLComponents(string: "\(server.baseURL)/collections/resources/items")!
            q.queryItems = [URLQueryItem(name: "filter", value: filter)]
            let page = try #require(try curl(q.url!.absoluteString + extra).json() as? [String: Any])
            return ((page["features"] as? [[String: Any]]) ?? []).compactMap { ($0["properties"] as? [String: Any])?["name"] as? String }.sorted()
        }
        // BBOX(170, -20, -170, -10) crosses the antimeridian: Fiji and Samoa, not Sydney.
        #expect(try names("S_INTERSECTS(geometry, BBOX(170,-20,-170,-10))") == ["Fiji", "Samoa"])
        #expect(try names("S_DISJOINT(geometry, BBOX(170,-20,-170,-10))") == ["Sydney"])
        // filter-crs: the literal in EPSG:4326 (latitude first).
        #expect(try names("S_INTERSECTS(geometry, POLYGON((-19 178, -19 179, -17 179, -17 178, -19 178)))",
            "&filter-crs=http://www.opengis.net/def/crs/EPSG/0/4326") == ["Fiji"])
        // sortby and properties.
        let sorted = try #require(try curl("\(server.baseURL)/collections/resources/items?sortby=-name&properties=name").json() as? [String: Any])
        let features = sorted["features"] as? [[String: Any]] ?? []
        #expect(features.compactMap { ($0["properties"] as? [String: Any])?["name"] as? String } == ["Sydney", "Samoa", "Fiji"])
        #expect(features.allSatisfy { ($0["properties"] as? [String: Any])?.keys.sorted() == ["name"] })
        // Bad filters: 400 problems naming the trouble.
        for (bad, says) in [("floors >", "expected a value"), ("nosuch = 1", "not a queryable"), ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))", "Polygon literal"),
            ("name LIKE 3", "string pattern"), ("T_AFTER(name, DATE('2026-13-01'))", "DATE")]
        {
            var q = URLComponents(string: "\(server.baseURL)/collections/resources/items")!
            q.queryItems = [URLQueryItem(name: "filter", value: bad)]
            let r = try curl(q.url!.absoluteString)
            #expect(r.status == 400 && r.headers["content-type"] == "application/problem+json" && r.text.contains(says), "\(bad): \(r.text)")
        }
        #expect(try curl("\(server.baseURL)/collections/resources/items?filter=name%3D1&filter-lang=sql").status == 400)
        #expect(try curl("\(server.baseURL)/collections/resources/items?sortby=nosuch").status == 400)
        let queryables = try #require(try curl("\(server.baseURL)/collections/resources/queryables").json() as? [String: Any])
        let props = queryables["properties"] as? [String: Any] ?? [:]
        #expect(props["geometry"] != nil && (props["capacity"] as? [String: Any])?["type"] as? String == "integer")
    }
}
