import Foundation
import GeoGrid
import TestSupport
import Testing

@Suite struct StoreTests {
    @Test func newStoreHasSpatiaLiteMetadataAndEveryLayer() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let rows: [String] = try store.read { db in
            let s = try db.prepare("SELECT f_table_name, geometry_type, srid, spatial_index_enabled FROM geometry_columns ORDER BY f_table_name")
            var out: [String] = []
            while try s.step() { out.append("\(s.text(0)!) \(s.int64(1)) \(s.int64(2)) \(s.int64(3))") }
            return out
        }
        // SpatiaLite's geometry_columns codes: 1 point, 5 multilinestring, 6 multipolygon. Plans' grids are a
        // geometry table too (QGIS shows and edits a proposal), without a spatial index.
        #expect(rows == ["buildings 6 4326 1", "communities 6 4326 1", "geogrid_plan_grids 6 4326 0", "grids 6 4326 1", "incidents 1 4326 1", "resources 1 4326 1", "roads 5 4326 1"])
        #expect(try store.read { try $0.scalar("PRAGMA journal_mode").text } == "wal")
        #expect(try store.info().schemaVersion == GeoStore.schemaVersion)
    }

    @Test func columnsMatchTheLayerFields() throws {
        let (store, dir) = try makeStore()
        _ = dir
        for layer in Layer.builtIn {
            let columns: [String] = try store.read { db in
                let s = try db.prepare("SELECT name FROM pragma_table_info('\(layer.rawValue)')")
                var out: [String] = []
                while try s.step() { out.append(s.text(0)!) }
                return out
            }
            // Migration 2 added the extra attributes' column after the geometry; incidents (migration 3) has it before.
            let tail = layer == .incidents ? [Layer.extraColumn, "geom"] : ["geom", Layer.extraColumn]
            #expect(columns == ["id"] + layer.fields.map(\.name) + tail, "\(layer)")
        }
    }

    @Test func refusesFilesThatAreNotGeoGridStores() throws {
        let dir = TemporaryDirectory()
        #expect { try GeoStore(path: dir.path("missing.sqlite")) } throws: { "\($0)".contains("no store at") }
        let other = dir.path("other.sqlite")
        do {
            let c = try Connection(path: other)
            try c.execute("CREATE TABLE t (x)")
        }
        #expect { try GeoStore(path: other, create: true) } throws: { "\($0)".contains("not a GeoGrid store") }
        let text = dir.path("text.sqlite")
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try GeoStore(path: text) }
    }

    @Test func refusesAStoreFromANewerGeoGrid() throws {
        let (store, dir) = try makeStore()
        try store.write { db in try db.execute("UPDATE geogrid_meta SET value = '99' WHERE key = 'schema_version'") }
        #expect { try GeoStore(path: dir.path("store.sqlite")) } throws: { "\($0)".contains("newer than this GeoGrid") }
    }

    @Test func aFailedWriteLeavesNothingBehind() throws {
        let (store, dir) = try makeStore()
        _ = dir
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try store.write { db in
                try db.execute("INSERT INTO roads (name, geom) VALUES ('x', GeomFromText('MULTILINESTRING((0 0, 1 1))', 4326))")
                throw Boom()
            }
        }
        #expect(try store.read { try $0.scalar("SELECT count(*) FROM roads") } == .integer(0))
    }

    /// Readers see a snapshot: a write in progress on another thread is invisible until it commits.
    @Test func readersSeeCommittedDataOnly() async throws {
        let (store, dir) = try makeStore()
        _ = dir
        let inside = AsyncStream<Void>.makeStream()
        let release = DispatchSemaphore(value: 0)
        let writer = Task.detached {
            try store.write { db in
                try db.execute("INSERT INTO roads (name, geom) VALUES ('x', GeomFromText('MULTILINESTRING((0 0, 1 1))', 4326))")
                inside.continuation.yield()
                release.wait()
            }
        }
        for await _ in inside.stream { break }
        #expect(try store.read { try $0.scalar("SELECT count(*) FROM roads") } == .integer(0))
        release.signal()
        try await writer.value
        #expect(try store.read { try $0.scalar("SELECT count(*) FROM roads") } == .integer(1))
    }

    /// Our BLOB writer and SpatiaLite agree: SpatiaLite reads what we write, we read what it writes.
    @Test func spatiaLiteBlobAgreesWithSpatiaLite() throws {
        let (store, dir) = try makeStore()
        _ = dir
        let cases: [(Geometry, String)] = [
            (.point(Position(24.5, 60.25)), "POINT(24.5 60.25)"),
            (.lineString([Position(0, 0), Position(1, 2.5)]), "LINESTRING(0 0, 1 2.5)"),
            (.polygon([[Position(0, 0), Position(4, 0), Position(4, 4), Position(0, 0)]]), "POLYGON((0 0, 4 0, 4 4, 0 0))"),
            (.multiPoint([Position(1, 1), Position(2, 2)]), "MULTIPOINT(1 1, 2 2)"),
            (.multiLineString([[Position(0, 0), Position(1, 1)], [Position(2, 2), Position(3, -3)]]), "MULTILINESTRING((0 0, 1 1), (2 2, 3 -3))"),
            (.multiPolygon([[[Position(0, 0), Position(10, 0), Position(10, 10), Position(0, 0)], [Position(5, 2), Position(8, 2), Position(8, 5), Position(5, 2)]],
                [[Position(20, 20), Position(21, 20), Position(21, 21), Position(20, 20)]]]),
             "MULTIPOLYGON(((0 0, 10 0, 10 10, 0 0), (5 2, 8 2, 8 5, 5 2)), ((20 20, 21 20, 21 21, 20 20)))"),
        ]
        try store.read { db in
            for (geometry, wkt) in cases {
                let s = try db.prepare("SELECT AsText(?), ST_Equals(?, GeomFromText(?, 4326)), MbrMinX(?), MbrMaxY(?), SRID(?), GeomFromText(?, 4326)")
                let blob = SpatiaLiteBlob.encode(geometry)
                for i: Int32 in [1, 2, 4, 5, 6] { try s.bind(blob: blob, at: i) }
                try s.bind(.text(wkt), at: 3)
                try s.bind(.text(wkt), at: 7)
                #expect(try s.step())
                #expect(s.text(0)?.replacingOccurrences(of: ", ", with: ",") == wkt.replacingOccurrences(of: ", ", with: ","), "\(wkt)")
                #expect(s.int64(1) == 1, "\(wkt)")
                #expect(s.double(2) == geometry.bbox!.minX && s.double(3) == geometry.bbox!.maxY)
                #expect(s.int64(4) == 4326)
                let theirs = try s.withBlob(5) { try SpatiaLiteBlob.decode($0) }
                #expect(theirs.geometry == geometry && theirs.srid == 4326, "\(wkt)")
            }
        }
    }
}
