import Foundation
@testable import GeoGrid
import TestSupport
import Testing

/// Search over the demo city, held against SpatiaLite: the ids SQL's `LIKE` finds (ASCII case-insensitive) for
/// texts that touch no accented letter, every hit's point on its feature by `ST_Intersects`, grids as `/locate`
/// gives them at that point, and the answers after writes.
@Suite(.serialized) struct SearchTests {
    static let dir = TemporaryDirectory()
    static let path: String = {
        let path = dir.path("demo.sqlite")
        try! DemoCity.build(from: Fixtures.demoCity.path, at: path)
        return path
    }()

    func sql(_ store: GeoStore, _ query: String, _ values: [FieldValue] = []) throws -> Set<Int64> {
        try store.read { db in
            let s = try db.prepare(query)
            try s.bind(values)
            var out: Set<Int64> = []
            while try s.step() { out.insert(s.int64(0)) }
            return out
        }
    }

    func ids(_ store: GeoStore, _ text: String, _ kind: SearchHit.Kind) throws -> Set<Int64> {
        Set(try store.search(text, kinds: [kind], limit: 100_000).map(\.id))
    }

    @Test func findsWhatSQLFindsByAddressNameAndCode() throws {
        let store = try GeoStore(path: Self.path)
        var nonEmpty = 0
        for text in ["katu", "KATU 1", "aleksanterinkatu", "tie 2", "kirk", "pohjoisesplanadi 3", "9100910040010", "grid 0", "kluuvi"] {
            let like = "%" + text.lowercased() + "%"
            let buildings = try sql(store, "SELECT id FROM buildings WHERE address LIKE ? OR name LIKE ?", [.text(like), .text(like)])
            #expect(try ids(store, text, .building) == buildings, "buildings for \(text)")
            let grids = try sql(store, "SELECT id FROM grids WHERE (code LIKE ? OR name LIKE ?) AND (valid_to IS NULL OR valid_to >= date('now'))",
                                [.text(like), .text(like)])
            #expect(try ids(store, text, .grid) == grids, "grids for \(text)")
            let areas = try sql(store, "SELECT id FROM communities WHERE code LIKE ? OR name LIKE ?", [.text(like), .text(like)])
            #expect(try ids(store, text, .area) == areas, "areas for \(text)")
            // A road is one hit per name: the names SQL finds.
            let roadNames = try store.read { db in
                let s = try db.prepare("SELECT DISTINCT name FROM roads WHERE name LIKE ?")
                try s.bind([.text(like)])
                var out: Set<String> = []
                while try s.step() { out.insert(s.text(0)!) }
                return out
            }
            #expect(Set(try store.search(text, kinds: [.road], limit: 100_000).map(\.label)) == roadNames, "roads for \(text)")
            if !buildings.isEmpty || !grids.isEmpty { nonEmpty += 1 }
        }
        #expect(nonEmpty >= 7)
        // Accents are folded: "toolo" finds every address SQL finds spelt Töölö.
        let toolo = try sql(store, "SELECT id FROM buildings WHERE address LIKE '%Töölö%' OR name LIKE '%Töölö%' OR address LIKE '%töölö%' OR name LIKE '%töölö%'")
        #expect(!toolo.isEmpty)
        #expect(try ids(store, "toolo", .building) == toolo)
        #expect(try ids(store, "TÖÖLÖ", .building) == toolo)
    }

    @Test func hitsLieOnTheirFeatureAndRankTheWholeTextFirst() throws {
        let store = try GeoStore(path: Self.path)
        for text in ["katu", "kluuvi", "910091004001004", "mannerheimintie"] {
            let hits = try store.search(text, limit: 30)
            #expect(!hits.isEmpty)
            // Best first: the match kinds never get better down the list.
            #expect(hits.map(\.match) == hits.map(\.match).sorted(), "\(text)")
            for h in hits where h.kind != .incident {
                let table = ["grid": "grids", "area": "communities", "building": "buildings", "road": "roads"][h.kind.rawValue]!
                let on = try sql(store, "SELECT id FROM \(table) WHERE id = ? AND ST_Intersects(geom, MakePoint(?, ?, 4326))",
                                 [.integer(h.id), .real(h.point.lon), .real(h.point.lat)])
                #expect(on == [h.id], "\(h.kind) \(h.label) at \(h.point)")
                #expect(h.bbox.minX <= h.point.lon && h.point.lon <= h.bbox.maxX && h.bbox.minY <= h.point.lat && h.point.lat <= h.bbox.maxY)
                if h.kind == .grid { #expect(try store.locate(h.point).grid?.code == h.label) }
            }
        }
        let exact = try store.search("910091004001004", limit: 5)
        #expect(exact.first?.kind == .grid && exact.first?.label == "910091004001004" && exact.first?.match == 0)
        #expect(try store.search("   ", limit: 5).isEmpty)
        #expect(try store.search("no such place anywhere", limit: 5).isEmpty)
    }

    @Test func findsCasesByNumberAndFollowsWrites() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("demo.sqlite")
        try FileManager.default.copyItem(atPath: Self.path, toPath: path)
        let store = try GeoStore(path: path)
        try DemoCity.addWeekOfCases(to: store, count: 40)
        let numbers = try store.read { db in
            let s = try db.prepare("SELECT id, case_number FROM incidents ORDER BY case_number LIMIT 3")
            var out: [(Int64, String)] = []
            while try s.step() { out.append((s.int64(0), s.text(1)!)) }
            return out
        }
        try #require(numbers.count == 3)
        let one = try store.search(numbers[1].1, kinds: [.incident], limit: 5)
        #expect(one.map(\.id) == [numbers[1].0] && one.first?.match == 0)
        let year = String(numbers[0].1.prefix(5))
        let all = try sql(store, "SELECT id FROM incidents WHERE case_number LIKE ?", [.text(year + "%")])
        #expect(try ids(store, year, .incident) == all)

        // An address changed, a building added and one deleted: search follows at once.
        let before = try ids(store, "aleksanterinkatu", .building)
        try #require(before.count >= 2)
        let changed = before.min()!, deleted = before.max()!
        try store.write { db in
            try db.execute("UPDATE buildings SET address = 'Uusikatu 99' WHERE id = \(changed)")
            try db.execute("DELETE FROM buildings WHERE id = \(deleted)")
            try db.execute("INSERT INTO buildings (name, address, geom) SELECT 'Annex', 'Aleksanterinkatu 999', geom FROM buildings WHERE id = \(changed)")
        }
        let after = try ids(store, "aleksanterinkatu", .building)
        let expected = try sql(store, "SELECT id FROM buildings WHERE address LIKE '%aleksanterinkatu%' OR name LIKE '%aleksanterinkatu%'")
        #expect(after == expected)
        #expect(!after.contains(changed) && !after.contains(deleted) && after.count == before.count - 1)
        #expect(try ids(store, "uusikatu 99", .building) == [changed])
    }
}
