import Foundation
import GeoGrid
import TestSupport
import Testing


/// locate against SpatiaLite's own ST_Contains, on the demo city and on a synthetic city of 10,000 grids.
@Suite(.serialized) struct LocateTests {
    static let synthetic: Result<(GeoStore, TemporaryDirectory), Error> = Result {
        let (store, dir) = try makeStore()
        let city = SyntheticCity.make()
        try importText(store, .communities, city.communities, format: .geojsonseq)
        try importText(store, .grids, city.grids, format: .geojsonseq)
        return (store, dir)
    }

    static let demo: Result<(GeoStore, TemporaryDirectory), Error> = Result {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("demo.sqlite"))
        return (try GeoStore(path: dir.path("demo.sqlite")), dir)
    }

    /// SpatiaLite's answer for every point at once: one join through the R*Tree, ST_Contains on the candidates.
    static func spatialiteOwners(_ store: GeoStore, _ points: [Position]) throws -> [String?] {
        try store.write { db in
            try db.execute("CREATE TEMP TABLE pts (id INTEGER PRIMARY KEY, x REAL, y REAL)")
            let s = try db.prepare("INSERT INTO pts (id, x, y) VALUES (?, ?, ?)")
            for (i, p) in points.enumerated() {
                s.reset()
                try s.bind([.integer(Int64(i)), .real(p.lon), .real(p.lat)])
                try s.step()
            }
            var owners = [String?](repeating: nil, count: points.count)
            let q = try db.prepare("""
                SELECT p.id, g.code FROM pts p JOIN grids g ON g.id IN (
                    SELECT pkid FROM idx_grids_geom WHERE xmin <= p.x AND xmax >= p.x AND ymin <= p.y AND ymax >= p.y)
                WHERE ST_Contains(g.geom, MakePoint(p.x, p.y, 4326))
                """)
            while try q.step() {
                let i = Int(q.int64(0))
                #expect(owners[i] == nil, "point \(i) lies in two grids by SpatiaLite")
                owners[i] = q.text(1)
            }
            try db.execute("DROP TABLE pts")
            return owners
        }
    }

    static func randomPoints(_ n: Int, in box: BBox, seed: UInt64) -> [Position] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in Position(rng.next(in: box.minX...box.maxX), rng.next(in: box.minY...box.maxY)) }
    }

    @Test(arguments: ["demo", "synthetic"])
    func agreesWithSpatiaLiteOnRandomPoints(_ city: String) throws {
        let (store, _) = try (city == "demo" ? Self.demo : Self.synthetic).get()
        let extent = try #require(store.info().layers.first { $0.layer == .grids }?.extent)
        // A margin around the grids puts some points outside every community.
        let mx = (extent.maxX - extent.minX) * 0.03, my = (extent.maxY - extent.minY) * 0.03
        let box = BBox(minX: extent.minX - mx, minY: extent.minY - my, maxX: extent.maxX + mx, maxY: extent.maxY + my)
        let points = Self.randomPoints(100_000, in: box, seed: city == "demo" ? 1 : 2)
        let theirs = try Self.spatialiteOwners(store, points)
        let locator = try store.locator()
        var disagreements = 0, located = 0
        for (p, expected) in zip(points, theirs) {
            let ours = locator.locate(p)
            if ours.grid?.code != expected { disagreements += 1 }
            if expected != nil { located += 1 }
            if ours.owner == .grid { #expect(ours.community?.code == ours.grid.map { String($0.code.prefix(12)) }) }
        }
        #expect(disagreements == 0)
        #expect(located > 80_000, "most points fall in a grid")
    }

    /// On the mosaic's shared edges and vertices every point has exactly one owner (the half-open rule), one
    /// of the grids SpatiaLite says cover it.
    @Test(arguments: ["demo", "synthetic"])
    func sharedEdgesAndVerticesHaveExactlyOneOwner(_ city: String) throws {
        let (store, _) = try (city == "demo" ? Self.demo : Self.synthetic).get()
        let locator = try store.locator()
        var points: [Position] = []
        try store.read { db in
            let s = try db.prepare("SELECT geom FROM grids ORDER BY id")
            while try s.step() {
                let g = try s.withBlob(0) { try SpatiaLiteBlob.decode($0).geometry }
                guard case .multiPolygon(let polys) = g else { continue }
                for ring in polys.flatMap({ $0 }) {
                    for k in 1..<ring.count {
                        points.append(ring[k])
                        // The midpoint of an axis-parallel edge is exact; others are tested at their vertices.
                        if ring[k].lon == ring[k - 1].lon || ring[k].lat == ring[k - 1].lat {
                            points.append(Position((ring[k].lon + ring[k - 1].lon) / 2, (ring[k].lat + ring[k - 1].lat) / 2))
                        }
                    }
                }
            }
        }
        let covering: [[String]] = try store.read { db in
            let q = try db.prepare("""
                SELECT code FROM grids WHERE id IN (SELECT pkid FROM idx_grids_geom WHERE xmin <= ?1 AND xmax >= ?1 AND ymin <= ?2 AND ymax >= ?2)
                AND ST_Covers(geom, MakePoint(?1, ?2, 4326))
                """)
            return try points.map { p in
                q.reset()
                try q.bind([.real(p.lon), .real(p.lat)])
                var codes: [String] = []
                while try q.step() { codes.append(q.text(0)!) }
                return codes
            }
        }
        let districtInterior: [Bool] = try store.read { db in
            let union = try db.prepare("SELECT ST_Union(geom) FROM communities WHERE level = 'community'")
            guard try union.step() else { return [] }
            let outline = union.withBlob(0) { Array($0) }
            let q = try db.prepare("SELECT ST_Contains(?3, MakePoint(?1, ?2, 4326))")
            try q.bind(blob: outline, at: 3)
            return try points.map { p in
                q.rewind()
                try q.bind(.real(p.lon), at: 1)
                try q.bind(.real(p.lat), at: 2)
                return try q.step() && q.int64(0) == 1
            }
        }
        var interior = 0
        for (i, p) in points.enumerated() {
            let owners = locator.gridOwners(p)
            #expect(owners.count <= 1, "\(p) owned by \(owners)")
            if let owner = owners.first { #expect(covering[i].contains(owner), "\(p): \(owner) does not cover it") }
            if districtInterior[i] {
                interior += 1
                #expect(owners.count == 1, "\(p) inside the mosaic has no owner")
            }
        }
        #expect(interior > points.count / 2)
    }

    @Test func halfOpenRuleOnAnAxisParallelMosaic() throws {
        // Two squares side by side and one above: the shared edges go east and north.
        let (store, dir) = try makeStore()
        _ = dir
        let square = { (code: String, x: Int, y: Int) in
            #"{"type":"Feature","properties":{"code":"\#(code)"},"geometry":{"type":"Polygon","coordinates":[[[\#(x),\#(y)],[\#(x + 1),\#(y)],[\#(x + 1),\#(y + 1)],[\#(x),\#(y + 1)],[\#(x),\#(y)]]]}}"#
        }
        try importText(store, .grids, [square("110101001001001", 0, 0), square("110101001001002", 1, 0), square("110101001001003", 0, 1)].joined(separator: "\n"), format: .geojsonseq)
        let l = try store.locator()
        #expect(l.locate(Position(1, 0.5)).grid?.code == "110101001001002", "west-east edge: the eastern grid")
        #expect(l.locate(Position(0.5, 1)).grid?.code == "110101001001003", "south-north edge: the northern grid")
        #expect(l.locate(Position(1, 1)).grid == nil, "the vertex at (1,1) lies on 002's north edge and 003's east edge")
        #expect(l.locate(Position(0, 0)).grid?.code == "110101001001001", "a grid owns its south-west corner")
        #expect(l.locate(Position(2, 0.5)).grid == nil, "the mosaic's east rim belongs to none")
        #expect(l.locate(Position(0.5, 0)).grid?.code == "110101001001001", "the mosaic's south rim belongs to its grid")
    }

    @Test func gapsFallBackToTheCommunityAndOutsideIsSaid() throws {
        let (store, dir) = try makeStore()
        _ = dir
        try importText(store, .communities, """
            {"type":"Feature","properties":{"code":"110101","name":"D"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]]]}}
            {"type":"Feature","properties":{"code":"110101001","name":"S"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]]]}}
            {"type":"Feature","properties":{"code":"110101001002","name":"C"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]]]}}
            """, format: .geojsonseq)
        try importText(store, .grids, #"{"type":"Feature","properties":{"code":"110101001002001","worker_name":"Li"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,4],[0,4],[0,0]]]}}"#)
        let inGrid = try store.locate(Position(1, 1))
        #expect(inGrid.owner == .grid && inGrid.grid?.workerName == "Li" && inGrid.street?.name == "S" && inGrid.district?.code == "110101")
        let gap = try store.locate(Position(3, 1))
        #expect(gap.owner == .communityFallback && gap.grid == nil && gap.community?.name == "C" && gap.district?.name == "D")
        #expect(try store.locate(Position(9, 9)).owner == .outside)
        // The index follows writes through the store.
        try importText(store, .grids, #"{"type":"Feature","properties":{"code":"110101001002002"},"geometry":{"type":"Polygon","coordinates":[[[2,0],[4,0],[4,4],[2,4],[2,0]]]}}"#)
        #expect(try store.locate(Position(3, 1)).grid?.code == "110101001002002")
    }

    /// Issue 9: a store with only streets or districts drawn still answers, from the finest area holding the point.
    @Test func locateWalksUpToTheStreetAndTheDistrict() throws {
        let (store, dir) = try makeStore()
        _ = dir
        // District 0..6 × 0..4; street 0..4; community 0..2 inside it; no grids at all. A second district
        // (7..9) has neither streets nor communities.
        try importText(store, .communities, """
            {"type":"Feature","properties":{"code":"110101","name":"D"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[6,0],[6,4],[0,4],[0,0]]]}}
            {"type":"Feature","properties":{"code":"110101001","name":"S"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]]]}}
            {"type":"Feature","properties":{"code":"110101001002","name":"C"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,4],[0,4],[0,0]]]}}
            {"type":"Feature","properties":{"code":"110102","name":"E"},"geometry":{"type":"Polygon","coordinates":[[[7,0],[9,0],[9,4],[7,4],[7,0]]]}}
            """, format: .geojsonseq)
        let community = try store.locate(Position(1, 1))
        #expect(community.owner == .communityFallback && community.community?.code == "110101001002" && community.street?.name == "S")
        let street = try store.locate(Position(3, 1))
        #expect(street.owner == .streetFallback && street.community == nil && street.street?.code == "110101001" && street.district?.name == "D")
        let district = try store.locate(Position(5, 1))
        #expect(district.owner == .districtFallback && district.street == nil && district.district?.code == "110101")
        let other = try store.locate(Position(8, 1))
        #expect(other.owner == .districtFallback && other.district?.name == "E")
        #expect(try store.locate(Position(6.5, 1)).owner == .outside)
        #expect(QueryJSON.locate(street, at: Position(3, 1))["owner"] == .string("street_fallback"))
    }

    @Test func gridsNotInForceTodayAreLeftOut() throws {
        let (store, dir) = try makeStore()
        _ = dir
        try importText(store, .grids, """
            {"type":"Feature","properties":{"code":"110101001002001","valid_to":"2001-12-31"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,0]]]}}
            {"type":"Feature","properties":{"code":"110101001002002","valid_from":"2002-01-01"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,0]]]}}
            """, format: .geojsonseq)
        #expect(try store.locate(Position(1.5, 0.5)).grid?.code == "110101001002002")
    }

    /// JTS's prepared point predicate cases, where a point's ownership decides them: inside and outside.
    /// (The boundary case is decided by the half-open rule, tested above.)
    @Test func jtsPreparedPointPredicates() throws {
        let xml = try String(contentsOf: Fixtures.url("jts-testxml/TestPreparedPointPredicate.xml"), encoding: .utf8)
        let cases = xml.components(separatedBy: "<case>").dropFirst()
        var checked = 0
        for c in cases {
            func between(_ a: String, _ b: String) -> String? {
                guard let r1 = c.range(of: a), let r2 = c.range(of: b, range: r1.upperBound..<c.endIndex) else { return nil }
                return String(c[r1.upperBound..<r2.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let a = between("<a>", "</a>"), let b = between("<b>", "</b>"), let desc = between("<desc>", "</desc>"),
                let expected = between("\">", "</op>")
            else { continue }
            if desc.contains("boundary") { continue }
            guard case .point(let p) = try WKT.parse(a).geometry, case .polygon(let rings) = try WKT.parse(b).geometry else { continue }
            let index = PolygonIndex(polygons: [rings])
            #expect((index.firstContaining(p) != nil) == (expected == "true"), "\(desc)")
            checked += 1
        }
        #expect(checked == 2)
    }
}
