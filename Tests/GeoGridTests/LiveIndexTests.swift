import Foundation
@testable import GeoGrid
import Synchronization
import TestSupport
import Testing

/// The in-memory indexes follow every write through the store, inside the write: after each one, answers
/// equal a brute-force scan of the rows SQL reads back, with no rebuild on the next query.
@Suite(.serialized) struct LiveIndexTests {
    static let types = ["hydrant", "aed", "hospital"]

    func resourceStore(count: Int) throws -> (GeoStore, TemporaryDirectory) {
        let (store, dir) = try makeStore()
        var rng = SeededRandom(seed: 31)
        let lines = (0..<count).map { i in
            let lon = 24.90 + rng.next() * 0.1, lat = 60.15 + rng.next() * 0.05
            return #"{"type":"Feature","properties":{"type":"\#(Self.types[i % 3])","status":"in_service"},"geometry":{"type":"Point","coordinates":[\#(lon),\#(lat)]}}"#
        }
        try importText(store, .resources, lines.joined(separator: "\n"), format: .geojsonseq)
        return (store, dir)
    }

    /// The k nearest by a scan of every row as SQL reads it, with the index's own distance function.
    func bruteForce(_ store: GeoStore, _ p: Position, k: Int, type: String?) throws -> [Int64] {
        let rows: [(Int64, Double)] = try store.read { db in
            let s = try db.prepare("SELECT id, type, X(geom), Y(geom) FROM resources")
            var out: [(Int64, Double)] = []
            while try s.step() {
                guard type == nil || s.text(1) == type else { continue }
                out.append((s.int64(0), Geodesy.distance(p, Position(s.double(2), s.double(3)))))
            }
            return out
        }
        return rows.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(k).map(\.0)
    }

    func status(_ store: GeoStore, _ name: String) -> QueryIndexStatus { store.queryIndexStatus.first { $0.name == name }! }

    @Test func nearestFollowsInsertsUpdatesAndDeletes() throws {
        let (store, dir) = try resourceStore(count: 3_000)
        defer { withExtendedLifetime(dir) {} }
        _ = try store.resourceIndex()
        let fresh = status(store, "nearest")
        #expect(fresh.built && fresh.rows == 3_000 && fresh.pendingChanges == 0)
        var rng = SeededRandom(seed: 32)
        var nextQuery = SeededRandom(seed: 33)
        var merges = 0
        defer { #expect((1...2).contains(merges), "\(merges) merges") }
        for round in 0..<25 {
            try store.write { db in
                for _ in 0..<12 {
                    let id = Int64(1 + Int(rng.next() * 3_000))
                    switch Int(rng.next() * 4) {
                    case 0: try db.execute("UPDATE resources SET geom = MakePoint(\(24.90 + rng.next() * 0.1), \(60.15 + rng.next() * 0.05), 4326) WHERE id = \(id)")
                    case 1: try db.execute("UPDATE resources SET type = '\(Self.types[Int(rng.next() * 3)])' WHERE id = \(id)")
                    case 2: try db.execute("DELETE FROM resources WHERE id = \(id)")
                    default:
                        try db.execute("""
                            INSERT INTO resources (type, status, geom) VALUES ('aed', 'in_service', MakePoint(\(24.90 + rng.next() * 0.1), \(60.15 + rng.next() * 0.05), 4326))
                            """)
                    }
                }
            }
            // Still built (no rebuild pending), carrying the write in its overlay, or just merged (when the overlay
            // passed its threshold: 256 for 3,000 rows, reached once or twice in these 25 rounds).
            #expect(status(store, "nearest").built)
            if status(store, "nearest").pendingChanges == 0 { merges += 1 }
            let rows = try store.read { db in try db.scalar("SELECT count(*) FROM resources") }
            #expect(rows == .integer(Int64(status(store, "nearest").rows)), "round \(round)")
            for _ in 0..<20 {
                let p = Position(24.89 + nextQuery.next() * 0.12, 60.14 + nextQuery.next() * 0.07)
                let type: String? = nextQuery.next() < 0.5 ? nil : "aed"
                let ours = try store.nearest(p, k: 5, types: type.map { [$0] }).map(\.resource.id)
                #expect(ours == (try bruteForce(store, p, k: 5, type: type)), "round \(round) at \(p)")
            }
        }
    }

    @Test func aLargeWriteMergesTheOverlay() throws {
        let (store, dir) = try resourceStore(count: 3_000)
        defer { withExtendedLifetime(dir) {} }
        _ = try store.resourceIndex()
        try store.write { db in try db.execute("UPDATE resources SET geom = MakePoint(X(geom) + 0.001, Y(geom), 4326) WHERE id % 2 = 0") }
        // 1,500 rows changed: 3,000 overlay entries (each row skipped in the main index and added anew), past
        // the threshold (√(2 · 3,000) ≈ 77, floor 256), so the overlay was merged into a new main index.
        #expect(status(store, "nearest").pendingChanges == 0)
        #expect(status(store, "nearest").rows == 3_000)
        for p in [Position(24.95, 60.17), Position(24.91, 60.19), Position(25.2, 60.0)] {
            #expect(try store.nearest(p, k: 7).map(\.resource.id) == (try bruteForce(store, p, k: 7, type: nil)))
        }
    }

    @Test func aRolledBackWriteLeavesTheIndexAsItWas() throws {
        let (store, dir) = try resourceStore(count: 500)
        defer { withExtendedLifetime(dir) {} }
        let p = Position(24.95, 60.17)
        let before = try store.nearest(p, k: 3)
        #expect(throws: StoreError.self) {
            try store.write { db in
                try db.execute("DELETE FROM resources")
                throw StoreError("changed my mind")
            }
        }
        #expect(try store.nearest(p, k: 3) == before)
        #expect(status(store, "nearest").pendingChanges == 0)
    }

    @Test func aroundAndLocateFollowWrites() throws {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("demo.sqlite"))
        let store = try GeoStore(path: dir.path("demo.sqlite"))
        let p = Position(24.9445, 60.1700)
        _ = try store.around(p, radius: 300)
        let owner = try #require(try store.locate(p).grid)
        let building = try #require(try store.around(p, radius: 300).buildings.first?.entry.id)
        try store.write { db in
            try db.execute("UPDATE grids SET worker_name = 'Aino Virtanen' WHERE id = \(owner.id)")
            try db.execute("DELETE FROM buildings WHERE id = \(building)")
            try db.execute("""
                INSERT INTO buildings (grid_code, floors, households, population, geom) VALUES ('\(owner.code)', 9, 40, 90,
                  CastToMultiPolygon(BuildMbr(24.9444, 60.16995, 24.9446, 60.17005, 4326)))
                """)
        }
        #expect(try store.locate(p).grid?.workerName == "Aino Virtanen")
        let after = try store.around(p, radius: 300)
        #expect(!after.buildings.contains { $0.entry.id == building })
        let added = try #require(after.buildings.first)
        #expect(added.distance == 0)
        let floors = Layer.buildings.fields.firstIndex { $0.name == "floors" }!
        #expect(added.entry.values[floors] == .integer(9))
        #expect(status(store, "features buildings").pendingChanges == 2)
    }

    /// Writes by another connection to the file (another process, as QGIS editing it would) are caught up with
    /// by `followExternalWrites`; the store's own writes are not mistaken for them.
    @Test func anotherConnectionsWritesAreCaughtUpWith() throws {
        let (store, dir) = try resourceStore(count: 500)
        defer { withExtendedLifetime(dir) {} }
        let p = Position(24.95, 60.17)
        #expect(try store.followExternalWrites() == false, "the first call only notes where the file is")
        _ = try store.nearest(p, k: 3)
        try store.write { db in try db.execute("DELETE FROM resources WHERE id IN (SELECT id FROM resources ORDER BY id LIMIT 5)") }
        #expect(try store.followExternalWrites() == false, "its own write is not another's")
        #expect(status(store, "nearest").pendingChanges == 5)

        let other = try GeoStore(path: store.path)
        try other.write { db in
            try db.execute("DELETE FROM resources WHERE type = 'hospital'")
            try db.execute("INSERT INTO resources (type, status, geom) VALUES ('aed', 'in_service', MakePoint(\(p.lon), \(p.lat), 4326))")
        }
        #expect(try store.nearest(p, k: 3).map(\.resource.id) != (try bruteForce(store, p, k: 3, type: nil)), "not seen before catching up")
        let seen = Mutex<[StoreChange]>([])
        store.onCommit { change in seen.withLock { $0.append(change) } }
        #expect(try store.followExternalWrites() == true)
        let changes = seen.withLock { $0 }
        #expect(changes.count == 1 && changes.first?.wholeLayers == Set(Layer.builtIn), "observers hear every layer changed")
        #expect(try store.nearest(p, k: 3).map(\.resource.id) == (try bruteForce(store, p, k: 3, type: nil)))
        #expect(try store.nearest(p, k: 5, types: ["hospital"]).isEmpty)
        #expect(status(store, "nearest").pendingChanges == 0, "rebuilt from the file")
        #expect(try store.followExternalWrites() == false, "once")
    }

    /// The locator after writes to grids (made from the grids it kept and those re-read) answers as one read
    /// afresh from the file, at random points: grids moved, added, deleted, closed and dated ahead.
    @Test func theLocatorAfterGridWritesEqualsOneReadAfresh() throws {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("demo.sqlite"))
        let store = try GeoStore(path: dir.path("demo.sqlite"))
        _ = try store.locator()
        let tomorrow = WorkCalendar.date(WorkCalendar.day(store.today)! + 1)
        try store.write { db in
            try db.execute("UPDATE grids SET geom = ST_Translate(geom, 0.0004, 0.0002, 0) WHERE id IN (SELECT id FROM grids ORDER BY id LIMIT 3)")
            try db.execute("DELETE FROM grids WHERE id = (SELECT max(id) FROM grids)")
        }
        try store.write { db in
            try db.execute("UPDATE grids SET valid_to = '2001-01-01' WHERE id = (SELECT id FROM grids ORDER BY id LIMIT 1 OFFSET 5)")
            try db.execute("""
                INSERT INTO grids (code, community_code, valid_from, geom) SELECT code || '9', community_code, '\(tomorrow)', geom FROM grids
                WHERE id = (SELECT id FROM grids ORDER BY id LIMIT 1 OFFSET 7)
                """)
            try db.execute("""
                INSERT INTO grids (code, community_code, geom) SELECT substr(code, 1, 12) || '777', community_code, ST_Translate(geom, 0.0003, 0, 0) FROM grids
                WHERE id = (SELECT id FROM grids ORDER BY id LIMIT 1 OFFSET 9)
                """)
        }
        let extent = try #require(try store.info().layers.first { $0.layer == .grids }?.extent)
        var rng = SeededRandom(seed: 3)
        func compare() throws {
            let live = try store.locator()
            let fresh = try store.read { try GeoStore.buildLocator($0, day: store.today) }
            #expect(live.gridCount == fresh.gridCount)
            #expect(live.day == fresh.day)
            for _ in 0..<3_000 {
                let p = Position(rng.next(in: extent.minX...extent.maxX), rng.next(in: extent.minY...extent.maxY))
                #expect(live.locate(p) == fresh.locate(p), "\(p)")
                #expect(live.gridOwners(p) == fresh.gridOwners(p), "\(p)")
            }
        }
        // The written grids are indexed on their own beside the others (a few of them: no rebuild).
        let after = try store.locator()
        #expect(after.overlay.grids.count == 3 + 1 && after.removed.count == 5)
        try compare()
        // Enough writes that the grids are indexed whole again.
        try store.write { db in
            try db.execute("UPDATE grids SET geom = ST_Translate(geom, 0.0001, 0, 0) WHERE id % 2 = 0")
            for pass in 0..<2 {
                try db.execute("""
                    INSERT INTO grids (code, community_code, geom) SELECT substr(code, 1, 12) || (\(500 + 200 * pass) + id), community_code, ST_Translate(geom, -0.0002, 0.0001, 0)
                    FROM grids WHERE valid_to IS NULL AND (valid_from IS NULL OR valid_from <= '\(store.today)')
                    """)
            }
        }
        #expect(try store.locator().overlay.grids.isEmpty)
        try compare()
    }

    /// Features in a box, as a list and as a visit without copies, equal SpatiaLite's `ST_Intersects` with the
    /// box, by id, before and after writes that move, delete and add buildings (the overlay in use).
    @Test func featuresInABoxEqualSpatiaLitesAfterWrites() throws {
        let dir = TemporaryDirectory()
        try DemoCity.build(from: Fixtures.demoCity.path, at: dir.path("demo.sqlite"))
        let store = try GeoStore(path: dir.path("demo.sqlite"))
        let extent = try #require(try store.info().layers.first { $0.layer == .buildings }?.extent)
        var rng = SeededRandom(seed: 41)
        func compare() throws {
            let index = try store.shapeIndex(.buildings)
            var nonEmpty = 0
            defer { #expect(nonEmpty > 20) }
            for _ in 0..<60 {
                let x = rng.next(in: extent.minX...extent.maxX), y = rng.next(in: extent.minY...extent.maxY)
                let box = BBox(minX: x, minY: y, maxX: x + rng.next(in: 0.0002...0.01), maxY: y + rng.next(in: 0.0001...0.005))
                let expected = try sqlIDs(store, intersecting: box)
                if !expected.isEmpty { nonEmpty += 1 }
                var visited: [Int64] = []
                index.forEach(intersecting: box) { visited.append($0.id) }
                #expect(index.entries(intersecting: box).map(\.id) == expected, "\(box)")
                #expect(visited == expected, "\(box)")
            }
        }
        try compare()
        try store.write { db in
            try db.execute("UPDATE buildings SET geom = ST_Translate(geom, 0.001, 0.0005, 0) WHERE id % 7 = 0")
            try db.execute("DELETE FROM buildings WHERE id % 11 = 0")
            try db.execute("INSERT INTO buildings (name, geom) SELECT 'copy', ST_Translate(geom, -0.002, 0, 0) FROM buildings WHERE id % 13 = 0")
        }
        #expect(try store.shapeIndex(.buildings).pendingChanges > 0)
        try compare()
    }

    /// The cases' nearest index is not built with the others (every report would update it in the writer's
    /// thread): the first `/nearest` on cases builds it, and from then on it follows reports as any index does.
    @Test func theCasesNearestIndexIsBuiltWhenFirstAskedFor() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        try store.prepareQueryIndexes()
        #expect(!status(store, "nearest incidents").built)
        #expect(status(store, "nearest").built && status(store, "features incidents").built)
        let (token, _) = try store.createToken(role: .admin)
        let desk = IncidentDesk(store: store)
        func report(_ p: Position) throws -> Int64 {
            guard case .int(let id)? = try desk.report(IncidentReport(position: p, category: "E0102"), by: token).feature.id else { throw StoreError("no id") }
            return id
        }
        let first = try report(Position(24.9452, 60.1701))
        #expect(!status(store, "nearest incidents").built, "a report does not build it")
        let counted = try store.read { try $0.scalar("SELECT count(*) FROM incidents").integer }
        #expect(try store.pointIndex(.incidents).nearest(Position(24.9452, 60.1701), k: 1).first?.resource.id == first)
        #expect(status(store, "nearest incidents").built && Int64(status(store, "nearest incidents").rows) == counted)
        let second = try report(Position(24.9391, 60.1688))
        #expect(try store.pointIndex(.incidents).nearest(Position(24.9391, 60.1688), k: 1).first?.resource.id == second)
        #expect(status(store, "nearest incidents").pendingChanges > 0, "followed the report in its overlay, not rebuilt")
    }
}
