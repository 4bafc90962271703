import Foundation
import GeoGrid
import TestSupport
import Testing

/// The console in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by Selenium
/// (PyPI) against a real `geo-cli serve` on loopback, over the demo city. The browser script asserts on what
/// MapLibre rendered from our tiles and on the panel against `/locate`; its screenshots are kept in
/// test-artefacts/console.
@Suite struct ConsoleTests {
    @Test func dispatchersAndGridWorkersWorkInTheBrowser() async throws {
        let dir = TemporaryDirectory()
        let db = dir.path("demo.sqlite")
        try DemoCity.build(from: Fixtures.demoCity.path, at: db)
        // A week of cases, some overdue, for the board, the overdue lists and the month's statistics.
        try DemoCity.addWeekOfCases(to: try GeoStore(path: db), count: 60)
        // The hydrant nearest the map's first centre (the grids' middle) out of service, for the map and list to mark.
        try GeoStore(path: db).write { db in
            let s = try db.prepare("""
                UPDATE resources SET status = 'out_of_service' WHERE id = (SELECT r.id FROM resources r, (SELECT Extent(geom) AS e FROM grids) g
                WHERE r.type = 'hydrant' ORDER BY ST_Distance(r.geom, MakePoint((MbrMinX(g.e) + MbrMaxX(g.e)) / 2, (MbrMinY(g.e) + MbrMaxY(g.e)) / 2, 4326)) LIMIT 1)
                """)
            try s.step()
        }
        let made = try runProcess(CLITests.executable, ["token", "create", "--db", db, "--role", "dispatcher", "--name", "centre"])
        #expect(made.status == 0, "\(made.stderr)")
        let token = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try RunningServer(db: db, arguments: [
            "--map-assets", Fixtures.repository.appendingPathComponent("var/maplibre").path,
            "--glyphs", Fixtures.repository.appendingPathComponent("var/glyphs").path,
        ])

        // The page and its files; nothing else under /console; who a token is, and a 401 without one.
        #expect(try curl("\(server.baseURL)/console").headers["content-type"]?.hasPrefix("text/html") == true)
        for file in ["console.js", "console-edit.js", "console.css", "i18n/en.json", "i18n/zh-CN.json"] {
            #expect(try curl("\(server.baseURL)/console/\(file)").status == 200, "\(file)")
        }
        #expect(try curl("\(server.baseURL)/console/index.html.bak").status == 404)
        #expect(try curl("\(server.baseURL)/console/%2e%2e/Package.swift").status == 404)
        let who = try JSONSerialization.jsonObject(with: Data(try curl("\(server.baseURL)/auth/token", headers: ["Authorization": "Bearer \(token)"]).text.utf8)) as? [String: Any]
        #expect(who?["role"] as? String == "dispatcher" && who?["name"] as? String == "centre")
        #expect(try curl("\(server.baseURL)/auth/token").status == 401)

        // Both languages hold the same strings.
        let folder = Fixtures.repository.appendingPathComponent("Sources/TileServer/Console/i18n")
        let keys = try ["en", "zh-CN"].map { lang in
            Set(try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("\(lang).json"))) as? [String: String]).keys)
        }
        #expect(keys[0] == keys[1])

        // The grid worker's token covers the grid at the map's first centre (the style's), where the browser clicks.
        let style = try JSONSerialization.jsonObject(with: Data(try curl("\(server.baseURL)/style.json").text.utf8)) as? [String: Any]
        let centre = try #require(style?["center"] as? [Double])
        let located = try JSONSerialization.jsonObject(with: Data(try curl("\(server.baseURL)/locate?lon=\(centre[0])&lat=\(centre[1])").text.utf8)) as? [String: Any]
        let grid = try #require((located?["grid"] as? [String: Any])?["code"] as? String)
        let worker = try runProcess(CLITests.executable, ["token", "create", "--db", db, "--role", "grid_worker", "--scope", grid, "--name", "worker"])
        #expect(worker.status == 0, "\(worker.stderr)")

        // A planner of the demo's one-grid community, to split its grid into two halves, and of the community
        // with the most grids, where the browser moves a vertex two grids share.
        let busiest = try GeoStore(path: db).read { db in
            let s = try db.prepare("SELECT community_code FROM grids WHERE valid_to IS NULL GROUP BY community_code ORDER BY count(*) DESC, community_code LIMIT 1")
            _ = try s.step()
            return s.text(0)!
        }
        let planner = try runProcess(CLITests.executable, ["token", "create", "--db", db, "--role", "planner", "--scope", PlanHTTPTests.community, "--scope", busiest, "--name", "planner"])
        #expect(planner.status == 0, "\(planner.stderr)")
        let (west, east) = try PlanHTTPTests.halves(db)
        let proposal = dir.path("split.geojson")
        try #"{"type":"FeatureCollection","features":[\#(PlanHTTPTests.feature(PlanHTTPTests.grid, west)),\#(PlanHTTPTests.feature(nil, east, worker: "East"))]}"#
            .write(toFile: proposal, atomically: true, encoding: .utf8)

        let artefacts = Fixtures.repository.appendingPathComponent("test-artefacts/console")
        try? FileManager.default.removeItem(at: artefacts)
        // The browsers take the best part of a minute: waited for off the cooperative pool.
        let arguments = [Fixtures.repository.appendingPathComponent("Tests/Scripts/console-browser.py").path, server.baseURL, token, artefacts.path,
            worker.stdout.trimmingCharacters(in: .whitespacesAndNewlines), planner.stdout.trimmingCharacters(in: .whitespacesAndNewlines), proposal, busiest]
        let python = try #require(venvPython)
        let run = try await offCooperativePool { try runProcess(python, arguments) }
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("ok all"), "\(run.stdout)")
        for shot in ["dispatcher-en.png", "dispatcher-reported.png", "watcher-board.png", "dispatcher-zh-CN.png", "grid-worker-phone.png", "planner-applied.png", "planner-vertices.png", "planner-moved.png"] {
            let bytes = (try? Data(contentsOf: artefacts.appendingPathComponent(shot))) ?? Data()
            #expect(bytes.count > 10_000 && bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(shot): \(bytes.count) bytes")
        }
    }
}
