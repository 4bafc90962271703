import Foundation
import GeoGrid
import TestSupport
import Testing

/// OGC API – Features from `geo-cli serve` on the demo city: GDAL's OAPIF driver as the client, and SpatiaLite
/// as the oracle for what a page should hold.
@Suite(.serialized, .enabled(if: which("curl") != nil, "needs curl"))
struct FeaturesAPITests {
    func json(_ r: HTTPResult) throws -> [String: Any] { try #require(try JSONSerialization.jsonObject(with: r.body) as? [String: Any]) }

    func ids(_ fc: [String: Any]) -> [Int64] { (fc["features"] as? [[String: Any]] ?? []).compactMap { ($0["id"] as? Int).map(Int64.init) } }

    @Test func landingConformanceAndCollections() throws {
        let (server, db, _) = try ServerTests.demo.get()
        let landing = try json(try curl("\(server.baseURL)/"))
        let rels = Set((landing["links"] as? [[String: Any]] ?? []).compactMap { $0["rel"] as? String })
        #expect(rels.isSuperset(of: ["self", "service-desc", "conformance", "data"]))
        let conformance = try json(try curl("\(server.baseURL)/conformance"))["conformsTo"] as? [String] ?? []
        #expect(conformance.contains("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"))
        #expect(conformance.contains("http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"))
        let api = try curl("\(server.baseURL)/api")
        #expect(api.headers["content-type"]?.hasPrefix("application/vnd.oai.openapi+json") == true)
        #expect((try json(api))["openapi"] as? String == "3.0.3")
        let collections = try json(try curl("\(server.baseURL)/collections"))["collections"] as? [[String: Any]] ?? []
        #expect(collections.compactMap { $0["id"] as? String } == Layer.builtIn.map(\.rawValue))
        let store = try GeoStore(path: db)
        let grids = try json(try curl("\(server.baseURL)/collections/grids"))
        let bbox = try #require(((grids["extent"] as? [String: Any])?["spatial"] as? [String: Any])?["bbox"] as? [[Double]])
        let extent = try store.read { db in
            // SpatiaLite's exact extent of the geometries.
            let s = try db.prepare("SELECT MbrMinX(e), MbrMinY(e), MbrMaxX(e), MbrMaxY(e) FROM (SELECT Extent(geom) AS e FROM grids)")
            _ = try s.step()
            return BBox(minX: s.double(0), minY: s.double(1), maxX: s.double(2), maxY: s.double(3))
        }
        #expect(abs(bbox[0][0] - extent.minX) < 1e-9 && abs(bbox[0][3] - extent.maxY) < 1e-9)
        #expect((grids["crs"] as? [String])?.count == 4)
        #expect(try curl("\(server.baseURL)/collections/parks").status == 404)
        let html = try curl("\(server.baseURL)/collections?f=html")
        #expect(html.headers["content-type"] == "text/html; charset=utf-8" && html.text.contains("<a href="))
        #expect(try curl("\(server.baseURL)/collections", headers: ["Accept": "text/html"]).headers["content-type"] == "text/html; charset=utf-8")
    }

    /// Following `next` links from the first page gives every feature once, in id order; numberMatched and
    /// numberReturned are right on every page; `prev` goes back.
    @Test func pagingVisitsEveryFeatureOnce() throws {
        let (server, db, _) = try ServerTests.demo.get()
        let store = try GeoStore(path: db)
        var url: String? = "\(server.baseURL)/collections/buildings/items?limit=100"
        var seen: [Int64] = []
        var pages = 0
        while let next = url {
            let page = try json(try curl(next))
            let got = ids(page)
            #expect(page["numberMatched"] as? Int == 446 && page["numberReturned"] as? Int == got.count)
            seen += got
            pages += 1
            let links = page["links"] as? [[String: Any]] ?? []
            url = links.first { $0["rel"] as? String == "next" }?["href"] as? String
            if pages > 1 { #expect(links.contains { $0["rel"] as? String == "prev" }) }
        }
        let all: [Int64] = try store.read { db in
            let s = try db.prepare("SELECT id FROM buildings ORDER BY id")
            var out: [Int64] = []
            while try s.step() { out.append(s.int64(0)) }
            return out
        }
        #expect(pages == 5 && seen == all)
    }

    /// bbox (in CRS84, EPSG:4326's lat/lon order, or EPSG:3857), property filters and offsets against SpatiaLite.
    @Test func bboxAndFiltersAgreeWithSpatiaLite() throws {
        let (server, db, _) = try ServerTests.demo.get()
        let store = try GeoStore(path: db)
        let box = BBox(minX: 24.940, minY: 60.167, maxX: 24.946, maxY: 60.171)
        let expected = try sqlIDs(store, intersecting: box)
        #expect(expected.count > 10)
        let crs84 = try json(try curl("\(server.baseURL)/collections/buildings/items?bbox=\(box.minX),\(box.minY),\(box.maxX),\(box.maxY)&limit=1000"))
        #expect(ids(crs84) == expected && crs84["numberMatched"] as? Int == expected.count)
        let latLon = try json(try curl("\(server.baseURL)/collections/buildings/items?bbox=\(box.minY),\(box.minX),\(box.maxY),\(box.maxX)&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326&limit=1000"))
        #expect(ids(latLon) == expected)
        // The same box in Web Mercator, by SpatiaLite's own transformation.
        let merc: [Double] = try store.read { db in
            let s = try db.prepare("SELECT X(ST_Transform(MakePoint(?, ?, 4326), 3857)), Y(ST_Transform(MakePoint(?, ?, 4326), 3857)), X(ST_Transform(MakePoint(?, ?, 4326), 3857)), Y(ST_Transform(MakePoint(?, ?, 4326), 3857))")
            try s.bind([.real(box.minX), .real(box.minY), .real(box.minX), .real(box.minY), .real(box.maxX), .real(box.maxY), .real(box.maxX), .real(box.maxY)])
            _ = try s.step()
            return (0..<4).map { s.double(Int32($0)) }
        }
        let mercator = try json(try curl("\(server.baseURL)/collections/buildings/items?bbox=\(merc.map { String($0) }.joined(separator: ","))&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857&limit=1000"))
        #expect(ids(mercator) == expected)
        let offset = try json(try curl("\(server.baseURL)/collections/buildings/items?bbox=\(box.minX),\(box.minY),\(box.maxX),\(box.maxY)&limit=5&offset=3"))
        #expect(ids(offset) == Array(expected[3..<8]) && offset["numberMatched"] as? Int == expected.count)
        let filtered = try json(try curl("\(server.baseURL)/collections/grids/items?community_code=910091004001&limit=100"))
        let inCommunity: [Int64] = try store.read { db in
            let s = try db.prepare("SELECT id FROM grids WHERE community_code = '910091004001' ORDER BY id")
            var out: [Int64] = []
            while try s.step() { out.append(s.int64(0)) }
            return out
        }
        #expect(!inCommunity.isEmpty && ids(filtered) == inCommunity)
        for bad in ["limit=0", "limit=100001", "offset=-1", "bbox=1,2,3", "bbox=3,2,1,4", "crs=EPSG:4326", "colour=red", "f=xml"] {
            let r = try curl("\(server.baseURL)/collections/grids/items?\(bad)")
            #expect(r.status == 400 && r.headers["content-type"] == "application/problem+json", "\(bad)")
        }
        #expect(try curl("\(server.baseURL)/collections/grids/items/999999").status == 404)
    }

    /// Part 2: coordinates in the requested CRS (SpatiaLite's ST_Transform as the oracle for EPSG:3857),
    /// EPSG:4326 and EPSG:4490 in latitude-longitude order, and Content-Crs naming it.
    @Test func responsesInTheRequestedCRS() throws {
        let (server, db, _) = try ServerTests.demo.get()
        let store = try GeoStore(path: db)
        func first(_ fc: [String: Any]) -> [Double] {
            let g = ((fc["features"] as? [[String: Any]])?.first ?? fc)["geometry"] as? [String: Any]
            return g?["coordinates"] as? [Double] ?? []
        }
        let plain = try curl("\(server.baseURL)/collections/resources/items/7")
        #expect(plain.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
        let lonLat = first(try json(plain))
        for (uri, latFirst) in [("http://www.opengis.net/def/crs/EPSG/0/4326", true), ("http://www.opengis.net/def/crs/EPSG/0/4490", true)] {
            let r = try curl("\(server.baseURL)/collections/resources/items/7?crs=\(uri)")
            #expect(r.headers["content-crs"] == "<\(uri)>")
            #expect(first(try json(r)) == (latFirst ? [lonLat[1], lonLat[0]] : lonLat))
        }
        let merc = try curl("\(server.baseURL)/collections/resources/items?crs=http://www.opengis.net/def/crs/EPSG/0/3857&limit=1")
        let xy = first(try json(merc))
        let oracle: [Double] = try store.read { db in
            let s = try db.prepare("SELECT X(ST_Transform(geom, 3857)), Y(ST_Transform(geom, 3857)) FROM resources ORDER BY id LIMIT 1")
            _ = try s.step()
            return [s.double(0), s.double(1)]
        }
        #expect(xy.count == 2 && abs(xy[0] - oracle[0]) < 0.01 && abs(xy[1] - oracle[1]) < 0.01, "\(xy) vs \(oracle)")
    }

    /// GDAL's OAPIF driver (gdal-bin) lists the collections and reads every feature, paging by itself; counts
    /// and attributes match the store.
    @Test(.enabled(if: which("ogr2ogr") != nil, "needs gdal-bin")) func gdalReadsTheFeatures() throws {
        let (server, db, _) = try ServerTests.demo.get()
        let store = try GeoStore(path: db)
        let list = try runProcess(which("ogrinfo")!, ["-ro", "-q", "OAPIF:\(server.baseURL)"])
        #expect(list.status == 0, "\(list.stderr)")
        for layer in Layer.builtIn { #expect(list.stdout.contains(": \(layer.rawValue) ("), "\(layer)") }
        for layer in [Layer.grids, .buildings, .resources] {
            let r = try runProcess(which("ogr2ogr")!, ["-f", "GeoJSON", "/vsistdout/", "OAPIF:\(server.baseURL)", layer.rawValue])
            try #require(r.status == 0, "\(r.stderr)")
            let fc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let features = fc["features"] as? [[String: Any]] ?? []
            let count = try store.read { try $0.scalar("SELECT count(*) FROM \(layer.rawValue)") }
            #expect(count == .integer(Int64(features.count)), "\(layer)")
            let field = layer == .resources ? "type" : "code"
            guard layer != .buildings else { continue }
            let expected: [String] = try store.read { db in
                let s = try db.prepare("SELECT \(field) FROM \(layer.rawValue) ORDER BY id")
                var out: [String] = []
                while try s.step() { out.append(s.text(0) ?? "") }
                return out
            }
            #expect(features.compactMap { ($0["properties"] as? [String: Any])?[field] as? String } == expected, "\(layer)")
        }
    }

    /// A page of 100,000 features is streamed: chunked, its first bytes arrive long before its last (the
    /// document is not built whole first), and it holds them all.
    @Test func aLargePageIsStreamed() throws {
        let dir = TemporaryDirectory()
        let (store, _) = try makeStore(dir, name: "big.sqlite")
        try importText(store, .resources, SyntheticCity.resources(count: 100_000, in: BBox(minX: 24.9, minY: 60.1, maxX: 25.1, maxY: 60.3)), format: .geojsonseq)
        let server = try RunningServer(db: dir.path("big.sqlite"))
        let r = try runProcess(which("curl")!, ["-sS", "-D", dir.path("headers.txt"), "-o", dir.path("page.json"), "-w", "%{time_starttransfer} %{time_total}",
            "\(server.baseURL)/collections/resources/items?limit=100000"])
        #expect(r.status == 0, "\(r.stderr)")
        let times = r.stdout.split(separator: " ").compactMap { Double($0) }
        try #require(times.count == 2)
        #expect(times[0] < times[1] / 3, "first byte after \(times[0]) s of \(times[1]) s")
        let headers = try String(contentsOfFile: dir.path("headers.txt"), encoding: .utf8).lowercased()
        #expect(headers.contains("transfer-encoding: chunked") && !headers.contains("content-length"))
        let page = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path("page.json")))) as? [String: Any])
        #expect(page["numberReturned"] as? Int == 100_000 && page["numberMatched"] as? Int == 100_000)
        #expect((page["features"] as? [Any])?.count == 100_000)
    }

    /// /api is a valid OpenAPI 3.0 document (PyPI's openapi-spec-validator) that describes every route a test
    /// here uses; and our landing, collections and item pages have every member the OGC test suite's samples of
    /// conformant responses have.
    @Test(.enabled(if: venvPython != nil, "needs .venv-test (scripts/setup.sh test)"))
    func openAPIIsValidAndResponsesHaveTheConformantShape() throws {
        let (server, _, _) = try ServerTests.demo.get()
        let dir = TemporaryDirectory()
        let api = try curl("\(server.baseURL)/api")
        try api.body.write(to: URL(fileURLWithPath: dir.path("api.json")))
        let r = try runProcess(venvPython!, ["-c", """
            import json, sys
            from openapi_spec_validator import validate
            doc = json.load(open(sys.argv[1]))
            validate(doc)
            print(' '.join(sorted(doc['paths'])))
            # Part 4: QGIS offers editing only where POST is declared; every write names its bearer security.
            items, item = doc['paths']['/collections/{collectionId}/items'], doc['paths']['/collections/{collectionId}/items/{featureId}']
            writes = [items['post'], item['put'], item['patch'], item['delete']]
            assert all(w['security'] == [{'bearer': []}] and '401' in w['responses'] and '403' in w['responses'] for w in writes)
            ids = [p for p in items['get']['parameters'] if p['name'] == 'collectionId'][0]['schema']['enum']
            print('COLLECTIONS', ','.join(ids))
            """, dir.path("api.json")])
        #expect(r.status == 0, "\(r.stderr)")
        let paths = Set(r.stdout.split(whereSeparator: \.isWhitespace).map(String.init))
        #expect(r.stdout.contains("COLLECTIONS communities,grids,buildings,resources,roads"))
        for p in ["/", "/conformance", "/api", "/collections", "/collections/{collectionId}", "/collections/{collectionId}/items",
            "/collections/{collectionId}/items/{featureId}", "/tiles/{layers}/{z}/{x}/{y}.mvt", "/locate", "/nearest", "/around", "/health", "/metrics",
            "/audit"]
        {
            #expect(paths.contains(p), "\(p)")
        }
        func keys(_ any: Any?) -> Set<String> { Set((any as? [String: Any]).map { Array($0.keys) } ?? []) }
        func sample(_ name: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("ogcapi-features-ets/\(name)"))) as? [String: Any])
        }
        let collections = try json(try curl("\(server.baseURL)/collections"))
        let sampleCollections = try sample("collections.json")
        #expect(keys(sampleCollections).isSubset(of: keys(collections)))
        let ours = (collections["collections"] as? [[String: Any]])?.first
        let sampleFirst = keys((sampleCollections["collections"] as? [[String: Any]])?.first)
        #expect(!sampleFirst.isEmpty && sampleFirst.subtracting(["description"]).isSubset(of: keys(ours)))
        let items = try json(try curl("\(server.baseURL)/collections/grids/items?limit=3"))
        #expect(keys(try sample("items.json")).isSubset(of: keys(items)))
        let conformance = try json(try curl("\(server.baseURL)/conformance"))
        #expect(keys(try sample("conformance.json")).isSubset(of: keys(conformance)))
    }
}
