import ArgumentParser
import Foundation
import GeoGrid

/// `geo-cli backup --db DB FILE`: a consistent copy while the server reads and writes.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the store to FILE while it is in use (SQLite's online backup: one consistent snapshot).",
        discussion: """
            The copy holds everything committed when the backup began, including every write the server \
            acknowledged by then; writers go on meanwhile. It is written beside FILE, synced, checked with \
            PRAGMA integrity_check and only then renamed to FILE, so FILE is a whole backup or absent. \
            FILE must not exist. To restore, stop the server and serve the copy (or copy it over the store \
            with the server stopped): it is a complete SpatiaLite file that QGIS and GDAL open as is.
            """)
    @OptionGroup var store: StoreOptions
    @Argument(help: "The new file to write.") var file: String
    @Flag(help: "Skip the copy's integrity check (faster for a very large store).") var noVerify = false

    func run() throws {
        let store = try GeoStore(path: self.store.db)
        let bar = ProgressBar(label: "backing up")
        let report = try store.backup(to: file, verify: !noVerify, progress: bar.map { b in { b.update($0, $1) } })
        bar?.finish()
        let megabytes = String(format: "%.1f", Double(report.bytes) / 1_048_576)
        print("backed up \(self.store.db) to \(file): \(report.pages) pages (\(megabytes) MB), \(report.cases) cases, events up to \(report.lastEventID)"
            + (report.integrity.map { "; integrity \($0)" } ?? ""))
    }
}
