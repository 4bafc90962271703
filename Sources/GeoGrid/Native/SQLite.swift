import CSQLite
import Foundation

/// An SQLite error: the result code, SQLite's message and the statement's SQL. Bound values are never
/// part of the description, so no data ends up in logs.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var sql: String?
    public var description: String {
        let plain = "SQLite error \(code): \(message)" + (sql.map { " (in: \($0.prefix(200)))" } ?? "")
        return isDiskFull ? "the disk of the store is full: nothing of this write was made; free space and try again (\(plain))" : plain
    }
    /// SQLITE_FULL: the disk (or the file system's quota) has no room; the transaction was rolled back.
    public var isDiskFull: Bool { code & 0xFF == SQLITE_FULL }
    /// SQLITE_IOERR and its extended codes: the operating system refused a read, write or sync.
    public var isIOError: Bool { code & 0xFF == SQLITE_IOERR }
    /// SQLITE_CONSTRAINT and its extended codes: a UNIQUE, NOT NULL or CHECK rule said no.
    public var isConstraint: Bool { code & 0xFF == SQLITE_CONSTRAINT }
}

/// An SQLite connection with SpatiaLite initialised on it. Not Sendable: a connection is used by one
/// thread at a time, which `GeoStore` guarantees by handing it out inside closures.
public final class Connection {
    let db: OpaquePointer
    private let spatialite: UnsafeMutableRawPointer?

    /// SpatiaLite's library-wide set-up must run once per process before any connection.
    private static let initialiseOnce: Void = { spatialite_initialize() }()

    public init(path: String, readOnly: Bool = false) throws {
        _ = Self.initialiseOnce
        var handle: OpaquePointer?
        // NOMUTEX: the store serialises access per connection, SQLite need not.
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw SQLiteError(code: rc, message: "cannot open \(path): \(message)", sql: nil)
        }
        db = handle
        // Per-connection SpatiaLite state; freed by spatialite_cleanup_ex after sqlite3_close.
        spatialite = spatialite_alloc_connection()
        spatialite_init_ex(db, spatialite, 0)
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        // Statements keep their connection alive, so none is left unfinalised here; sqlite3_close then
        // succeeds, and SpatiaLite's per-connection state is freed after it, in that order.
        sqlite3_close(db)
        if let spatialite { spatialite_cleanup_ex(spatialite) }
    }

    func error(_ rc: Int32, _ sql: String?) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(db), message: String(cString: sqlite3_errmsg(db)), sql: sql)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: text, sql: sql)
        }
    }

    public func prepare(_ sql: String) throws -> Statement { try Statement(self, sql) }

    /// Statements of hot write paths, prepared once per connection (see `cached`). They keep the connection
    /// alive, so the store empties this when it closes.
    var statementCache: [String: Statement] = [:]

    /// A prepared statement for `sql`, reset and with no values bound, made once and reused: for statements a
    /// write runs thousands of times a second (reports). Not for two uses of the same SQL at once.
    /// Ends every cached statement's run (one that returned a row stays active, and SQLite refuses to release a
    /// savepoint or commit under it).
    func settleCachedStatements() {
        for s in statementCache.values { sqlite3_reset(s.handle) }
    }

    func cached(_ sql: String) throws -> Statement {
        if let s = statementCache[sql] {
            s.reset()
            return s
        }
        let s = try prepare(sql)
        statementCache[sql] = s
        return s
    }

    /// The first column of the first row, for one-value queries.
    public func scalar(_ sql: String, _ values: [FieldValue] = []) throws -> FieldValue {
        let s = try prepare(sql)
        try s.bind(values)
        return try s.step() ? s.value(0) : .null
    }

    /// Rows of the layer tables written through this connection, recorded once `recordChanges()` was called.
    let changeLog = ChangeLog()

    /// From now on, every row inserted, updated or deleted in a layer table is noted in `changeLog` (SQLite's
    /// update hook: it sees rows changed by any statement, triggers included).
    func recordChanges() {
        sqlite3_update_hook(db, { context, _, _, table, rowid in
            guard let context, let table else { return }
            Unmanaged<ChangeLog>.fromOpaque(context).takeUnretainedValue().note(table: table, rowid: rowid)
        }, Unmanaged.passUnretained(changeLog).toOpaque())
    }

    /// Set by a write that changed the layer catalogue (a layer created, configured or dropped): the store
    /// reads the catalogue again once the write commits.
    var catalogueChanged = false
    /// Set by a write that appended live events (`geogrid_events`): they are published once it commits.
    var eventsWritten = false

    public var changes: Int { Int(sqlite3_changes(db)) }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }
    public var isInTransaction: Bool { sqlite3_get_autocommit(db) == 0 }
}

/// Row ids written per layer since the last `take()`. Past `wholeLayerAfter` rows a layer is only marked
/// as changed throughout (an import of a million rows need not list them).
final class ChangeLog {
    struct Changes {
        var rows: [Layer: Set<Int64>] = [:]
        var whole: Set<Layer> = []
        var isEmpty: Bool { rows.isEmpty && whole.isEmpty }
        func touches(_ layer: Layer) -> Bool { whole.contains(layer) || rows[layer] != nil }
    }
    static let wholeLayerAfter = 50_000
    private var changes = Changes()
    /// The layer tables, as C strings for the hook's comparisons (set from the store's catalogue).
    private var tables: [(name: [CChar], layer: Layer)] = []

    func follow(_ layers: [Layer]) { tables = layers.map { (Array($0.name.utf8CString), $0) } }

    func note(table: UnsafePointer<CChar>, rowid: Int64) {
        guard let layer = tables.first(where: { strcmp($0.name, table) == 0 })?.layer else { return }
        if changes.whole.contains(layer) { return }
        changes.rows[layer, default: []].insert(rowid)
        if changes.rows[layer]!.count > Self.wholeLayerAfter {
            changes.rows[layer] = nil
            changes.whole.insert(layer)
        }
    }

    func take() -> Changes {
        defer { changes = Changes() }
        return changes
    }
}

/// A prepared statement, finalised in deinit. Borrowed from its connection, which it keeps alive.
public final class Statement {
    let handle: OpaquePointer
    let connection: Connection
    let sql: String

    init(_ connection: Connection, _ sql: String) throws {
        var h: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection.db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &h, nil)
        guard rc == SQLITE_OK, let h else { throw connection.error(rc, sql) }
        handle = h
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Resets for the next run, keeping the bound values.
    public func rewind() { sqlite3_reset(handle) }

    /// Binds `values` to parameters 1…n.
    public func bind(_ values: [FieldValue]) throws {
        for (i, v) in values.enumerated() { try bind(v, at: Int32(i + 1)) }
    }

    public func bind(_ v: FieldValue, at i: Int32) throws {
        let rc: Int32
        switch v {
        case .null: rc = sqlite3_bind_null(handle, i)
        case .integer(let n): rc = sqlite3_bind_int64(handle, i, n)
        case .real(let d): rc = sqlite3_bind_double(handle, i, d)
        case .text(let s): rc = sqlite3_bind_text(handle, i, s, -1, geogrid_sqlite_transient())
        }
        guard rc == SQLITE_OK else { throw connection.error(rc, sql) }
    }

    public func bind(blob: [UInt8], at i: Int32) throws {
        let rc = blob.withUnsafeBytes { sqlite3_bind_blob(handle, i, $0.baseAddress, Int32($0.count), geogrid_sqlite_transient()) }
        guard rc == SQLITE_OK else { throw connection.error(rc, sql) }
    }

    /// Advances to the next row: true if there is one, false when done.
    @discardableResult public func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc:
            let e = connection.error(rc, sql)
            sqlite3_reset(handle)
            throw e
        }
    }

    public var columnCount: Int32 { sqlite3_column_count(handle) }

    public func value(_ i: Int32) -> FieldValue {
        switch sqlite3_column_type(handle, i) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, i))
        default: return .text(text(i) ?? "")
        }
    }

    public func text(_ i: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, i) else { return nil }
        return String(cString: p)
    }

    public func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
    public func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }

    /// The column's BLOB, valid only inside `body` (SQLite owns the bytes until the next step).
    public func withBlob<T>(_ i: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let p = sqlite3_column_blob(handle, i)
        let n = Int(sqlite3_column_bytes(handle, i))
        return try body(UnsafeRawBufferPointer(start: p, count: n))
    }
}
