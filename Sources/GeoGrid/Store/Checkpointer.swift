import CSQLite
import Foundation
import Synchronization

/// Copies the write-ahead log back into the store file on a thread of its own, so that the writer, the one
/// thread every write waits for, only appends to the log and syncs it. SQLite's own automatic checkpoint would
/// run inside the COMMIT that took the log past 1,000 pages: that commit, and every caller in its group,
/// waited for a thousand page writes and two more syncs. Here the writer's WAL hook counts the log's pages
/// and, past `threshold`, wakes this thread, which runs a PASSIVE checkpoint on its own connection (it takes
/// no lock a writer or reader waits for, and copies what no reader still needs). Should the thread fall far
/// behind (`hardLimit`), the writer checkpoints itself, as SQLite would, so the log stays bounded.
final class Checkpointer: Sendable {
    static let threshold: Int32 = 1_000
    static let hardLimit: Int32 = 16_000

    private struct State {
        var pending = false
        var stopped = false
        var runs = 0
    }
    /// What the thread and the writer share (the thread holds this, not the checkpointer).
    private final class Shared: Sendable {
        let state = Mutex(State())
        let wake = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
    }
    private let shared = Shared()
    /// Checkpoints this thread has run (for tests).
    var runs: Int { shared.state.withLock { $0.runs } }

    init(path: String) {
        let shared = self.shared
        let thread = Thread {
            let wake = shared.wake
            var connection: Connection?
            defer {
                // Closed before the store's close returns: whichever connection closes last folds the WAL into
                // the file, and a store closed is one whose file can be copied alone.
                connection = nil
                shared.finished.signal()
            }
            while true {
                wake.wait()
                let go = shared.state.withLock { s -> Bool? in
                    if s.stopped { return nil }
                    defer { s.pending = false }
                    return s.pending
                }
                guard let go else { return }
                guard go else { continue }
                do {
                    if connection == nil { connection = try Connection(path: path) }
                    try connection!.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    shared.state.withLock { $0.runs += 1 }
                } catch {
                    // Busy or failed: the next commit past the threshold asks again, and the writer itself
                    // checkpoints past the hard limit.
                    connection = nil
                }
            }
        }
        thread.name = "geogrid-checkpoint"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Installs the WAL hook on the writer's connection (in place of SQLite's automatic checkpoint).
    func attach(to connection: Connection) {
        sqlite3_wal_hook(connection.db, { context, db, _, pages in
            guard let context else { return SQLITE_OK }
            let me = Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue()
            if pages >= Checkpointer.hardLimit {
                sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } else if pages >= Checkpointer.threshold {
                me.request()
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    private func request() {
        let signal = shared.state.withLock { s -> Bool in
            if s.pending { return false }
            s.pending = true
            return true
        }
        if signal { shared.wake.signal() }
    }

    /// The thread ends with the store: a checkpoint under way finishes, its connection closes, and only then
    /// does the store's close go on.
    deinit {
        shared.state.withLock { $0.stopped = true }
        shared.wake.signal()
        shared.finished.wait()
    }
}
