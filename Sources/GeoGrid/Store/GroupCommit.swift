import Foundation
import Synchronization

/// Group commit for small writes arriving together (edits over HTTP): each caller's work runs inside one shared
/// write transaction, in a SAVEPOINT of its own, so a refused or failed one rolls back only itself; the
/// transaction then commits once (one sync of the WAL, one update of the indexes) and every caller gets its own
/// answer after that commit, never before. The first caller to find no commit under way leads: it takes every
/// waiting job, runs and commits them, and hands the lead to a job that arrived meanwhile, so no caller waits for
/// more than the batch after its own.
final class GroupCommit: Sendable {
    private final class Job: @unchecked Sendable {
        let work: (Connection) throws -> any Sendable
        var result: Result<any Sendable, any Error>?
        /// Set when this job's caller is to lead the next batch rather than return.
        var lead = false
        let done = DispatchSemaphore(value: 0)
        init(_ work: @escaping (Connection) throws -> any Sendable) { self.work = work }
    }

    private struct State {
        var pending: [Job] = []
        var leading = false
    }
    private let state = Mutex(State())

    /// Runs `work` in a savepoint of a shared write transaction of `store` and returns its result once that
    /// transaction has committed.
    func run<T: Sendable>(_ store: GeoStore, _ work: @escaping (Connection) throws -> T) throws -> T {
        let job = Job { try work($0) }
        let leads = state.withLock { s -> Bool in
            s.pending.append(job)
            if s.leading { return false }
            s.leading = true
            return true
        }
        if !leads {
            job.done.wait()
            if job.lead { lead(store) }
        } else {
            lead(store)
        }
        if !leads && job.result == nil { job.done.wait() }
        return try job.result!.get() as! T
    }

    /// Commits the jobs waiting now, then hands the lead on (or gives it up when none waits).
    private func lead(_ store: GeoStore) {
        let batch = state.withLock { s -> [Job] in
            defer { s.pending = [] }
            return s.pending
        }
        do {
            try store.write { db in
                for job in batch {
                    try db.execute("SAVEPOINT geogrid_edit")
                    do {
                        job.result = .success(try job.work(db))
                        db.settleCachedStatements()
                        try db.execute("RELEASE geogrid_edit")
                    } catch {
                        db.settleCachedStatements()
                        try db.execute("ROLLBACK TO geogrid_edit")
                        try db.execute("RELEASE geogrid_edit")
                        job.result = .failure(error)
                    }
                }
            }
        } catch {
            // The commit itself failed (a full disk): nothing of the batch is written, and each caller says so.
            for job in batch { job.result = .failure(error) }
        }
        let next = state.withLock { s -> Job? in
            guard let first = s.pending.first else {
                s.leading = false
                return nil
            }
            first.lead = true
            return first
        }
        // Answers go out only now that the batch is committed; a job that leads next returns after its batch.
        for job in batch where job !== next { job.done.signal() }
        next?.done.signal()
    }
}
