import Foundation
import GeoGrid
import TestSupport
import Testing

/// `geo-cli backup` while the server takes a burst of case reports: the copy passes SQLite's integrity check
/// (the sqlite3 shell's, not ours), every spatial index checks out (SpatiaLite's CheckSpatialIndex), it holds
/// every case acknowledged before the backup began, GDAL and QGIS open it, and it was made mid-burst.
@Suite struct BackupTests {
    @Test func aBackupDuringAWriteBurstHoldsEveryAcknowledgedCase() async throws {
        let dir = TemporaryDirectory()
        let db = dir.path("demo.sqlite")
        try DemoCity.build(from: Fixtures.demoCity.path, at: db)
        let made = try runProcess(CLITests.executable, ["token", "create", "--db", db, "--role", "dispatcher"])
        let token = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let extent = try #require(try GeoStore(path: db).shapeIndex(.communities).extent)
        // One token sends the whole burst: no per-token rate limit.
        let server = try RunningServer(db: db, arguments: ["--rate-limit", "0"])
        let acks = dir.path("acks.jsonl"), copy = dir.path("backup.sqlite")
        let python = try #require(venvPython)
        let burst = Process()
        burst.executableURL = URL(fileURLWithPath: python)
        burst.arguments = [Fixtures.repository.appendingPathComponent("Tests/Scripts/report-burst.py").path, server.baseURL, token, "1000000", "16", acks]
            + [extent.minX, extent.minY, extent.maxX, extent.maxY].map { String($0) } + ["5"]
        burst.standardOutput = FileHandle.nullDevice
        try burst.run()
        func acknowledged() -> [Int] {
            ((try? String(contentsOfFile: acks, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? Int
            }
        }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && acknowledged().count < 800 { try await Task.sleep(for: .milliseconds(20)) }
        // What was acknowledged before the backup begins must be in it.
        let before = acknowledged()
        #expect(before.count >= 800)
        let backup = try await offCooperativePool { try runProcess(CLITests.executable, ["backup", "--db", db, copy]) }
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(backup.stdout.contains("integrity ok"), "\(backup.stdout)")
        // The burst goes on after the backup: 50 more acknowledged, then it is stopped.
        let atEnd = acknowledged().count
        let more = Date().addingTimeInterval(60)
        while Date() < more && acknowledged().count < atEnd + 50 { try await Task.sleep(for: .milliseconds(20)) }
        // SIGKILL: the child inherits the test runner's blocked signals, SIGTERM among them.
        kill(burst.processIdentifier, SIGKILL)
        try await offCooperativePool { burst.waitUntilExit() }
        let all = acknowledged()

        func sql(_ query: String, spatialite: Bool = false) throws -> [String] {
            let r = try runProcess("/usr/bin/sqlite3", (spatialite ? ["-cmd", ".load mod_spatialite"] : []) + [copy, query])
            #expect(r.status == 0, "\(query): \(r.stderr)")
            return r.stdout.split(separator: "\n").map(String.init)
        }
        #expect(try sql("PRAGMA integrity_check") == ["ok"])
        let ids = Set(try sql("SELECT id FROM incidents").compactMap { Int($0) })
        #expect(before.allSatisfy(ids.contains), "\(before.filter { !ids.contains($0) }.count) acknowledged cases missing from the backup")
        #expect(ids.count < all.count, "the backup was made mid-burst (\(ids.count) of \(all.count) cases)")
        let tables = try sql("SELECT f_table_name || '|' || f_geometry_column FROM geometry_columns WHERE spatial_index_enabled = 1", spatialite: true)
        #expect(tables.count >= 6)
        for t in tables {
            let parts = t.split(separator: "|").map(String.init)
            #expect(try sql("SELECT CheckSpatialIndex('\(parts[0])', '\(parts[1])')", spatialite: true).last == "1", "\(t)")
        }
        let ogr = try runProcess("/usr/bin/ogrinfo", ["-ro", "-so", copy, "incidents"])
        #expect(ogr.status == 0 && ogr.stdout.contains("Feature Count: \(ids.count)"), "\(ogr.stdout)\(ogr.stderr)")
        if FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/qgis") {
            let script = """
                import os, sys
                os.environ['QT_QPA_PLATFORM'] = 'offscreen'
                from qgis.core import QgsApplication, QgsVectorLayer
                app = QgsApplication([], False); app.initQgis()
                layer = QgsVectorLayer(f"dbname='{sys.argv[1]}' table=\\"incidents\\" (geom)", 'incidents', 'spatialite')
                print('qgis', layer.isValid(), layer.featureCount())
                app.exitQgis()
                """
            let q = try runProcess("/usr/bin/python3", ["-c", script, copy])
            #expect(q.stdout.contains("qgis True \(ids.count)"), "\(q.stdout)\(q.stderr)")
        }
        // A backup never overwrites: a second one to the same file is refused in one line, the copy untouched.
        let size = try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int
        let again = try runProcess(CLITests.executable, ["backup", "--db", db, copy])
        #expect(again.status != 0 && again.stderr.contains("exists") && again.stderr.split(separator: "\n").count == 1, "\(again.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int == size)
        for leftover in [".partial", ".partial-wal", ".partial-shm", "-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: copy + leftover), "\(leftover)")
        }
    }
}
