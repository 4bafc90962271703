import CSQLite
import Foundation

/// What a backup copied.
public struct BackupReport: Sendable {
    public var pages: Int
    public var bytes: Int
    /// The cases in the copy: every case acknowledged before the backup began is among them.
    public var cases: Int
    /// The last event in the copy (`/events` ids), so a city knows up to where it holds.
    public var lastEventID: Int64
    public var integrity: String?
}

extension GeoStore {
    /// A consistent copy of the store at `destination`, made while others read and write it: SQLite's online
    /// backup API copies pages, `pagesPerStep` at a time with `progress(copied, total)`, from one read snapshot
    /// held open for the whole copy (in WAL mode writers go on meanwhile; the copy is the store as committed
    /// when the backup began). It is written beside the destination, synced, and renamed into place, so a
    /// backup is there whole or not at all; with `verify` the copy's `PRAGMA integrity_check` is run.
    public func backup(to destination: String, pagesPerStep: Int32 = 4096, verify: Bool = true,
                       progress: ((Int, Int) -> Void)? = nil) throws -> BackupReport {
        let target = URL(fileURLWithPath: destination).standardizedFileURL
        let own = URL(fileURLWithPath: path).standardizedFileURL
        guard target != own else { throw StoreError("the backup cannot be the store itself (\(destination))") }
        guard !FileManager.default.fileExists(atPath: target.path) else {
            throw StoreError("\(destination) exists: give a new file (a backup never overwrites one)")
        }
        let partial = target.path + ".partial"
        for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
        var report = BackupReport(pages: 0, bytes: 0, cases: 0, lastEventID: 0)
        do {
            let source = try Connection(path: path, readOnly: true)
            // The snapshot: a read transaction that has read, so every step copies the same committed state.
            try source.execute("BEGIN DEFERRED")
            defer { try? source.execute("COMMIT") }
            report.cases = Int(try source.scalar("SELECT count(*) FROM incidents").integer ?? 0)
            report.lastEventID = try source.scalar("SELECT coalesce(max(id), 0) FROM geogrid_events").integer ?? 0
            try Self.copyPages(from: source, to: partial, pagesPerStep: pagesPerStep, report: &report, progress: progress)
            try Self.sync(partial)
            if verify {
                let copy = try Connection(path: partial, readOnly: true)
                report.integrity = try copy.scalar("PRAGMA integrity_check").text
                guard report.integrity == "ok" else { throw StoreError("the copy failed its integrity check: \(report.integrity ?? "no answer")") }
            }
            guard rename(partial, target.path) == 0 else { throw StoreError("could not move the copy to \(destination): \(String(cString: strerror(errno)))") }
            try Self.sync(target.deletingLastPathComponent().path)
        } catch {
            for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
            throw error
        }
        report.bytes = Int((try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? NSNumber)??.intValue ?? 0)
        return report
    }

    private static func copyPages(from source: Connection, to file: String, pagesPerStep: Int32, report: inout BackupReport,
                                  progress: ((Int, Int) -> Void)?) throws {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(file, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let dest = handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw StoreError("could not create \(file): \(message)")
        }
        defer { sqlite3_close(dest) }
        guard let backup = sqlite3_backup_init(dest, "main", source.db, "main") else {
            throw StoreError("could not begin the backup: \(String(cString: sqlite3_errmsg(dest)))")
        }
        var rc: Int32
        repeat {
            rc = sqlite3_backup_step(backup, pagesPerStep)
            let total = Int(sqlite3_backup_pagecount(backup))
            progress?(total - Int(sqlite3_backup_remaining(backup)), total)
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { usleep(10_000) }
        } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
        report.pages = Int(sqlite3_backup_pagecount(backup))
        let finished = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE, finished == SQLITE_OK else {
            throw StoreError("the backup stopped: \(String(cString: sqlite3_errstr(rc == SQLITE_DONE ? finished : rc)))")
        }
        // The pages say WAL, as the store's do: the copy is made one self-contained file (a rollback journal),
        // so that opening it to check it, or to read it, leaves no -wal or -shm beside it. GeoStore turns WAL on
        // again when it opens the copy.
        guard sqlite3_exec(dest, "PRAGMA journal_mode = DELETE", nil, nil, nil) == SQLITE_OK else {
            throw StoreError("could not make the copy one file: \(String(cString: sqlite3_errmsg(dest)))")
        }
    }

    /// fsync of a file or a folder (so that a rename in it is on disk too).
    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StoreError("could not open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError("could not sync \(path): \(String(cString: strerror(errno)))") }
    }
}
