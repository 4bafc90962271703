import Foundation
import GeoGrid
import TestSupport
import Testing

/// Issue 9: every attribute kept, and layers of the city's own, through the CLI and GDAL.
@Suite struct OpenStoreTests {
    static func cli(_ args: String..., input: String? = nil) throws -> ProcessResult {
        try runProcess(CLITests.executable, args, input: input.map { Data($0.utf8) })
    }

    /// A hydrant file as cities keep them: many columns the resources layer has no field for.
    static let hydrants = """
        lon,lat,name,FLOW,STATIC_PRESSURE,SIZE_MM,CONDITION,INSPECTED,CODE,ACTIVE
        24.9401,60.1701,H1,1060,0.35,150,good,2026-05-01,007,true
        24.9402,60.1702,H2,880.5,0.30,100,worn,2026-04-11,012,false
        24.9501,60.1801,H3,,0.41,150,good,2026-03-02,120,true
        """

    @Test func everyAttributeIsKeptWithItsTypeAndComesBack() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("city.sqlite")
        _ = try Self.cli("init", "--db", db)
        let r = try Self.cli("import", "--db", db, "--layer", "resources", "--set", "type=hydrant", "--format", "csv", "-", input: Self.hydrants)
        #expect(r.status == 0, "\(r.stderr)")
        let out = try Self.cli("export", "--db", db, "--layer", "resources", "--format", "geojsonseq")
        let features = try out.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(features.count == 3)
        let h1 = features[0]["properties"]!
        // CSV text that reads as a number or boolean is kept as one; codes with a leading zero stay text.
        #expect(h1["FLOW"] == .number(1060) && h1["STATIC_PRESSURE"] == .number(0.35) && h1["CONDITION"] == .string("good"))
        #expect(h1["CODE"] == .string("007") && h1["ACTIVE"] == .bool(true) && h1["INSPECTED"] == .string("2026-05-01"))
        #expect(features[1]["properties"]?["FLOW"] == .number(880.5))
        #expect(features[2]["properties"]?["FLOW"] == .null, "an empty cell is null")
        // GeoJSON keeps every JSON type, nested values included, and a re-import gives the same export.
        let nested = #"{"type":"Feature","properties":{"type":"aed","cabinet":{"locked":true,"code":[1,2]},"note":null,"floors":3},"geometry":{"type":"Point","coordinates":[24.95,60.17]}}"#
        #expect(try Self.cli("import", "--db", db, "--layer", "resources", "-", "--format", "geojsonseq", input: nested).status == 0)
        let all = try Self.cli("export", "--db", db, "--layer", "resources", "--format", "geojsonseq").stdout
        let aed = try JSONParser.parse(String(all.split(separator: "\n")[3]))["properties"]!
        #expect(aed["cabinet"]?["locked"] == .bool(true) && aed["cabinet"]?["code"]?.arrayValue?.count == 2 && aed["note"] == .null && aed["floors"] == .number(3))
        let db2 = dir.path("again.sqlite")
        _ = try Self.cli("init", "--db", db2)
        #expect(try Self.cli("import", "--db", db2, "--layer", "resources", "--format", "geojsonseq", "-", input: all).status == 0)
        #expect(try Self.cli("export", "--db", db2, "--layer", "resources", "--format", "geojsonseq").stdout == all)
        // --drop-unmapped keeps today's behaviour and says what it dropped.
        let db3 = dir.path("dropped.sqlite")
        _ = try Self.cli("init", "--db", db3)
        let d = try Self.cli("import", "--db", db3, "--layer", "resources", "--set", "type=hydrant", "--format", "csv", "--drop-unmapped", "-", input: Self.hydrants)
        #expect(d.status == 0 && d.stderr.contains("FLOW"))
        #expect(!(try Self.cli("export", "--db", db3, "--layer", "resources").stdout.contains("FLOW")))
        // nearest --json has the flow beside the distance.
        let n = try JSONParser.parse(try Self.cli("nearest", "--db", db, "--lon", "24.9401", "--lat", "60.1701", "-k", "1", "--json").stdout)
        let hit = n["resources"]?.arrayValue?.first
        #expect(hit?["FLOW"] == .number(1060) && hit?["distance_m"] == .number(0))
        // The JSON column is text SpatiaLite's own JSON functions read: an independent look at what was stored.
        let sql = try runProcess(which("sqlite3")!, [db, "SELECT json_extract(extra_properties, '$.FLOW') FROM resources ORDER BY id LIMIT 1"])
        #expect(sql.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1060")
    }

    @Test func aDefinedLayerIsARealSpatiaLiteLayer() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("city.sqlite")
        _ = try Self.cli("init", "--db", db)
        let made = try Self.cli("layer", "create", "--db", db, "cameras", "--geometry", "point", "--field", "end:date", "--field", "order:integer",
            "--field", "keeper_phone:text:personal", "--field", "live:boolean", "--field", "seen:timestamp", "--title", "Video cameras")
        #expect(made.status == 0, "\(made.stderr)")
        // Bad definitions: one line, non-zero exit, nothing made.
        let bad = [
            ["layer", "create", "--db", db, "grids", "--geometry", "polygon"], ["layer", "create", "--db", db, "Bad-Name", "--geometry", "point"],
            ["layer", "create", "--db", db, "x1", "--geometry", "point", "--field", "a:money"],
            ["layer", "create", "--db", db, "x2", "--geometry", "point", "--field", "a:text", "--field", "A:text"],
            ["layer", "create", "--db", db, "x3", "--geometry", "point", "--field", "geom:text"],
            ["layer", "create", "--db", db, "cameras", "--geometry", "point"], ["layer", "drop", "--db", db, "roads"],
        ]
        for args in bad {
            let r = try runProcess(CLITests.executable, args)
            #expect(r.status != 0 && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
        let cameras = """
            {"type":"Feature","properties":{"end":"2027-01-31","order":3,"keeper_phone":"555-0101","live":true,"seen":"2026-11-30T08:15:00+08:00","brand":"Hik"},"geometry":{"type":"Point","coordinates":[24.941,60.171]}}
            {"type":"Feature","properties":{"end":"2027-02-28","order":4,"live":"no","seen":"2026-11-30 01:00"},"geometry":{"type":"Point","coordinates":[24.95,60.18]}}
            """
        let imported = try Self.cli("import", "--db", db, "--layer", "cameras", "--format", "geojsonseq", "-", input: cameras)
        #expect(imported.status == 0, "\(imported.stderr)")
        let badRow = #"{"type":"Feature","properties":{"live":"maybe"},"geometry":{"type":"Point","coordinates":[24.9,60.1]}}"#
        let refused = try Self.cli("import", "--db", db, "--layer", "cameras", "--format", "geojsonseq", "-", input: badRow)
        #expect(refused.status == 1 && refused.stderr.contains("not a boolean"))
        let line = try Self.cli("import", "--db", db, "--layer", "cameras", "--format", "geojsonseq", "-",
            input: #"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#)
        #expect(line.status == 1)
        let out = try Self.cli("export", "--db", db, "--layer", "cameras", "--format", "geojsonseq").stdout.split(separator: "\n")
        let first = try JSONParser.parse(String(out[0]))["properties"]!
        #expect(first["end"] == .string("2027-01-31") && first["order"] == .number(3) && first["live"] == .bool(true))
        #expect(first["seen"] == .string("2026-11-30T00:15:00Z"), "timestamps are kept in UTC")
        #expect(first["brand"] == .string("Hik"))
        #expect(try JSONParser.parse(String(out[1]))["properties"]?["live"] == .bool(false))
        // layer list --json shows it with its fields and count.
        let list = try JSONParser.parse(try Self.cli("layer", "list", "--db", db, "--json").stdout)
        let entry = list["layers"]?.arrayValue?.first { $0["name"] == .string("cameras") }
        #expect(entry?["count"] == .number(2) && entry?["title"] == .string("Video cameras") && entry?["built_in"] == .bool(false))
        #expect(entry?["fields"]?.arrayValue?.contains { $0["name"] == .string("keeper_phone") && $0["personal"] == .bool(true) } == true)
        // nearest --layer answers any point layer.
        let n = try JSONParser.parse(try Self.cli("nearest", "--db", db, "--layer", "cameras", "--lon", "24.941", "--lat", "60.171", "-k", "2", "--json").stdout)
        let hits = n["features"]?.arrayValue ?? []
        #expect(hits.count == 2 && hits[0]["brand"] == .string("Hik") && hits[0]["distance_m"] == .number(0) && hits[1]["order"] == .number(4))
        #expect(try Self.cli("nearest", "--db", db, "--layer", "roads", "--lon", "24.941", "--lat", "60.171").status != 0)
        // GDAL lists the new layer as a point layer in EPSG:4326 with its columns, and reads the keyword-named field.
        if let ogrinfo = which("ogrinfo") {
            let info = try runProcess(ogrinfo, ["-ro", "-so", db, "cameras"])
            #expect(info.stdout.contains("Geometry: Point") && info.stdout.contains("Feature Count: 2") && info.stdout.contains("4326"), "\(info.stdout)")
            #expect(info.stdout.contains("end:") && info.stdout.contains("extra_properties:"))
            let sql = try runProcess(ogrinfo, ["-ro", "-q", db, "-sql", "SELECT \"order\" FROM cameras WHERE \"end\" = '2027-02-28'"])
            #expect(sql.stdout.contains("order (Integer) = 4"), "\(sql.stdout)")
        }
        // SpatiaLite's own check of the R*Tree the layer got.
        let check = try runProcess(which("sqlite3")!, [db, "SELECT load_extension('mod_spatialite'); SELECT CheckSpatialIndex('cameras', 'geom');"])
        #expect(check.stdout.split(separator: "\n").last == "1", "\(check.stdout) \(check.stderr)")
        // Dropping: refused while it holds features, then with --force.
        let kept = try Self.cli("layer", "drop", "--db", db, "cameras")
        #expect(kept.status != 0 && kept.stderr.contains("--force"))
        #expect(try Self.cli("layer", "drop", "--db", db, "cameras", "--force").status == 0)
        #expect(!(try Self.cli("layer", "list", "--db", db).stdout.contains("cameras")))
        let tables = try runProcess(which("sqlite3")!, [db, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%cameras%'"])
        #expect(tables.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    /// A built-in layer's tiles carry the extra attributes its configuration names, and only those.
    @Test(.enabled(if: venvPython != nil && which("curl") != nil, "needs .venv-test and curl (scripts/setup.sh test)"))
    func configuredTilePropertiesOfABuiltInLayer() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("city.sqlite")
        _ = try Self.cli("init", "--db", db)
        #expect(try Self.cli("import", "--db", db, "--layer", "resources", "--set", "type=hydrant", "--format", "csv", "-", input: Self.hydrants).status == 0)
        let bad = try Self.cli("layer", "configure", "--db", db, "resources", "--title", "Mine")
        #expect(bad.status != 0 && bad.stderr.contains("built in"))
        #expect(try Self.cli("layer", "configure", "--db", db, "resources", "--tile-properties", "type,name,FLOW").status == 0)
        let server = try RunningServer(db: db)
        let f = TileID.worldFraction(Position(24.9401, 60.1701))
        let tile = try curl("\(server.baseURL)/tiles/resources/16/\(Int(f.x * 65_536))/\(Int(f.y * 65_536)).mvt")
        #expect(tile.status == 200)
        let path = dir.path("t.mvt")
        try tile.body.write(to: URL(fileURLWithPath: path))
        let decoded = try runProcess(venvPython!, ["-c", """
            import json, sys, mapbox_vector_tile
            t = mapbox_vector_tile.decode(open(sys.argv[1], 'rb').read())
            print(json.dumps(sorted([f['properties'] for f in t['resources']['features']], key=lambda p: p['name'])))
            """, path])
        let parsed = try JSONSerialization.jsonObject(with: Data(decoded.stdout.utf8))
        let props = try #require(parsed as? [[String: Any]], "\(decoded.stderr)")
        #expect(props.first?["FLOW"] as? Int == 1060 && props.first?["name"] as? String == "H1")
        #expect(props.allSatisfy { Set($0.keys).isSubset(of: ["type", "name", "FLOW"]) }, "\(props)")
    }

    @Test func aLayerFromASchemaFile() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("city.sqlite")
        _ = try Self.cli("init", "--db", db)
        let schema = dir.path("green.json")
        try #"{"name":"green_areas","title":"Green areas","geometry":"polygon","fields":[{"name":"kind","type":"text"},{"name":"area_m2","type":"real"}],"tile_properties":["kind"]}"#
            .write(toFile: schema, atomically: true, encoding: .utf8)
        let r = try Self.cli("layer", "create", "--db", db, "--schema", schema)
        #expect(r.status == 0, "\(r.stderr)")
        let list = try JSONParser.parse(try Self.cli("layer", "list", "--db", db, "--json").stdout)
        let entry = list["layers"]?.arrayValue?.first { $0["name"] == .string("green_areas") }
        #expect(entry?["geometry"] == .string("polygon") && entry?["tile_properties"] == .array([.string("kind")]))
        try #"{"name":"x","geometry":"point","colour":"red"}"#.write(toFile: schema, atomically: true, encoding: .utf8)
        let bad = try Self.cli("layer", "create", "--db", db, "--schema", schema)
        #expect(bad.status != 0 && bad.stderr.contains("colour"))
    }
}

/// QGIS itself (Debian's python3-qgis, headless): a defined layer opens as a SpatiaLite layer with its columns,
/// keyword names included, and the server's collections open as OAPIF layers with every feature.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/qgis"), "needs python3-qgis (scripts/setup.sh test)"))
struct QGISTests {
    @Test func qgisOpensTheStoreAndTheServer() throws {
        let dir = TemporaryDirectory()
        let db = dir.path("demo.sqlite")
        try DemoCity.build(from: Fixtures.demoCity.path, at: db)
        #expect(try runProcess(CLITests.executable, ["layer", "create", "--db", db, "cameras", "--geometry", "point", "--field", "end:date",
            "--field", "order:integer"]).status == 0)
        let cameras = #"{"type":"Feature","properties":{"end":"2027-01-31","order":3,"BRAND":"Hik"},"geometry":{"type":"Point","coordinates":[24.941,60.171]}}"#
        #expect(try runProcess(CLITests.executable, ["import", "--db", db, "--layer", "cameras", "--format", "geojsonseq", "-"], input: Data(cameras.utf8)).status == 0)
        let server = try RunningServer(db: db)
        let script = """
            import os, sys
            os.environ['QT_QPA_PLATFORM'] = 'offscreen'
            from qgis.core import QgsApplication, QgsVectorLayer
            app = QgsApplication([], False); app.initQgis()
            db, base = sys.argv[1], sys.argv[2]
            cams = QgsVectorLayer(f"dbname='{db}' table=\\"cameras\\" (geom)", 'cameras', 'spatialite')
            f = next(cams.getFeatures())
            print('cameras', cams.isValid(), cams.featureCount(), cams.crs().authid(), f['order'], f['end'].toString('yyyy-MM-dd') if hasattr(f['end'], 'toString') else f['end'])
            for name in ['grids', 'buildings', 'cameras']:
                lyr = QgsVectorLayer(f"url='{base}' typename='{name}'", name, 'OAPIF')
                print('oapif', name, lyr.isValid(), sum(1 for _ in lyr.getFeatures()))
            app.exitQgis()
            """
        let r = try runProcess("/usr/bin/python3", ["-c", script, db, server.baseURL])
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("cameras True 1 EPSG:4326 3 2027-01-31"), "\(r.stdout) \(r.stderr.suffix(500))")
        let store = try GeoStore(path: db)
        for name in ["grids", "buildings", "cameras"] {
            let count = try store.read { try $0.scalar("SELECT count(*) FROM \(SQL.quote(name))").integer! }
            #expect(lines.contains("oapif \(name) True \(count)"), "\(name): \(r.stdout)")
        }
    }

    /// A plan's grids are a geometry table QGIS edits as it is: a planner moves one boundary there, and the next
    /// check sees what the move did.
    @Test func qgisMovesABoundaryOfAPlanAndTheCheckSeesIt() throws {
        let dir = TemporaryDirectory()
        let db = try demoStore(dir)
        let (west, east) = try PlanHTTPTests.halves(db)
        let file = dir.path("split.geojson")
        try #"{"type":"FeatureCollection","features":[\#(PlanHTTPTests.feature(PlanHTTPTests.grid, west)),\#(PlanHTTPTests.feature(PlanHTTPTests.east, east))]}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let made = try runProcess(CLITests.executable, ["plan", "create", "--db", db, file])
        try #require(made.status == 0, "\(made.stderr)")
        let id = try #require(made.stdout.split(separator: "\n").last.map(String.init))
        #expect(try runProcess(CLITests.executable, ["plan", "check", "--db", db, id]).status == 0)
        let script = """
            import os, sys
            os.environ['QT_QPA_PLATFORM'] = 'offscreen'
            from qgis.core import QgsApplication, QgsVectorLayer
            app = QgsApplication([], False); app.initQgis()
            db, plan, code = sys.argv[1], sys.argv[2], sys.argv[3]
            lyr = QgsVectorLayer(f"dbname='{db}' table=\\"geogrid_plan_grids\\" (geom) sql=plan_id = {plan}", 'plan', 'spatialite')
            print('plan', lyr.isValid(), lyr.featureCount(), lyr.crs().authid())
            f = next(x for x in lyr.getFeatures() if x['code'] == code)
            g = f.geometry(); g.translate(-0.0003, 0)
            lyr.startEditing(); lyr.changeGeometry(f.id(), g)
            print('committed', lyr.commitChanges())
            app.exitQgis()
            """
        let r = try runProcess("/usr/bin/python3", ["-c", script, db, id, PlanHTTPTests.east])
        #expect(r.stdout.contains("plan True 2 EPSG:4326") && r.stdout.contains("committed True"), "\(r.stdout) \(r.stderr.suffix(500))")
        // The check reads the plan from the file: the moved grid now overlaps its neighbour, an error.
        let check = try runProcess(CLITests.executable, ["plan", "check", "--db", db, id, "--json"])
        #expect(check.status != 0)
        let findings = (try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])?["findings"] as? [[String: Any]] ?? []
        #expect(findings.contains { $0["kind"] as? String == "overlap" && ($0["grids"] as? [String]).map(Set.init) == [PlanHTTPTests.grid, PlanHTTPTests.east] },
            "\(check.stdout)")
    }
}
