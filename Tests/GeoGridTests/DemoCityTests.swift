import Foundation
import GeoGrid
import TestSupport
import Testing

/// The demo city's promises, checked with SpatiaLite's own SQL functions as the oracle, and GDAL.
@Suite(.serialized) struct DemoCityTests {
    static let built: Result<(GeoStore, TemporaryDirectory), Error> = Result {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("demo.sqlite"))
        return (try GeoStore(path: dir.path("demo.sqlite")), dir)
    }

    static func rows(_ sql: String) throws -> [[FieldValue]] {
        try built.get().0.read { db in
            let s = try db.prepare(sql)
            var out: [[FieldValue]] = []
            while try s.step() { out.append((0..<s.columnCount).map { s.value($0) }) }
            return out
        }
    }

    @Test func gridsCoverTheirCommunityWithNoGap() throws {
        let rows = try Self.rows("""
            SELECT c.code, ST_Area(c.geom), ST_Area(ST_SymDifference(c.geom, (SELECT ST_Union(g.geom) FROM grids g WHERE g.community_code = c.code))),
                (SELECT count(*) FROM grids g WHERE g.community_code = c.code)
            FROM communities c WHERE c.level = 'community'
            """)
        #expect(rows.count == 6)
        for r in rows {
            #expect((r[3].integer ?? 0) > 0, "community \(r[0]) has no grids")
            // SpatiaLite returns NULL for an empty difference: the grids are exactly the community.
            guard case .real(let area) = r[1], case .real(let gap) = r[2] else { continue }
            #expect(gap <= area * 1e-12, "community \(r[0]): grids and community differ by \(gap) square degrees")
        }
    }

    @Test func gridsDoNotOverlap() throws {
        let overlaps = try Self.rows("""
            SELECT a.code, b.code, ST_Area(ST_Intersection(a.geom, b.geom)) AS shared FROM grids a JOIN grids b ON a.id < b.id
            WHERE ST_Intersects(a.geom, b.geom) AND shared > 0
            """)
        #expect(overlaps.isEmpty, "\(overlaps)")
    }

    @Test func areasNestDistrictStreetCommunity() throws {
        let unmatched = try Self.rows("""
            SELECT c.code FROM communities c WHERE c.level != 'district'
            AND NOT EXISTS (SELECT 1 FROM communities p WHERE p.code = c.parent_code AND ST_Covers(p.geom, c.geom))
            """)
        #expect(unmatched.isEmpty, "areas outside their parent: \(unmatched)")
        let district = try Self.rows("SELECT ST_Area(ST_SymDifference(d.geom, (SELECT ST_Union(geom) FROM communities WHERE level = 'street'))) FROM communities d WHERE level = 'district'")
        #expect(district.count == 1 && (district[0][0] == .real(0) || district[0][0] == .null))
    }

    @Test func gridCodesAreValidUniqueAndNumberedInReadingOrder() throws {
        let rows = try Self.rows("""
            SELECT code, community_code, Y(ST_PointOnSurface(geom)), X(ST_PointOnSurface(geom)),
                (SELECT max(MbrMaxY(g2.geom)) FROM grids g2 WHERE g2.community_code = grids.community_code)
            FROM grids ORDER BY code
            """)
        #expect(rows.count == 33)
        var byCommunity: [String: [(seq: Int, row: Int, x: Double)]] = [:]
        for r in rows {
            let code = try #require(r[0].text.flatMap(GridCode.init))
            #expect(!code.isLegacy && code.community == r[1].text)
            guard case .real(let y) = r[2], case .real(let x) = r[3], case .real(let top) = r[4] else { continue }
            // README rule: rows of 300 m from north to south, west to east within a row.
            let row = Int((top - y) / (300 / 111_320.0))
            byCommunity[code.community, default: []].append((code.sequence, row, x))
        }
        for (community, grids) in byCommunity {
            #expect(grids.map(\.seq) == Array(1...grids.count), "\(community) sequences")
            for (a, b) in zip(grids, grids.dropFirst()) {
                #expect(a.row < b.row || (a.row == b.row && a.x < b.x), "\(community): grid \(a.seq) before \(b.seq)")
            }
        }
    }

    @Test func gridHouseholdsAreTheSumOfTheirBuildings() throws {
        let rows = try Self.rows("""
            SELECT g.code, g.households, (SELECT coalesce(sum(b.households), 0) FROM buildings b WHERE b.grid_code = g.code) FROM grids g
            """)
        for r in rows { #expect(r[1] == r[2], "\(r[0])") }
        let households = rows.compactMap { $0[1].integer }.sorted()
        // data/boundaries/README.md: 22 of the 33 grids hold 200-500 households, median 384.
        #expect(households.filter { (200...500).contains($0) }.count == 22)
        #expect(households[households.count / 2] == 384)
    }

    @Test func buildingsLieInTheGridTheyName() throws {
        let misplaced = try Self.rows("""
            SELECT b.id FROM buildings b LEFT JOIN grids g ON g.code = b.grid_code
            WHERE b.grid_code IS NULL OR g.code IS NULL OR NOT ST_Within(ST_PointOnSurface(b.geom), g.geom)
            """)
        #expect(misplaced.isEmpty, "\(misplaced.count) buildings outside their grid")
    }

    /// GDAL opens the store as it is: every layer with its geometry type, EPSG:4326 and its feature count.
    @Test(.enabled(if: which("ogrinfo") != nil, "needs ogrinfo (gdal-bin)"))
    func gdalOpensTheStore() throws {
        let (store, _) = try Self.built.get()
        let info = try store.info()
        for layer in info.layers {
            let r = try runProcess(which("ogrinfo")!, ["-ro", "-so", store.path, layer.layer.rawValue])
            #expect(r.status == 0, "\(r.stderr)")
            let expected = ["MULTIPOLYGON": "Multi Polygon", "POINT": "Point", "MULTILINESTRING": "Multi Line String"][layer.geometryType]!
            #expect(r.stdout.contains("Geometry: \(expected)"), "\(layer.layer)")
            #expect(r.stdout.contains("Feature Count: \(layer.count)"), "\(layer.layer)")
            #expect(r.stdout.contains("ID[\"EPSG\",4326]"), "\(layer.layer)")
        }
    }
}

/// The committed demo data is what the committed script makes from the committed OSM extract.
@Suite struct DemoCityDerivationTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") && which("osmium") != nil, "needs osmium-tool and Debian's python3-shapely"))
    func demoDataIsReproducibleFromOSM() throws {
        let out = TemporaryDirectory()
        let repo = Fixtures.repository
        let r = try runProcess("/usr/bin/python3", [repo.appendingPathComponent("scripts/make-demo-city.py").path,
            repo.appendingPathComponent("data/osm/Helsinki.osm.pbf").path, out.url.path])
        #expect(r.status == 0, "\(r.stderr)")
        for layer in Layer.mapLayers {
            let made = try Data(contentsOf: out.url.appendingPathComponent("\(layer.rawValue).geojson"))
            let committed = try Data(contentsOf: Fixtures.demoCity.appendingPathComponent("\(layer.rawValue).geojson"))
            #expect(made == committed, "\(layer.rawValue).geojson differs from what the script makes")
        }
    }
}
