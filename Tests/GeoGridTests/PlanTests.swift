import Foundation
@testable import GeoGrid
import TestSupport
import Testing

/// Boundary plans on a copy of the demo city, with SpatiaLite's own SQL as the oracle: which buildings and
/// open cases a split moves (point on surface within the new grid), and the areas of overlaps and gaps
/// (ST_Intersection / ST_Difference in UTM 35N).
@Suite struct PlanTests {
    static let grid = "910091002001001"
    static let community = "910091002001"

    /// The demo's one-grid community split at a meridian: west keeps the code, east gets the next one.
    static func split(_ store: GeoStore, at m: Double = 24.9418, shift: Double = 0, eastCode: String = "\(community)002") throws -> JSONValue {
        let (west, east): (String, String) = try store.read { db in
            let s = try db.prepare("""
                SELECT AsGeoJSON(ST_Intersection(geom, BuildMbr(24.93, 60.16, ?1, 60.17, 4326))), AsGeoJSON(ST_Intersection(geom, BuildMbr(?2, 60.16, 24.95, 60.17, 4326)))
                FROM grids WHERE code = ?3
                """)
            try s.bind([.real(m), .real(m + shift), .text(grid)])
            _ = try s.step()
            return (s.text(0)!, s.text(1)!)
        }
        return try JSONParser.parse("""
            {"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"code":"\(grid)"},"geometry":\(west)},
            {"type":"Feature","properties":{"code":"\(eastCode)","worker_name":"East"},"geometry":\(east)}]}
            """)
    }

    static func gridsOf(_ store: GeoStore, _ table: String) throws -> [Int64: String?] {
        try store.read { db in
            let s = try db.prepare("SELECT id, grid_code FROM \(table)\(table == "incidents" ? " WHERE open = 1" : "")")
            var out: [Int64: String?] = [:]
            while try s.step() { out[s.int64(0)] = s.text(1) }
            return out
        }
    }

    @Test func aSplitAppliesMovesWhatSpatiaLiteSaysAndRollsBack() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        let desk = PlanDesk(store: store)
        // Open cases on both sides of the new boundary.
        let cases = IncidentDesk(store: store)
        for i in 0..<12 { _ = try cases.report(IncidentReport(position: Position(24.9400 + Double(i) * 0.00035, 60.16466), category: "E0102"), by: .local()) }
        let buildingsBefore = try Self.gridsOf(store, "buildings"), casesBefore = try Self.gridsOf(store, "incidents")
        let plan = try desk.create(try Self.split(store), title: "split", assignCodes: false, by: .local())
        #expect(plan.communities == [Self.community])
        #expect(plan.grids.map(\.action) == [.change, .add])
        let findings = try desk.check(plan.id)
        #expect(!findings.contains { $0.severity == .error }, "\(findings.map(\.message))")
        let impact = try desk.impact(plan.id)
        let today = PlanDesk.localDay(Date())
        _ = try desk.apply(plan.id, effective: today, by: .local())

        // Oracle: SpatiaLite places each building's point on surface in the grids now in force.
        let expected: [Int64: String] = try store.read { db in
            let s = try db.prepare("""
                SELECT b.id, g.code FROM buildings b JOIN grids g ON g.valid_to IS NULL AND g.community_code = ?
                AND ST_Within(ST_PointOnSurface(b.geom), g.geom)
                """)
            try s.bind([.text(Self.community)])
            var out: [Int64: String] = [:]
            while try s.step() { out[s.int64(0)] = s.text(1)! }
            return out
        }
        let after = try Self.gridsOf(store, "buildings")
        #expect(expected.values.contains("\(Self.community)002") && expected.values.contains(Self.grid))
        for (id, code) in expected { #expect(after[id] == code, "building \(id)") }
        let moved = Set(after.filter { buildingsBefore[$0.key] != $0.value }.keys)
        #expect(moved == Set(impact.buildings.map(\.id)))
        #expect(!moved.isEmpty)
        // Open cases: SpatiaLite's point-in-polygon again; each moved case has a history entry.
        let expectedCases: [Int64: String] = try store.read { db in
            let s = try db.prepare("""
                SELECT i.id, g.code FROM incidents i JOIN grids g ON g.valid_to IS NULL AND g.community_code = ? AND ST_Within(i.geom, g.geom) WHERE i.open = 1
                """)
            try s.bind([.text(Self.community)])
            var out: [Int64: String] = [:]
            while try s.step() { out[s.int64(0)] = s.text(1)! }
            return out
        }
        let casesAfter = try Self.gridsOf(store, "incidents")
        for (id, code) in expectedCases { #expect(casesAfter[id] == code, "case \(id)") }
        let regrids = try store.read { try $0.scalar("SELECT count(*) FROM geogrid_incident_history WHERE action = 'regrid'").integer }
        #expect(regrids == Int64(impact.cases.count) && impact.cases.count > 0)
        // The index answers with the new grid, as of yesterday with the old one.
        let east = impact.buildings.first { $0.to == "\(Self.community)002" }!
        let p = GEOSContext().representativePoint(east.geometry)!
        #expect(try store.locate(p).grid?.code == "\(Self.community)002")
        let yesterday = WorkCalendar.date(WorkCalendar.day(today)! - 1)
        #expect(try store.locator(on: yesterday).locate(p).grid?.code == Self.grid)

        // Rollback: every building and open case back in its grid, the old grid in force again.
        let undo = try desk.rollback(plan.id, by: .local())
        #expect(undo.rollbackOf == plan.id)
        #expect(try Self.gridsOf(store, "buildings") == buildingsBefore)
        #expect(try Self.gridsOf(store, "incidents") == casesBefore)
        #expect(try store.locate(p).grid?.code == Self.grid)
        #expect(try desk.plan(plan.id).status == .rolledBack)
        #expect(throws: EditError.self) { try desk.rollback(plan.id, by: .local()) }
    }

    @Test func overlapsAndGapsAreFoundWithTheAreasSpatiaLiteComputes() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        let desk = PlanDesk(store: store)
        // East half moved 0.0003° east: a gap between the halves. Then west of the line by 0.0003°: an overlap.
        for (shift, kind) in [(0.0003, "gap"), (-0.0003, "overlap")] {
            let plan = try desk.create(try Self.split(store, shift: shift), title: kind, assignCodes: false, by: .local())
            let found = try desk.check(plan.id).filter { $0.kind == kind }
            #expect(found.count == 1, "\(kind): \(found.map(\.message))")
            guard let f = found.first, let area = f.members.first(where: { $0.0 == "area_m2" })?.1.numberValue else { continue }
            #expect(f.severity == .error)
            // Oracle: the same strip in SpatiaLite, in metres (UTM 35N).
            let lo = shift > 0 ? 24.9418 : 24.9418 + shift, hi = shift > 0 ? 24.9418 + shift : 24.9418
            let oracle = try store.read { db in
                try db.scalar("SELECT ST_Area(ST_Transform(ST_Intersection(geom, BuildMbr(?, 60.16, ?, 60.17, 4326)), 32635)) FROM grids WHERE code = ?",
                    [.real(lo), .real(hi), .text(Self.grid)]).json.numberValue!
            }
            #expect(abs(area - oracle) / oracle < 0.005, "\(kind): \(area) m² against SpatiaLite's \(oracle) m²")
            // Refused, and nothing written.
            let before = try store.read { try $0.scalar("SELECT count(*) FROM grids").integer }
            #expect(throws: EditError.self) { try desk.apply(plan.id, effective: PlanDesk.localDay(Date()), by: .local()) }
            #expect(try store.read { try $0.scalar("SELECT count(*) FROM grids").integer } == before)
        }
    }

    @Test func codesAndTheCommunityEdgeAreChecked() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        let desk = PlanDesk(store: store)
        let plan = try desk.create(try Self.split(store, eastCode: "9100910020010"), title: nil, assignCodes: false, by: .local())
        let kinds = Set(try desk.check(plan.id).map(\.kind))
        #expect(kinds.contains("malformed_code"))
        // A grid reaching 0.001° beyond the community's east edge.
        let wide = try store.read { db in
            try db.scalar("SELECT AsGeoJSON(ST_Union(geom, BuildMbr(MbrMaxX(geom) - 0.0001, MbrMinY(geom), MbrMaxX(geom) + 0.001, MbrMaxY(geom), 4326))) FROM grids WHERE code = ?",
                [.text(Self.grid)]).text!
        }
        let outside = try desk.create(try JSONParser.parse(#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"\#(Self.grid)"},"geometry":\#(wide)}]}"#),
            title: nil, assignCodes: false, by: .local())
        #expect(try desk.check(outside.id).contains { $0.kind == "outside_community" && $0.severity == .error })
        // A viewer may not make plans; a planner outside its scope may not either.
        let (viewer, _) = try store.createToken(role: .viewer)
        #expect(throws: EditError.self) { try desk.create(try Self.split(store), title: nil, assignCodes: false, by: viewer) }
        let (planner, _) = try store.createToken(role: .planner, scopes: ["910091001001"])
        #expect(throws: EditError.self) { try desk.create(try Self.split(store), title: nil, assignCodes: false, by: planner) }
    }

    @Test func anApplyThatFailsHalfWayLeavesEverythingAsItWas() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        let desk = PlanDesk(store: store)
        let plan = try desk.create(try Self.split(store), title: nil, assignCodes: false, by: .local())
        let p = Position(24.943, 60.1647)
        let before = (try Self.gridsOf(store, "buildings"), try Self.gridsOf(store, "incidents"), try store.locate(p).grid?.code)
        // The fault: the last statement of the apply (its event) fails.
        try store.write { db in
            try db.execute("CREATE TRIGGER fault BEFORE INSERT ON geogrid_events WHEN NEW.kind = 'plan_applied' BEGIN SELECT RAISE(ABORT, 'injected fault'); END")
        }
        #expect(throws: (any Error).self) { try desk.apply(plan.id, effective: PlanDesk.localDay(Date()), by: .local()) }
        #expect(try Self.gridsOf(store, "buildings") == before.0)
        #expect(try Self.gridsOf(store, "incidents") == before.1)
        #expect(try store.locate(p).grid?.code == before.2)
        #expect(try store.read { try $0.scalar("SELECT count(*) FROM grids WHERE valid_to IS NOT NULL").integer } == 0)
        #expect(try desk.plan(plan.id).status == .draft)
    }

    /// The demo grid cut at two meridians: west, a strip between them, east (codes 001, 003, 002).
    static func threeWay(_ store: GeoStore, at m: Double, width: Double) throws -> JSONValue {
        let parts: [String] = try store.read { db in
            let s = try db.prepare("""
                SELECT AsGeoJSON(ST_Intersection(geom, BuildMbr(24.93, 60.16, ?1, 60.17, 4326))), AsGeoJSON(ST_Intersection(geom, BuildMbr(?1, 60.16, ?2, 60.17, 4326))),
                AsGeoJSON(ST_Intersection(geom, BuildMbr(?2, 60.16, 24.95, 60.17, 4326))) FROM grids WHERE code = ?3
                """)
            try s.bind([.real(m), .real(m + width), .text(grid)])
            _ = try s.step()
            return [s.text(0)!, s.text(1)!, s.text(2)!]
        }
        let codes = [grid, "\(community)003", "\(community)002"]
        let features = zip(codes, parts).map { #"{"type":"Feature","properties":{"code":"\#($0)"},"geometry":\#($1)}"# }
        return try JSONParser.parse(#"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#)
    }

    @Test func aSliverIsFoundWithItsArea() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        let desk = PlanDesk(store: store)
        // A strip 1 m wide (at 60.165°N) between the halves: narrower than the 2 m threshold, all of it a sliver.
        let width = 1 / (111_320 * cos(60.165 * Double.pi / 180))
        let plan = try desk.create(try Self.threeWay(store, at: 24.9418, width: width), title: nil, assignCodes: false, by: .local())
        let slivers = try desk.check(plan.id).filter { $0.kind == "sliver" }
        #expect(slivers.map(\.grids) == [["\(Self.community)003"]])
        let area = try #require(slivers.first?.members.first { $0.0 == "area_m2" }?.1.numberValue)
        let oracle = try store.read { db in
            try db.scalar("SELECT ST_Area(ST_Transform(ST_Intersection(geom, BuildMbr(24.9418, 60.16, ?, 60.17, 4326)), 32635)) FROM grids WHERE code = ?",
                [.real(24.9418 + width), .text(Self.grid)]).json.numberValue!
        }
        #expect(abs(area - oracle) / oracle < 0.02, "\(area) m² against SpatiaLite's \(oracle) m²")
        #expect(slivers.first?.severity == .warning)
        // 10 m wide: no sliver.
        let wide = try desk.create(try Self.threeWay(store, at: 24.9418, width: 10 * width), title: nil, assignCodes: false, by: .local())
        #expect(try desk.check(wide.id).filter { $0.kind == "sliver" }.isEmpty)
    }

    @Test func cutBuildingsAndSizesAreWhatSpatiaLiteMeasures() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        let desk = PlanDesk(store: store)
        // The city's band: 200–300 households (one worker per grid), and 100–200 for this community.
        try desk.loadSettings(try JSONParser.parse(#"{"size":{"preset":"households_200_300"},"communities":{"\#(Self.community)":{"size":{"min":100,"max":200}}}}"#), by: .local())
        let plan = try desk.create(try Self.split(store), title: nil, assignCodes: false, by: .local())
        let findings = try desk.check(plan.id)
        let halves = "(SELECT code, geom FROM geogrid_plan_grids WHERE plan_id = \(plan.id))"
        // Oracle, cut buildings: more than 1 m² and 2% of the footprint in each of two grids (areas in UTM 35N).
        let cut: Set<Int64> = try store.read { db in
            let s = try db.prepare("""
                SELECT b.id FROM buildings b JOIN \(halves) g ON ST_Intersects(b.geom, g.geom)
                WHERE ST_Area(ST_Transform(ST_Intersection(b.geom, g.geom), 32635)) > max(1, 0.02 * ST_Area(ST_Transform(b.geom, 32635)))
                GROUP BY b.id HAVING count(*) > 1
                """)
            var out = Set<Int64>()
            while try s.step() { out.insert(s.int64(0)) }
            return out
        }
        let found = findings.filter { $0.kind == "cut_building" }
        #expect(!cut.isEmpty)
        #expect(Set(found.compactMap { $0.members.first { $0.0 == "building_id" }?.1.numberValue.map { Int64($0) } }) == cut)
        // Each says where the building goes: the half holding its point on surface.
        let goes: [Int64: String] = try store.read { db in
            let s = try db.prepare("SELECT b.id, g.code FROM buildings b JOIN \(halves) g ON ST_Within(ST_PointOnSurface(b.geom), g.geom)")
            var out: [Int64: String] = [:]
            while try s.step() { out[s.int64(0)] = s.text(1)! }
            return out
        }
        for f in found {
            let id = Int64(f.members.first { $0.0 == "building_id" }!.1.numberValue!)
            #expect(f.members.first { $0.0 == "goes_to" }?.1.stringValue == goes[id], "building \(id)")
        }
        // Sizes against the community's own band, from the households SpatiaLite puts in each half.
        let households: [String: Double] = try store.read { db in
            let s = try db.prepare("SELECT g.code, sum(b.households) FROM buildings b JOIN \(halves) g ON ST_Within(ST_PointOnSurface(b.geom), g.geom) GROUP BY g.code")
            var out: [String: Double] = [:]
            while try s.step() { out[s.text(0)!] = s.double(1) }
            return out
        }
        let outOfBand = Set(households.filter { $0.value < 100 || $0.value > 200 }.keys)
        // The band parts the halves: one in it, one not (so the test tells a band applied from one ignored).
        #expect(outOfBand.count == 1 && households.count == 2, "\(households)")
        let sized = findings.filter { $0.kind == "size" }
        #expect(Set(sized.flatMap(\.grids)) == outOfBand)
        for f in sized { #expect(f.members.first { $0.0 == "households" }?.1.numberValue == households[f.grids[0]]) }
        // A document with an unknown member or a preset that does not exist is refused, and the one in force stays.
        #expect(throws: EditError.self) { try desk.loadSettings(try JSONParser.parse(#"{"size":{"preset":"households_1_2"}}"#), by: .local()) }
        #expect(throws: EditError.self) { try desk.loadSettings(try JSONParser.parse(#"{"sliver":3}"#), by: .local()) }
        #expect(try desk.settingsDocument()?["communities"]?[Self.community]?["size"]?["max"]?.numberValue == 200)
    }

    @Test func duplicateCodesAndCodesOfAnotherCommunityAreErrors() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        let desk = PlanDesk(store: store)
        let geometry = try store.read { try $0.scalar("SELECT AsGeoJSON(geom) FROM grids WHERE code = ?", [.text(Self.grid)]).text! }
        // A new grid (action add) under the code of a grid in force.
        let duplicate = try desk.create(try JSONParser.parse(#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"\#(Self.grid)","action":"add"},"geometry":\#(geometry)}]}"#),
            title: nil, assignCodes: false, by: .local())
        #expect(try desk.check(duplicate.id).contains { $0.kind == "duplicate_code" && $0.severity == .error && $0.grids == [Self.grid] })
        // A grid drawn in this community under another community's code.
        let other = try store.read { try $0.scalar("SELECT code FROM communities WHERE level = 'community' AND code <> ? ORDER BY code LIMIT 1", [.text(Self.community)]).text! }
        let misplaced = try desk.create(try JSONParser.parse(#"{"type":"FeatureCollection","communities":["\#(Self.community)"],"features":[{"type":"Feature","properties":{"code":"\#(Self.grid)"},"geometry":\#(geometry)},{"type":"Feature","properties":{"code":"\#(other)009","action":"add"},"geometry":\#(geometry)}]}"#),
            title: nil, assignCodes: false, by: .local())
        let found = try desk.check(misplaced.id)
        #expect(found.contains { $0.kind == "code_prefix" && $0.grids == ["\(other)009"] }, "\(found.map(\.message))")
        #expect(throws: EditError.self) { try desk.apply(misplaced.id, effective: store.today, by: .local()) }
    }

    /// With "street_bounded" asked for, a boundary drawn across blocks is measured: the length along no road and
    /// not along the community's edge, against SpatiaLite's buffers and differences in UTM 35N.
    @Test func aBoundaryAlongNoRoadIsMeasured() throws {
        let dir = TemporaryDirectory()
        let store = try GeoStore(path: try demoStore(dir))
        let desk = PlanDesk(store: store)
        let plan = try desk.create(try Self.split(store), title: nil, assignCodes: false, by: .local())
        #expect(try desk.check(plan.id).filter { $0.kind == "street_bounded" }.isEmpty)  // not asked for: not checked
        try desk.loadSettings(try JSONParser.parse(#"{"street_bounded":{"within_m":15,"max_share":0.05}}"#), by: .local())
        let found = try desk.check(plan.id).filter { $0.kind == "street_bounded" }
        #expect(!found.isEmpty)
        for f in found {
            let code = f.grids[0]
            let share = try #require(f.members.first { $0.0 == "share" }?.1.numberValue)
            let oracle = try store.read { db in
                try db.scalar("""
                    SELECT ST_Length(ST_Difference(ST_Difference(rim, (SELECT ST_Buffer(ST_Union(ST_Transform(r.geom, 32635)), 15) FROM roads r
                      WHERE MbrIntersects(r.geom, ST_Expand(p.geom, 0.002)))), ST_Buffer(ST_Boundary(ST_Transform(c.geom, 32635)), 15))) / ST_Length(rim)
                    FROM (SELECT geom, ST_Boundary(ST_Transform(geom, 32635)) AS rim FROM geogrid_plan_grids WHERE plan_id = ? AND code = ?) p,
                      communities c WHERE c.code = ?
                    """, [.integer(plan.id), .text(code), .text(Self.community)]).json.numberValue!
            }
            #expect(abs(share - oracle) < 0.02, "\(code): \(share) against SpatiaLite's \(oracle)")
            #expect(f.geometry.map { if case .multiLineString = $0 { true } else { false } } == true)
        }
    }

    /// The planar short cuts the checks take never contradict GEOS: where they say "no sliver", an opening by
    /// mitred buffers finds none; where they say "inside", GEOS's containsProperly agrees. Random quadrilaterals,
    /// thin strips, sharp wedges and buildings near the edges, in metres.
    @Test func thePlanarShortCutsAgreeWithGEOS() throws {
        let geos = GEOSContext()
        var rng = SeededRandom(seed: 17)
        var sure = 0, surelyIn = 0
        for _ in 0..<600 {
            // A quadrilateral of 20–200 m, sometimes squashed to a strip or pinched to a wedge.
            let w = rng.next(in: 20...200), h = rng.next() < 0.3 ? rng.next(in: 0.5...6) : rng.next(in: 20...200)
            var ring = [Position(0, 0), Position(w, rng.next(in: -h / 2...h / 2)), Position(w + rng.next(in: -w / 2...w / 2), h), Position(rng.next(in: -w / 3...w / 3), h)]
            if rng.next() < 0.2 { ring[2] = Position(w * 3, rng.next(in: 0...h / 4)) }
            ring.append(ring[0])
            let grid = Geometry.polygon([ring])
            guard geos.invalidityReason(grid) == nil, let g = geos.geometry(grid) else { continue }
            if PlanGeometry.surelyNoSliver(grid, width: 2) {
                sure += 1
                let opened = geos.mitredBuffer(try #require(geos.mitredBuffer(g, -1)), 1)
                let thin = try #require(opened.flatMap { geos.difference(g, $0) })
                let significant = geos.polygons(thin).filter { geos.geometry(.polygon($0)).map { geos.area($0) > 4 } ?? false }
                #expect(significant.isEmpty, "\(ring)")
            }
            // A 10–30 m building somewhere over the grid's box.
            let box = grid.bbox!
            let cx = rng.next(in: box.minX...box.maxX), cy = rng.next(in: box.minY...box.maxY), s = rng.next(in: 5...15)
            let building = Geometry.polygon([[Position(cx - s, cy - s), Position(cx + s, cy - s), Position(cx + s, cy + s), Position(cx - s, cy + s), Position(cx - s, cy - s)]])
            if PlanGeometry.surelyInside(building, grid) {
                surelyIn += 1
                let prepared = try #require(geos.prepare(g))
                #expect(geos.containsProperly(prepared, try #require(geos.geometry(building))), "\(ring) \(building)")
            }
        }
        // Both short cuts are taken often enough to matter, and not always.
        #expect(sure > 100 && sure < 550 && surelyIn > 30)
    }
}
