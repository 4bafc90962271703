import Foundation
import GeoGrid
import TestSupport
import Testing

/// geo-cli run as a user runs it: the built executable, its full output and exit status.
@Suite struct CLITests {
    static let executable = geoCLIPath

    static func cli(_ args: String..., input: String? = nil, cwd: URL? = nil) throws -> ProcessResult {
        try runProcess(executable, args, input: input.map { Data($0.utf8) }, cwd: cwd)
    }

    @Test func versionAndHelp() throws {
        let v = try Self.cli("--version")
        #expect(v.status == 0 && v.stdout == "\(GeoGridInfo.version)\n")
        let h = try Self.cli("import", "--help")
        #expect(h.status == 0)
        for option in ["--db", "--layer", "--skip-invalid", "--rejects", "--map", "--set", "--crs"] { #expect(h.stdout.contains(option), "\(option)") }
        let completion = try Self.cli("--generate-completion-script", "bash")
        #expect(completion.status == 0 && completion.stdout.contains("complete") && completion.stdout.contains("import"))
    }

    @Test func initImportInfoExport() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("city.sqlite")
        let created = try Self.cli("init", "--db", db)
        #expect(created.status == 0 && created.stdout == "created \(db) (schema version \(GeoStore.schemaVersion))\n")
        let again = try Self.cli("init", "--db", db)
        #expect(again.status == 0 && again.stdout.hasPrefix("opened"))

        let hydrants = """
            lon,lat,name
            24.95,60.17,H1
            24.951,60.171,H2
            """
        let imported = try Self.cli("import", "--db", db, "--layer", "resources", "--format", "csv", "--set", "type=hydrant", "-", input: hydrants)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr == "imported 2 features into resources\n")

        let info = try Self.cli("info", "--db", db, "--json")
        let json = try JSONParser.parse(info.stdout)
        #expect(json["schema_version"] == .number(Double(GeoStore.schemaVersion)))
        #expect(json["layers"]?["resources"]?["count"] == .number(2))
        #expect(json["layers"]?["roads"]?["count"] == .number(0))
        let table = try Self.cli("info", "--db", db)
        #expect(table.stdout.contains("resources    2         POINT"))

        let out = dir.path("out.geojson")
        let exported = try Self.cli("export", "--db", db, "--layer", "resources", "-o", out)
        #expect(exported.status == 0 && exported.stderr == "exported 2 features of resources to \(out)\n")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text == """
            {"type":"FeatureCollection","features":[
            {"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[24.95,60.17]},"properties":{"type":"hydrant","name":"H1","capacity":null,"status":"in_service"}},
            {"type":"Feature","id":2,"geometry":{"type":"Point","coordinates":[24.951,60.171]},"properties":{"type":"hydrant","name":"H2","capacity":null,"status":"in_service"}}
            ]}

            """)
        let seq = try Self.cli("export", "--db", db, "--layer", "resources", "--format", "geojsonseq", "--bbox", "24.9505,60.1705,24.96,60.18")
        #expect(seq.stdout.split(separator: "\n").count == 1 && seq.stdout.contains("H2"))
    }

    @Test func badInputGivesOneLineAndNonZeroExitAndChangesNothing() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("city.sqlite")
        _ = try Self.cli("init", "--db", db)
        let grids = """
            {"type":"Feature","properties":{"code":"910091001001001"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}
            {"type":"Feature","properties":{"code":"9100910010010"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}
            """
        let r = try Self.cli("import", "--db", db, "--layer", "grids", "--format", "geojsonseq", "-", input: grids)
        #expect(r.status != 0)
        #expect(r.stderr == "Error: feature 1 (line 2): grid code '9100910010010' has 13 digits; expected 15 (6 district + 3 street + 3 community + 3 sequence) or the older 14\n")
        let count = try Self.cli("info", "--db", db, "--json")
        #expect(try JSONParser.parse(count.stdout)["layers"]?["grids"]?["count"] == .number(0))

        let missing = try Self.cli("import", "--db", db, "--layer", "grids", dir.path("nope.geojson"))
        #expect(missing.status != 0 && missing.stderr.hasPrefix("Error: cannot read ") && missing.stderr.split(separator: "\n").count == 1)
        let noStore = try Self.cli("info", "--db", dir.path("nothing.sqlite"))
        #expect(noStore.status != 0 && noStore.stderr.contains("no store at"))
        let badLayer = try Self.cli("export", "--db", db, "--layer", "streets")
        #expect(badLayer.status != 0 && badLayer.stderr.contains("streets"))
        let badBox = try Self.cli("export", "--db", db, "--layer", "grids", "--bbox", "1,2,3")
        #expect(badBox.status != 0 && badBox.stderr.contains("--bbox must be minx,miny,maxx,maxy"))
    }

    @Test func skipInvalidWritesRejects() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("city.sqlite")
        _ = try Self.cli("init", "--db", db)
        let roads = """
            {"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"A","highway":"primary"},"geometry":{"type":"LineString","coordinates":[[24.9,60.1],[24.91,60.11]]}},
            {"type":"Feature","properties":{"name":"B"},"geometry":{"type":"LineString","coordinates":[[24.9,60.1]]}},
            {"type":"Feature","properties":{"name":"C","width":"wide"},"geometry":{"type":"LineString","coordinates":[[24.9,60.1],[24.91,60.11]]}}
            ]}
            """
        let file = dir.path("roads.geojson")
        try roads.write(toFile: file, atomically: true, encoding: .utf8)
        let rejects = dir.path("rejects.ndjson")
        let r = try Self.cli("import", "--db", db, "--layer", "roads", "--map", "class=highway", "--skip-invalid", "--rejects", rejects, file)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("imported 1 feature into roads, left out 2 (see \(rejects))\n"))
        let lines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(lines.count == 2)
        #expect(lines[0]["index"] == .number(1) && lines[0]["reason"]?.stringValue?.contains("at least 2 positions") == true)
        #expect(lines[1]["reason"]?.stringValue == "property 'width': 'wide' is not a number")
        #expect(try GeoJSON.feature(from: JSONParser.parse(lines[1]["source"]!.stringValue!))[property: "name"] == .string("C"))
        let withoutSkip = try Self.cli("import", "--db", db, "--layer", "roads", "--rejects", rejects, file)
        #expect(withoutSkip.status != 0 && withoutSkip.stderr.contains("--rejects goes with --skip-invalid"))
    }

    @Test func demoBuildsTheCityStore() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("var/demo.sqlite")
        let r = try Self.cli("demo", "--db", db, "--data", Fixtures.demoCity.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("grids: 33 features") && r.stdout.contains("demo city ready"))
        #expect(!FileManager.default.fileExists(atPath: db + ".building"))
        let broken = TemporaryDirectory()
        try FileManager.default.copyItem(atPath: Fixtures.demoCity.path, toPath: broken.path("data"))
        try "{\"type\":\"FeatureCollection\",\"features\":[1]}".write(toFile: broken.path("data/roads.geojson"), atomically: true, encoding: .utf8)
        let failed = try Self.cli("demo", "--db", db, "--data", broken.path("data"))
        #expect(failed.status != 0)
        let info = try Self.cli("info", "--db", db, "--json")
        #expect(try JSONParser.parse(info.stdout)["layers"]?["roads"]?["count"] == .number(2417), "the earlier store is untouched")
    }
}
