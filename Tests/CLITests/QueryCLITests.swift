import Foundation
import GeoGrid
import TestSupport
import Testing

@Suite struct QueryCLITests {
    static func cli(_ args: String..., input: String? = nil) throws -> ProcessResult {
        try runProcess(CLITests.executable, args, input: input.map { Data($0.utf8) })
    }

    /// A store with a small synthetic city in Beijing and a few resources.
    static func beijing() throws -> (String, TemporaryDirectory) {
        let dir = TemporaryDirectory()
        let db = dir.path("bj.sqlite")
        _ = try cli("init", "--db", db)
        let city = SyntheticCity.make(side: 8, blocks: 2, seed: 3, origin: Position(116.38, 39.90), cell: 0.002)
        for (layer, text) in [("communities", city.communities), ("grids", city.grids)] {
            let r = try cli("import", "--db", db, "--layer", layer, "--format", "geojsonseq", "-", input: text)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let hydrants = "lon,lat,name\n116.385,39.905,H1\n116.391,39.911,H2\n116.3851,39.9051,H3\n"
        #expect(try cli("import", "--db", db, "--layer", "resources", "--format", "csv", "--set", "type=hydrant", "-", input: hydrants).status == 0)
        return (db, dir)
    }

    @Test func batchLocateKeepsInputOrderAndSaysNull() throws {
        let (db, dir) = try Self.beijing()
        _ = dir
        let input = """
            lon,lat
            116.3855,39.9055
            0,0
            oops,1
            116.3871,39.9103
            """
        let r = try Self.cli("locate", "--db", db, "--input", "-", input: input)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try r.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(lines.count == 4)
        #expect(lines[0]["owner"] == .string("grid") && lines[0]["grid"]?["code"]?.stringValue?.hasPrefix("110105001001") == true)
        #expect(lines[1]["owner"] == .string("outside") && lines[1]["grid"] == .null)
        #expect(lines[2]["error"]?.stringValue?.contains("not numbers") == true && lines[2]["index"] == .number(2))
        #expect(lines[3]["owner"] == .string("grid"))
        // The same points as newline-delimited GeoJSON give the same answers.
        let geojson = """
            {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[116.3855,39.9055]}}
            {"type":"Point","coordinates":[0,0]}
            """
        let g = try Self.cli("locate", "--db", db, "--input", "-", input: geojson)
        #expect(g.stdout.split(separator: "\n").prefix(2) == r.stdout.split(separator: "\n").prefix(2))
    }

    @Test func gcj02InputFindsTheSameGridAndAnswersInGCJ02() throws {
        let (db, dir) = try Self.beijing()
        _ = dir
        let wgs = Position(116.3855, 39.9055)
        let gcj = ChinaCoordinates.wgsToGCJ(wgs)
        let plain = try Self.cli("locate", "--db", db, "--lon", "\(wgs.lon)", "--lat", "\(wgs.lat)", "--json")
        let shifted = try Self.cli("locate", "--db", db, "--lon", "\(gcj.lon)", "--lat", "\(gcj.lat)", "--crs", "gcj02", "--json")
        let a = try JSONParser.parse(plain.stdout), b = try JSONParser.parse(shifted.stdout)
        #expect(a["grid"]?["code"] != nil && a["grid"]?["code"] == b["grid"]?["code"])
        // Without --crs the GCJ-02 point is hundreds of metres off: another grid or none.
        let wrong = try JSONParser.parse(Self.cli("locate", "--db", db, "--lon", "\(gcj.lon)", "--lat", "\(gcj.lat)", "--json").stdout)
        #expect(wrong["grid"]?["code"] != a["grid"]?["code"])

        let n = try JSONParser.parse(Self.cli("nearest", "--db", db, "--lon", "\(gcj.lon)", "--lat", "\(gcj.lat)", "--crs", "gcj02", "-k", "1", "--json").stdout)
        let hit = try #require(n["resources"]?.arrayValue?.first)
        let expected = ChinaCoordinates.wgsToGCJ(Position(116.3851, 39.9051))
        #expect(abs((hit["lon"]?.numberValue ?? 0) - expected.lon) < 1e-9 && abs((hit["lat"]?.numberValue ?? 0) - expected.lat) < 1e-9)
        #expect(hit["name"] == .string("H3"))
    }

    @Test func nearestTableAndBadInput() throws {
        let (db, dir) = try Self.beijing()
        _ = dir
        let r = try Self.cli("nearest", "--db", db, "--lon", "116.385", "--lat", "39.905", "-k", "2")
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 4 && lines[2].contains("H1") && lines[2].contains("0.0") && lines[3].contains("H3"))
        let bad = try Self.cli("nearest", "--db", db, "--lon", "200", "--lat", "39.905")
        #expect(bad.status != 0 && bad.stderr.contains("--lon must be within -180…180"))
        let noPoint = try Self.cli("locate", "--db", db)
        #expect(noPoint.status != 0 && noPoint.stderr.contains("give --lon and --lat"))
    }

    /// Issue 9: western and southern coordinates are values, not unknown options, after every coordinate option.
    @Test func negativeCoordinatesAreValues() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("west.sqlite")
        _ = try Self.cli("init", "--db", db)
        let hydrants = "lon,lat,name\n-95.9,-41.2,H1\n-95.91,-41.21,H2\n"
        #expect(try Self.cli("import", "--db", db, "--layer", "resources", "--format", "csv", "--set", "type=hydrant", "-", input: hydrants).status == 0)
        let l = try Self.cli("locate", "--db", db, "--lon", "-95.9", "--lat", "-41.2", "--json")
        #expect(l.status == 0, "\(l.stderr)")
        #expect(try JSONParser.parse(l.stdout)["lon"] == .number(-95.9))
        let n = try Self.cli("nearest", "--db", db, "--lon", "-95.9", "--lat", "-41.2", "-k", "1", "--json")
        #expect(n.status == 0, "\(n.stderr)")
        #expect(try JSONParser.parse(n.stdout)["resources"]?.arrayValue?.first?["name"] == .string("H1"))
        let a = try Self.cli("around", "--db", db, "--lon", "-95.9", "--lat", "-41.2", "--radius", "100", "--json")
        #expect(a.status == 0, "\(a.stderr)")
        let e = try Self.cli("export", "--db", db, "--layer", "resources", "--bbox", "-95.905,-41.205,-95.895,-41.195")
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.contains("H1") && !e.stdout.contains("H2"))
    }
}
