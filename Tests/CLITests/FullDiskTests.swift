import Foundation
import GeoGrid
import TestSupport
import Testing

/// Whether this machine lets a test mount a small tmpfs (root, and mounts allowed): the full disk is made there.
private let canMountTmpfs: Bool = {
    guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return false }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("geogrid-mount-probe-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    guard (try? runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]))?.status == 0 else { return false }
    _ = try? runProcess("/bin/umount", [dir])
    return true
}()

/// A full disk: the store on a 16 MiB tmpfs, filled to the last byte beside it. Writes over HTTP (a case report,
/// a Part 4 edit, a plan, an Open311 request) get 507 problems and the CLI a one-line error with a non-zero
/// exit; nothing is written and the store passes sqlite3's integrity check; once space is freed, the same
/// server and the CLI write again.
@Suite(.enabled(if: canMountTmpfs, "needs to mount a tmpfs (root, mounts allowed)"))
struct FullDiskTests {
    @Test func writesFailClearlyOnAFullDiskAndWorkOnceSpaceIsFreed() async throws {
        // Processes and curls block: on threads of their own, not Swift's few cooperative ones.
        try await withTaskExecutorPreference(CrashTrialTests.executor) { try Self.trial() }
    }

    static func trial() throws {
        let dir = TemporaryDirectory()
        let disk = dir.path("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        try #require(try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", disk]).status == 0)
        defer { _ = try? runProcess("/bin/umount", ["-l", disk]) }
        let built = dir.path("demo.sqlite"), db = disk + "/demo.sqlite"
        try DemoCity.build(from: Fixtures.demoCity.path, at: built)
        try FileManager.default.copyItem(atPath: built, toPath: db)
        func token(_ role: String) throws -> String {
            try runProcess(CLITests.executable, ["token", "create", "--db", db, "--role", role]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let dispatcher = try token("dispatcher"), planner = try token("planner")
        var server: RunningServer? = try RunningServer(db: db, arguments: ["--watch-seconds", "0"])
        let base = server!.baseURL
        func json(_ t: String) -> [String: String] { ["Authorization": "Bearer \(t)", "Content-Type": "application/json"] }
        let report = #"{"lon":24.9445,"lat":60.17,"category":"fire","title":"full disk"}"#
        func count(_ table: String) throws -> String {
            try runProcess("/usr/bin/sqlite3", [db, "SELECT count(*) FROM \(table)"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try curl("\(base)/incidents", method: "POST", headers: json(dispatcher), body: report).status == 201)

        // Fill the disk to the last byte.
        let filler = disk + "/filler"
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: filler))
        let chunk = Data(count: 64 << 10)
        while (try? handle.write(contentsOf: chunk)) != nil {}
        let small = Data(count: 512)
        while (try? handle.write(contentsOf: small)) != nil {}
        try? handle.close()
        let before = (try count("incidents"), try count("buildings"), try count("geogrid_plans"), try count("geogrid_audit"))

        // Writes over HTTP: 507 problems saying so (several reports, so the WAL's last free pages are used up).
        var statuses: [Int] = []
        for i in 0..<6 {
            let big = #"{"lon":24.9445,"lat":60.17,"category":"fire","title":"full disk \#(i)","description":"\#(String(repeating: "x", count: 8000))"}"#
            statuses.append(try curl("\(base)/incidents", method: "POST", headers: json(dispatcher), body: big).status)
        }
        #expect(statuses.allSatisfy { $0 == 507 }, "\(statuses)")
        let refused = try curl("\(base)/incidents", method: "POST", headers: json(dispatcher), body: report)
        #expect(refused.status == 507 && refused.headers["content-type"] == "application/problem+json")
        #expect((try refused.json() as? [String: Any])?["detail"] as? String == "the disk of the store is full: nothing of this request was written; send it again once space is freed")
        let edit = try curl("\(base)/collections/buildings/items", method: "POST", headers: json(planner),
            body: #"{"type":"Feature","properties":{"name":"on a full disk"},"geometry":{"type":"Polygon","coordinates":[[[24.944,60.17],[24.9441,60.17],[24.9441,60.1701],[24.944,60.17]]]}}"#)
        #expect(edit.status == 507, "\(edit.text)")
        let open311 = try curl("\(base)/open311/v2/requests.json", method: "POST", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: "api_key=\(dispatcher)&service_code=fire&lat=60.17&long=24.9445&description=\(String(repeating: "y", count: 4000))")
        #expect(open311.status == 507, "\(open311.text)")
        #expect(open311.text.contains(#""code":507"#), "GeoReport's own error format: \(open311.text)")

        // The CLI: one line, non-zero.
        let cli = try runProcess(CLITests.executable, ["incident", "report", "--db", db, "--lon", "24.9445", "--lat", "60.17", "--category", "fire",
            "--title", String(repeating: "z", count: 8000)])
        #expect(cli.status != 0)
        let message = cli.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!message.contains("\n") && message.contains("the disk of the store is full"), "\(cli.stderr)")

        // Nothing written, nothing corrupted.
        #expect((try count("incidents"), try count("buildings"), try count("geogrid_plans"), try count("geogrid_audit")) == before)
        #expect(try runProcess("/usr/bin/sqlite3", [db, "PRAGMA integrity_check"]).stdout == "ok\n")
        #expect(try curl("\(base)/health").status == 200)

        // Space freed: the same server and the CLI write again.
        try FileManager.default.removeItem(atPath: filler)
        #expect(try curl("\(base)/incidents", method: "POST", headers: json(dispatcher), body: report).status == 201)
        #expect(try runProcess(CLITests.executable, ["incident", "report", "--db", db, "--lon", "24.9445", "--lat", "60.17", "--category", "fire"]).status == 0)
        #expect(Int(try count("incidents")) == Int(before.0)! + 2)
        server = nil
        #expect(try runProcess("/usr/bin/sqlite3", [db, "PRAGMA integrity_check"]).stdout == "ok\n")
    }
}
