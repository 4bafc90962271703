import Foundation
import GeoGrid
import TestSupport
import Testing

/// `geo-cli serve` on the demo city, on 127.0.0.1, asked by curl.
@Suite(.serialized, .enabled(if: which("curl") != nil, "needs curl (scripts/setup.sh test installs it)"))
struct ServerTests {
    static let demo: Result<(RunningServer, String, TemporaryDirectory), Error> = Result {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("demo.sqlite"))
        let server = try RunningServer(db: dir.path("demo.sqlite"), arguments: [
            "--cors-origin", "https://maps.example.org", "--map-assets", Fixtures.repository.appendingPathComponent("var/maplibre").path,
            "--glyphs", Fixtures.repository.appendingPathComponent("var/glyphs").path,
        ])
        return (server, dir.path("demo.sqlite"), dir)
    }

    func json(_ text: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }

    /// The HTTP answers are the CLI's `--json` answers, byte for byte apart from the transport.
    @Test func queriesAnswerAsTheCommandLineDoes() throws {
        let (server, db, _) = try Self.demo.get()
        // The CLI reads the file with no one to hide personal fields from; over HTTP an admin sees them too.
        let admin = try runProcess(geoCLIPath, ["token", "create", "--db", db, "--role", "admin"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let points = [(24.9445, 60.17), (24.9383, 60.1687), (24.9502, 60.1752), (24.90, 60.10)]
        for (lon, lat) in points {
            for (route, args) in [
                ("locate", ["locate"]), ("nearest", ["nearest", "-k", "3", "--type", "hydrant,aed"]),
                ("around", ["around", "--radius", "150"]),
            ] {
                var query = "lon=\(lon)&lat=\(lat)"
                if route == "nearest" { query += "&k=3&type=hydrant,aed" }
                if route == "around" { query += "&radius=150" }
                let http = try curl("\(server.baseURL)/\(route)?\(query)", headers: ["Authorization": "Bearer \(admin)"])
                if route != "nearest" {
                    #expect(!(try curl("\(server.baseURL)/\(route)?\(query)").text.contains("worker_phone")), "anonymous callers see no phone")
                }
                #expect(http.status == 200, "\(route): \(http.text)")
                #expect(http.headers["content-type"] == (route == "around" ? "application/geo+json" : "application/json"))
                let cli = try runProcess(geoCLIPath, args + ["--db", db, "--lon", "\(lon)", "--lat", "\(lat)", "--json"])
                #expect(cli.status == 0)
                #expect(try json(http.text) == (try json(cli.stdout)), "\(route) at \(lon), \(lat)")
            }
        }
    }

    @Test func chineseOffsetCoordinatesAreAccepted() throws {
        let (server, _, _) = try Self.demo.get()
        // Outside China, GCJ-02 is WGS84: the same answer either way.
        let plain = try curl("\(server.baseURL)/locate?lon=24.9445&lat=60.17")
        let gcj = try curl("\(server.baseURL)/locate?lon=24.9445&lat=60.17&crs=gcj02")
        #expect(gcj.status == 200)
        #expect(try json(gcj.text) == (try json(plain.text)))
        // In Beijing the point given in GCJ-02 is moved to WGS84 before the search, and answers come back in GCJ-02.
        let given = Position(116.3975, 39.9087), wgs = MapCRS.gcj02.toWGS84(given)
        let viaGCJ = try json(curl("\(server.baseURL)/nearest?lon=\(given.lon)&lat=\(given.lat)&crs=gcj02&k=1").text)
        let viaWGS = try json(curl("\(server.baseURL)/nearest?lon=\(wgs.lon)&lat=\(wgs.lat)&k=1").text)
        let a = try #require((viaGCJ["resources"] as? [NSDictionary])?.first), b = try #require((viaWGS["resources"] as? [NSDictionary])?.first)
        #expect(a["id"] as? Int == b["id"] as? Int && a["distance_m"] as? Double == b["distance_m"] as? Double)
        #expect(abs(Geodesy.distance(given, wgs)) > 100, "the offset is hundreds of metres in Beijing")
    }

    /// Bad input is a 400 with RFC 9457 problem details naming the parameter; unknown paths a 404.
    @Test func badInputGetsProblemDetails() throws {
        let (server, _, _) = try Self.demo.get()
        let cases: [(String, Int, String)] = [
            ("/locate?lat=60.17", 400, "lon is required"),
            ("/locate?lon=224&lat=60.17", 400, "lon must be within"),
            ("/locate?lon=abc&lat=60.17", 400, "lon must be a number"),
            ("/nearest?lon=24.9&lat=60.1&k=0", 400, "k must be a whole number"),
            ("/nearest?lon=24.9&lat=60.1&within=-5", 400, "within must be within"),
            ("/around?lon=24.9&lat=60.1&radius=100000", 400, "radius must be within"),
            ("/locate?lon=24.9&lat=60.1&crs=epsg3857", 400, "crs must be one of"),
            ("/search", 400, "q is required"),
            ("/search?q=katu&kind=street", 400, "kind must be among"),
            ("/search?q=katu&limit=51", 400, "limit must be a whole number"),
            ("/search?q=katu&where=1", 400, "unknown parameter where"),
            ("/nearest?lon=24.9&lat=60.1&k=", 400, "k is empty"),
            ("/around?lon=24.9&lat=60.1&radius=", 400, "radius is empty"),
            ("/collections/buildings/items?limit=", 400, "limit is empty"),
            ("/locate?lon=&lat=60.17", 400, "lon is empty"),
            ("/incidents/stats?period=", 400, "period is empty"),
            ("/plans?status=", 400, "status is empty"),
            ("/collections/incidents/items?filter-lang=AAA", 400, "filter-lang must be cql2-text or cql2-json"),
            ("/no/such/thing", 404, "no such resource"),
        ]
        for (path, status, detail) in cases {
            let r = try curl(server.baseURL + path)
            #expect(r.status == status, "\(path)")
            #expect(r.headers["content-type"] == "application/problem+json", "\(path)")
            let problem = try json(r.text)
            #expect(problem["status"] as? Int == status && problem["type"] as? String == "about:blank", "\(path)")
            #expect((problem["detail"] as? String)?.contains(detail) == true, "\(path): \(problem)")
            #expect(problem["instance"] as? String == path.split(separator: "?").first.map(String.init))
        }
    }

    /// A method the OpenAPI document does not declare for a path is a 405 whose `Allow` lists at least the
    /// declared ones (the document is the oracle, the router's table the code under test); a path no route has
    /// stays a 404, and so does a missing item under a declared method.
    @Test func undeclaredMethodsGet405WithAllow() throws {
        let (server, _, _) = try Self.demo.get()
        let document = try json(curl("\(server.baseURL)/api").text)
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods = ["get", "post", "put", "patch", "delete"]
        var tried = 0
        for (template, operations) in paths.sorted(by: { $0.key < $1.key }) {
            let declared = Set(operations.keys.filter(methods.contains).map { $0.uppercased() })
            // Every path parameter as a plain segment: the route is found by its shape, whatever the value.
            let path = template.replacingOccurrences(of: #"\{[^}]+\}"#, with: "1", options: .regularExpression)
            for method in methods.map({ $0.uppercased() }) where !declared.contains(method) {
                let r = try curl(server.baseURL + path, method: method, headers: ["Content-Type": "application/json"], body: method == "GET" ? nil : "{}")
                #expect(r.status == 405, "\(method) \(template): \(r.status)")
                let allow = Set((r.headers["allow"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                #expect(declared.isSubset(of: allow), "\(method) \(template): Allow \(allow), declared \(declared)")
                #expect(r.headers["content-type"] == "application/problem+json", "\(method) \(template)")
                tried += 1
            }
        }
        #expect(tried > 50)
        #expect(try curl(server.baseURL + "/no/such/thing", method: "DELETE").status == 404)
        #expect(try curl(server.baseURL + "/collections/buildings/items/999999999").status == 404)
        let head = try curl(server.baseURL + "/locate?lon=24.94&lat=60.17", method: "PUT", body: "{}")
        #expect(head.status == 405 && head.headers["allow"] == "GET, HEAD")
    }

    /// `/search` answers what the core's search gives, as JSON a console can fly to.
    @Test func searchFindsAddressesCodesAndNames() throws {
        let (server, db, _) = try Self.demo.get()
        let store = try GeoStore(path: db)
        for text in ["Mannerheimintie", "910091004001004", "kluuvi grid"] {
            let r = try curl("\(server.baseURL)/search?q=\(text.replacingOccurrences(of: " ", with: "%20"))&limit=7")
            #expect(r.status == 200 && r.headers["content-type"] == "application/json")
            let results = try #require(try json(r.text)["results"] as? [NSDictionary])
            let expected = try store.search(text, limit: 7)
            #expect(results.map { "\($0["kind"]!) \($0["id"]!) \($0["label"]!)" } == expected.map { "\($0.kind.rawValue) \($0.id) \($0.label)" })
            #expect(results.allSatisfy { ($0["bbox"] as? [Double])?.count == 4 && $0["lon"] is Double && $0["lat"] is Double })
        }
        let grid = try json(curl("\(server.baseURL)/search?q=910091004001004&kind=grid").text)["results"] as? [NSDictionary]
        #expect(grid?.first?["match"] as? String == "exact" && grid?.first?["grid_code"] as? String == "910091004001004")
    }

    @Test func healthReportsTheStoreAndItsIndexes() throws {
        let (server, db, _) = try Self.demo.get()
        let r = try curl("\(server.baseURL)/health")
        #expect(r.status == 200)
        let health = try json(r.text)
        #expect(health["status"] as? String == "ok")
        let layers = try #require(health["layers"] as? [String: Int])
        let store = try GeoStore(path: db)
        for layer in Layer.builtIn {
            let count = try store.read { try $0.scalar("SELECT count(*) FROM \(layer.rawValue)") }
            #expect(count == .integer(Int64(layers[layer.rawValue] ?? -1)), "\(layer)")
        }
        // Built at start, before the first query.
        let indexes = try #require(health["indexes"] as? [[String: Any]])
        #expect(indexes.count == 1 + Layer.builtIn.filter { $0.geometry == .point }.count + Layer.builtIn.count)
        // Every index is built before the server listens but the cases' nearest, built when first asked for.
        #expect(indexes.filter { $0["built"] as? Bool != true }.map { $0["name"] as? String } == ["nearest incidents"])
    }

    /// Prometheus text: counts by route and status that follow the requests made, and latency histograms.
    @Test func metricsCountRequestsByRoute() throws {
        let (server, _, _) = try Self.demo.get()
        func count(_ text: String, _ labels: String) -> Int {
            let prefix = "geogrid_http_requests_total{\(labels)} "
            return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) } ?? 0
        }
        let before = try curl("\(server.baseURL)/metrics").text
        for _ in 0..<7 { _ = try curl("\(server.baseURL)/locate?lon=24.94&lat=60.17") }
        for _ in 0..<3 { _ = try curl("\(server.baseURL)/locate?lon=x&lat=60.17") }
        let after = try curl("\(server.baseURL)/metrics")
        #expect(after.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let ok = #"route="/locate",method="GET",status="200""#, bad = #"route="/locate",method="GET",status="400""#
        #expect(count(after.text, ok) - count(before, ok) == 7)
        #expect(count(after.text, bad) - count(before, bad) == 3)
        #expect(after.text.contains(#"geogrid_http_request_duration_seconds_bucket{\#(ok),le="+Inf"}"#))
        #expect(after.text.contains("# TYPE geogrid_http_request_duration_seconds histogram"))
    }

    @Test func corsAllowsOnlyTheConfiguredOrigins() throws {
        let (server, _, _) = try Self.demo.get()
        let preflight = try curl("\(server.baseURL)/locate", method: "OPTIONS",
            headers: ["Origin": "https://maps.example.org", "Access-Control-Request-Method": "GET"])
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-origin"] == "https://maps.example.org")
        let allowed = try curl("\(server.baseURL)/locate?lon=24.94&lat=60.17", headers: ["Origin": "https://maps.example.org"])
        #expect(allowed.headers["access-control-allow-origin"] == "https://maps.example.org")
        #expect(allowed.headers["vary"] == "Origin")
        let other = try curl("\(server.baseURL)/locate?lon=24.94&lat=60.17", headers: ["Origin": "https://evil.example.com"])
        #expect(other.status == 200 && other.headers["access-control-allow-origin"] == nil)
    }

    /// Many clients at once (curl's parallel mode, 16 connections): every answer complete and right.
    @Test func concurrentRequestsAllAnswer() throws {
        let (server, _, _) = try Self.demo.get()
        let dir = TemporaryDirectory()
        var config = ""
        var rng = SeededRandom(seed: 77)
        var expected: [String] = []
        for i in 0..<120 {
            let lon = rng.next(in: 24.93...24.955), lat = rng.next(in: 60.163...60.178)
            config += "url = \"\(server.baseURL)/locate?lon=\(lon)&lat=\(lat)\"\noutput = \"\(dir.path("r\(i).json"))\"\n"
            expected.append(try curl("\(server.baseURL)/locate?lon=\(lon)&lat=\(lat)").text)
        }
        try config.write(toFile: dir.path("urls.txt"), atomically: true, encoding: .utf8)
        let r = try runProcess(which("curl")!, ["-sS", "--fail", "--parallel", "--parallel-max", "16", "-K", dir.path("urls.txt")])
        #expect(r.status == 0, "\(r.stderr)")
        for i in 0..<120 {
            #expect((try? String(contentsOfFile: dir.path("r\(i).json"), encoding: .utf8)) == expected[i], "request \(i)")
        }
    }

    /// The demo map: the page, MapLibre GL JS from var/maplibre (no CDN), and every URL the page uses answers.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: Fixtures.repository.appendingPathComponent("var/maplibre/maplibre-gl.js").path),
        "needs var/maplibre (scripts/setup.sh fetches it)"))
    func theMapPageAndItsAssets() throws {
        let (server, _, _) = try Self.demo.get()
        let page = try curl("\(server.baseURL)/map")
        #expect(page.status == 200 && page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(!page.text.contains("http://") && !page.text.contains("https://"), "the page loads nothing from elsewhere")
        for (asset, type) in [("maplibre-gl.js", "text/javascript"), ("maplibre-gl.css", "text/css")] {
            #expect(page.text.contains("/map/\(asset)"))
            let r = try curl("\(server.baseURL)/map/\(asset)")
            let file = try Data(contentsOf: Fixtures.repository.appendingPathComponent("var/maplibre/\(asset)"))
            #expect(r.status == 200 && r.body == file && r.headers["content-type"]?.hasPrefix(type) == true, "\(asset)")
        }
        // The style and the queries the page's click handler makes.
        #expect(page.text.contains("style: '/style.json'"))
        for path in ["/style.json", "/locate?lon=24.9445&lat=60.1700", "/nearest?lon=24.9445&lat=60.1700&k=5", "/around?lon=24.9445&lat=60.1700&radius=150"] {
            let base = path.split(separator: "?").first!
            #expect(page.text.contains(String(base)), "\(base)")
            #expect(try curl(server.baseURL + path).status == 200, "\(path)")
        }
    }

    @Test func aMissingStoreIsAOneLineError() throws {
        let r = try runProcess(geoCLIPath, ["serve", "--db", "/nonexistent/x.sqlite", "--port", "0"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("no store at /nonexistent/x.sqlite"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}
