import Foundation
import GeoGrid
import TestSupport
import Testing

/// `geo-cli incident …` run as a user runs it: the built executable on a copy of the demo store.
@Suite struct IncidentCLITests {
    static func cli(_ args: [String], env token: String? = nil) throws -> ProcessResult { try runProcess(CLITests.executable, args) }

    @Test func reportMoveAndListFromTheCommandLine() throws {
        let dir = TemporaryDirectory()
        let db = try demoStore(dir)
        let store = try GeoStore(path: db)
        let p = try #require(try store.read { db -> Position? in
            let s = try db.prepare("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids ORDER BY id LIMIT 1")
            return try s.step() ? Position(s.double(0), s.double(1)) : nil
        })
        let r = try Self.cli(["incident", "report", "--db", db, "--lon", "\(p.lon)", "--lat", "\(p.lat)", "--category", "E0504", "--title", "van on the pavement",
            "--reporter-name", "Liu Yang", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let created = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let id = try #require(created["id"] as? Int)
        let props = try #require(created["properties"] as? [String: Any])
        #expect(props["department"] as? String == "city_traffic_police" && props["stage"] as? String == "reported")
        #expect(props["grid_code"] as? String == (try store.locate(p)).grid?.code)
        // The audit names geo-cli as the actor, without a token id.
        let audited = try store.audit(collection: "incidents")
        #expect(audited.last?["token_name"]?.stringValue?.hasPrefix("geo-cli (") == true)
        // Transitions: allowed ones move it on; others fail with one line and a non-zero exit.
        #expect(try Self.cli(["incident", "transition", "--db", db, "\(id)", "--to", "registered"]).status == 0)
        let refused = try Self.cli(["incident", "transition", "--db", db, "\(id)", "--to", "closed"])
        #expect(refused.status != 0 && refused.stderr.contains("is at stage registered") && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        let show = try Self.cli(["incident", "show", "--db", db, "\(id)"])
        #expect(show.status == 0 && show.stdout.contains("reported → registered") && show.stdout.contains("2026-") == true)
        // A viewer's token is refused; a dispatcher's works.
        let viewer = try Self.cli(["token", "create", "--db", db, "--role", "viewer"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let asViewer = try Self.cli(["incident", "transition", "--db", db, "\(id)", "--to", "dispatched", "--token", viewer])
        #expect(asViewer.status != 0 && asViewer.stderr.contains("viewer"))
        // Moving it elsewhere re-places it.
        let far = try Self.cli(["incident", "move", "--db", db, "\(id)", "--lon", "10.5", "--lat", "-10.5", "--json"])
        #expect(far.status == 0, "\(far.stderr)")
        let moved = try JSONSerialization.jsonObject(with: Data(far.stdout.utf8)) as? [String: Any]
        #expect((moved?["properties"] as? [String: Any])?["owner"] as? String == "outside")
        // Lists, overdue and statistics.
        let list = try Self.cli(["incident", "list", "--db", db, "--json"])
        let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
        #expect(list.status == 0 && listed?["numberMatched"] as? Int == 1)
        let purple = try Self.cli(["incident", "list", "--db", db, "--light", "purple"])
        #expect(purple.status != 0 && purple.stderr.contains("green, yellow or red"), "as over HTTP, an unknown light is an error")
        let overdue = try Self.cli(["incident", "overdue", "--db", db, "--by", "grid", "--json"])
        #expect(overdue.status == 0 && overdue.stdout.contains(#""total":0"#))
        let stats = try Self.cli(["incident", "stats", "--db", db, "--by", "category", "--csv"])
        #expect(stats.status == 0 && stats.stdout.hasPrefix("key,zh,en,received") && stats.stdout.contains("E05,街面秩序类"))
        let badPeriod = try Self.cli(["incident", "stats", "--db", db, "--period", "last month"])
        #expect(badPeriod.status != 0 && badPeriod.stderr.contains("period must be"))
        // Bad reports: one line, nothing written.
        let before = try store.read { try $0.scalar("SELECT count(*) FROM incidents").integer }
        for args in [["--category", "volcano"], ["--category", "fire", "--kind", "promised"], ["--category", "fire", "--time", "yesterday"]] {
            let bad = try Self.cli(["incident", "report", "--db", db, "--lon", "\(p.lon)", "--lat", "\(p.lat)"] + args)
            #expect(bad.status != 0 && bad.stderr.split(separator: "\n").count == 1, "\(args): \(bad.stderr)")
        }
        #expect(try store.read { try $0.scalar("SELECT count(*) FROM incidents").integer } == before)
    }

    @Test func aCityLoadsItsOwnCatalogueAndCalendar() throws {
        let dir = TemporaryDirectory()
        let db = try demoStore(dir)
        // A city with its own channel and a calendar in Shanghai with one holiday.
        let shown = try Self.cli(["incident", "config", "show", "--db", db, "--part", "channels"])
        #expect(shown.status == 0)
        var channels = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        var list = try #require(channels["channels"] as? [[String: Any]])
        list.append(["code": "wechat", "zh": "微信小程序", "en": "WeChat mini program"])
        channels["channels"] = list
        let file = dir.path("channels.json")
        try JSONSerialization.data(withJSONObject: channels).write(to: URL(fileURLWithPath: file))
        let holidays = dir.path("holidays.txt")
        try "2026-10-01 National Day\n".write(toFile: holidays, atomically: true, encoding: .utf8)
        let load = try Self.cli(["incident", "config", "load", "--db", db, file, "--holidays", holidays])
        #expect(load.status == 0, "\(load.stderr)")
        let config = try GeoStore(path: db).incidentConfig()
        #expect(config.channel("wechat")?.zh == "微信小程序")
        #expect(!config.calendar.isWorkingDay(WorkCalendar.day("2026-10-01")!))
        // A document that refers to what is not there is refused whole, and nothing of it stored.
        let routing = dir.path("routing.json")
        try #"{"routes":[{"category":"*","department":"no_such_department"}]}"#.write(toFile: routing, atomically: true, encoding: .utf8)
        let bad = try Self.cli(["incident", "config", "load", "--db", db, routing])
        #expect(bad.status != 0 && bad.stderr.contains("names no department"))
        let misspelt = dir.path("workflow.json")
        try #"{"stages":[],"intial":"reported"}"#.write(toFile: misspelt, atomically: true, encoding: .utf8)
        #expect(try Self.cli(["incident", "config", "load", "--db", db, misspelt]).status != 0)
        #expect(try GeoStore(path: db).incidentConfig().route(category: "E01", subcategory: "E0102", areaCodes: [])?.code == "district_city_management")
        // The import refuses cases through the feature import, pointing to the right command.
        let generic = try Self.cli(["import", "--db", db, "--layer", "incidents", file])
        #expect(generic.status != 0 && generic.stderr.contains("geo-cli incident import"))
    }
}
