import Foundation
import Synchronization

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A GeoGrid store: one SpatiaLite file in WAL mode. Sendable; it hands out its connections only
/// inside closures: one writer at a time, and a pool of readers that see a consistent snapshot
/// while the writer works (the model of GRDB's DatabasePool).
public final class GeoStore: Sendable {
    public let path: String
    private let writer: Mutex<Pooled>
    private let idleReaders = Mutex<[Pooled]>([])
    let queryIndexes = QueryIndexCache()
    let searchCache = SearchCache()
    private let commitObservers = Mutex<[@Sendable (StoreChange) -> Void]>([])

    /// Calls `observer` after every committed write through this store that changed rows, with what changed
    /// (after the query indexes follow it). For caches of derived data.
    public func onCommit(_ observer: @escaping @Sendable (StoreChange) -> Void) {
        commitObservers.withLock { $0.append(observer) }
    }
    private static let maxIdleReaders = 8
    /// Edits arriving together share one commit (`edit`).
    let groupCommit = GroupCommit()
    /// Checkpoints the WAL off the writer's thread.
    let checkpointer: Checkpointer
    /// The layers, built-in and defined (see `Catalogue.swift`); replaced when a write changes them.
    let catalogue: Mutex<[Layer]>
    /// Live events, published after the commit that wrote them (see `IncidentDesk`).
    public let events = EventHub()
    /// The incident configuration as last read from `geogrid_config` (see `incidentConfig()`).
    let incidentConfigCache = Mutex<IncidentConfig?>(nil)
    /// SQLite's data_version as the writer last saw it (see `followExternalWrites`).
    private let seenDataVersion = Mutex<Int64?>(nil)
    /// Where `today` comes from when not the system clock (tests).
    private let dayClock = Mutex<(@Sendable () -> String)?>(nil)

    /// Today in the city (YYYY-MM-DD, the machine's time zone): the day whose grids are in force for
    /// locate, the tiles and the grids of new cases.
    public var today: String { dayClock.withLock { $0 }?() ?? PlanDesk.localDay(Date()) }

    /// Makes `clock` the source of `today` (nil: the system clock again).
    public func setDayClock(_ clock: (@Sendable () -> String)?) { dayClock.withLock { $0 = clock } }

    /// A connection with exclusive use guaranteed by the store: the writer behind its mutex, a reader
    /// taken out of the pool by one caller and returned after. Never escapes the store.
    private struct Pooled: @unchecked Sendable { let connection: Connection }

    public static var schemaVersion: Int { Schema.latestVersion }

    /// Opens the store at `path`. With `create`, a missing or empty file becomes a new store, and an
    /// older schema is migrated forward; without it the file must already be a GeoGrid store.
    public init(path: String, create: Bool = false) throws {
        self.path = path
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw StoreError("no store at \(path) (create one with `geo-cli init --db \(path)`)")
        }
        let connection = try Connection(path: path)
        checkpointer = Checkpointer(path: path)
        // synchronous = FULL: in WAL mode every COMMIT syncs the log, so a write acknowledged to a client
        // survives a power loss, not only a crash of the process (NORMAL would sync only at checkpoints).
        try connection.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
        // The sub-journal that lets a group commit roll back one caller's savepoint holds a copy of every page
        // each savepoint touches; past 64 KiB SQLite spills it to a temporary file, which a batch of reports
        // (some twenty pages each) always passed: three of every four writes a report made went there. Kept in
        // memory it costs a copy per page and no system call; it is emptied as each savepoint is released.
        try connection.execute("PRAGMA temp_store = MEMORY")
        try Migrations.bring(connection, upToDateCreating: create, path: path)
        let layers = try Self.readCatalogue(connection)
        connection.changeLog.follow(layers)
        catalogue = Mutex(layers)
        events.prime(lastID: try connection.scalar("SELECT coalesce(max(id), 0) FROM geogrid_events").integer ?? 0)
        connection.recordChanges()
        checkpointer.attach(to: connection)
        writer = Mutex(Pooled(connection: connection))
    }

    deinit {
        // Cached statements keep the writer's connection alive; dropping them lets it close.
        writer.withLock { $0.connection.statementCache.removeAll() }
    }

    /// Runs `body` in one write transaction (BEGIN IMMEDIATE … COMMIT); any error rolls it all back.
    public func write<T: Sendable>(_ body: (Connection) throws -> T) throws -> T {
        try writer.withLock { pooled in
            let db = pooled.connection
            try db.execute("BEGIN IMMEDIATE")
            _ = db.changeLog.take()
            db.eventsWritten = false
            do {
                let result = try body(db)
                db.settleCachedStatements()
                // The indexes as they must be after this write, made from the rows it changed, read before
                // COMMIT so that they are exactly what it commits; published only once it has.
                let changes = db.changeLog.take()
                let update = changes.isEmpty ? nil : try updatedIndexes(queryIndexes.current, after: changes, db)
                try db.execute("COMMIT")
                if let (indexes, change) = update {
                    queryIndexes.publish(indexes)
                    for observer in commitObservers.withLock({ $0 }) { observer(change) }
                }
                if db.eventsWritten {
                    db.eventsWritten = false
                    events.publish(from: db)
                }
                // After the publish: indexes of a layer the write dropped or redefined must not come back with it.
                if db.catalogueChanged { try reloadCatalogue(db) }
                return result
            } catch {
                db.settleCachedStatements()
                if db.isInTransaction { try? db.execute("ROLLBACK") }
                db.catalogueChanged = false
                db.eventsWritten = false
                throw error
            }
        }
    }

    /// Reads the catalogue again after a write (or another process) changed it; indexes of layers whose
    /// definition changed or that are gone are dropped, to be built again on first use.
    private func reloadCatalogue(_ db: Connection) throws {
        db.catalogueChanged = false
        let fresh = try Self.readCatalogue(db)
        db.changeLog.follow(fresh)
        let old = catalogue.withLock { c in
            defer { c = fresh }
            return c
        }
        let changed = Set(old.filter { o in !fresh.contains { $0.name == o.name && $0.fields == o.fields && $0.geometry == o.geometry } })
        if !changed.isEmpty { queryIndexes.drop(changed) }
        var change = StoreChange()
        // Tiles of a layer whose settings (tile properties, zooms) changed or that came or went.
        change.wholeLayers = Set(old.filter { o in !fresh.contains { $0.name == o.name && $0.tileProperties == o.tileProperties && $0.minZoom == o.minZoom } })
            .union(fresh.filter { f in !old.contains(f) })
        if !change.wholeLayers.isEmpty { for observer in commitObservers.withLock({ $0 }) { observer(change) } }
    }

    /// Catches up with commits made to the file by other connections (QGIS editing it, another geo-cli): when
    /// SQLite's data_version as the writer sees it has moved (it moves only for others' commits), every query
    /// index built so far is rebuilt from the file and commit observers hear that every layer changed. The
    /// first call only notes where the file is. Returns whether it caught up. Runs under the writer's lock,
    /// so no write of this store interleaves with the rebuild; the server calls it every few seconds.
    @discardableResult public func followExternalWrites() throws -> Bool {
        try writer.withLock { pooled in
            let version = try pooled.connection.scalar("PRAGMA data_version").integer
            let moved = seenDataVersion.withLock { seen in
                defer { seen = version }
                return seen != nil && seen != version
            }
            guard moved else { return false }
            incidentConfigCache.withLock { $0 = nil }
            // Another process may have created or dropped a layer (geo-cli layer create while serve runs).
            let layers = try Self.readCatalogue(pooled.connection)
            pooled.connection.changeLog.follow(layers)
            let before = catalogue.withLock { c in
                defer { c = layers }
                return c
            }
            let built = queryIndexes.current
            var next = QueryIndexCache.State()
            if built.locator != nil { next.locator = try freshLocator() }
            for layer in built.points.keys { if let l = layers.first(where: { $0 == layer }) { next.points[l] = try freshPointIndex(l) } }
            for layer in built.shapes.keys { if let l = layers.first(where: { $0 == layer }) { next.shapes[l] = try freshShapeIndex(l) } }
            queryIndexes.publish(next)
            var change = StoreChange()
            change.wholeLayers = Set(layers).union(before)
            for observer in commitObservers.withLock({ $0 }) { observer(change) }
            return true
        }
    }

    /// A read-only connection that maps the file (up to 1 GiB) instead of copying its pages in with read(2):
    /// pages of items spent a fifth of their time in those copies.
    private static func newReader(_ path: String) throws -> Pooled {
        let c = try Connection(path: path, readOnly: true)
        try c.execute("PRAGMA mmap_size = 1073741824")
        return Pooled(connection: c)
    }

    /// Runs `body` on a reader inside one read transaction: a snapshot unaffected by concurrent writes.
    public func read<T: Sendable>(_ body: (Connection) throws -> T) throws -> T {
        let pooled = try idleReaders.withLock { $0.popLast() } ?? Self.newReader(path)
        defer {
            idleReaders.withLock { pool in
                if pool.count < Self.maxIdleReaders { pool.append(pooled) }
            }
        }
        let db = pooled.connection
        try db.execute("BEGIN DEFERRED")
        defer { try? db.execute("COMMIT") }
        return try body(db)
    }
}

/// Creating and migrating the schema.
enum Migrations {
    static func bring(_ db: Connection, upToDateCreating create: Bool, path: String) throws {
        let hasMeta = try db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'geogrid_meta'") != .integer(0)
        var version = 0
        if hasMeta {
            guard case .text(let v) = try db.scalar("SELECT value FROM geogrid_meta WHERE key = 'schema_version'"), let n = Int(v) else {
                throw StoreError("\(path): geogrid_meta has no schema_version")
            }
            version = n
        } else {
            let tables = try db.scalar("SELECT count(*) FROM sqlite_master")
            guard tables == .integer(0) else {
                throw StoreError("\(path) is an SQLite file but not a GeoGrid store (it has no geogrid_meta table)")
            }
            guard create else { throw StoreError("\(path) is not a GeoGrid store (create one with `geo-cli init --db \(path)`)") }
        }
        if version > Schema.latestVersion {
            throw StoreError("\(path) has schema version \(version), newer than this GeoGrid (\(Schema.latestVersion)): upgrade GeoGrid")
        }
        if version == Schema.latestVersion { return }
        guard create else {
            throw StoreError("\(path) has schema version \(version); migrate it with `geo-cli init --db \(path)` (to \(Schema.latestVersion))")
        }
        if version == 0 {
            // InitSpatialMetadata(1) runs its own transaction, so it cannot run inside ours.
            // It creates spatial_ref_sys with every EPSG definition, which QGIS and GDAL read.
            guard try db.scalar("SELECT InitSpatialMetadata(1)") == .integer(1) else {
                throw StoreError("\(path): SpatiaLite could not initialise its metadata")
            }
        }
        for next in (version + 1)...Schema.latestVersion {
            try db.execute("BEGIN IMMEDIATE")
            do {
                for sql in Schema.migrations[next - 1] {
                    let s = try db.prepare(sql)
                    if try s.step(), sql.hasPrefix("SELECT"), s.value(0) != .integer(1) {
                        // AddGeometryColumn and CreateSpatialIndex report failure as 0, not as an error.
                        throw StoreError("migration \(next) failed at: \(sql)")
                    }
                }
                try db.execute("CREATE TABLE IF NOT EXISTS geogrid_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                try db.execute("INSERT OR REPLACE INTO geogrid_meta (key, value) VALUES ('schema_version', '\(next)')")
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }
}
