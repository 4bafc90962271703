import Foundation
import Synchronization

/// Group commit for small writes arriving together (edits and cases over HTTP): each caller's work runs inside
/// one shared write transaction, in a SAVEPOINT of its own, so a refused or failed one rolls back only itself;
/// the transaction then commits once (one sync of the WAL, one update of the indexes) and every caller gets its
/// own answer after that commit, never before.
///
/// The batches are run by a thread of their own, the committer, which takes every job waiting, commits them and
/// goes back for those that arrived meanwhile, so no caller waits for more than the batch after its own. (Before,
/// the first caller to find no commit under way led the batch and handed the lead to one that arrived
/// meanwhile: every batch began only once a sleeping caller's thread was woken and scheduled, and the leader's
/// own answer waited for the next batch too; benchmarks/README.md has what the thread changed.) The callers' own
/// work (a case's situation package) stays on their threads.
final class GroupCommit: Sendable {
    private final class Job: @unchecked Sendable {
        /// Dropped once run: what it holds (the store, often) must not outlive the caller's answer.
        var work: ((Connection) throws -> any Sendable)?
        var result: Result<any Sendable, any Error>?
        let done = DispatchSemaphore(value: 0)
        init(_ work: @escaping (Connection) throws -> any Sendable) { self.work = work }
    }

    /// What the committer and the callers share; the committer holds this, not the GroupCommit, so that it can
    /// end when the store goes.
    private final class Queue: Sendable {
        struct State {
            var pending: [Job] = []
            var stopped = false
            var started = false
        }
        let state = Mutex(State())
        let ready = DispatchSemaphore(value: 0)
    }
    private let queue = Queue()

    deinit {
        queue.state.withLock { $0.stopped = true }
        queue.ready.signal()
    }

    /// Runs `work` in a savepoint of a shared write transaction of `store` and returns its result once that
    /// transaction has committed.
    func run<T: Sendable>(_ store: GeoStore, _ work: @escaping (Connection) throws -> T) throws -> T {
        let job = Job { try work($0) }
        let start = queue.state.withLock { s -> Bool in
            s.pending.append(job)
            defer { s.started = true }
            return !s.started
        }
        if start { startCommitter(store) }
        queue.ready.signal()
        job.done.wait()
        return try job.result!.get() as! T
    }

    private func startCommitter(_ store: GeoStore) {
        let queue = self.queue
        // The committer keeps the store alive only while a batch is being written (a job's caller holds it too).
        let box = WeakStore(store)
        let thread = Thread {
            while true {
                queue.ready.wait()
                let (batch, stopped) = queue.state.withLock { s -> ([Job], Bool) in
                    defer { s.pending = [] }
                    return (s.pending, s.stopped)
                }
                if batch.isEmpty {
                    if stopped { return }
                    continue
                }
                // The store is held only while the batch is written: a caller that drops it after its answer
                // closes it then, not when this thread next lets go.
                if let store = box.store {
                    Self.commit(batch, store)
                } else {
                    for job in batch { job.result = .failure(StoreError("the store was closed")) }
                }
                for job in batch { job.work = nil }
                // Answers go out only now that the batch is committed.
                for job in batch { job.done.signal() }
            }
        }
        thread.name = "geogrid-committer"
        thread.stackSize = 1 << 20
        thread.start()
    }

    private final class WeakStore: @unchecked Sendable {
        weak var store: GeoStore?
        init(_ store: GeoStore) { self.store = store }
    }

    /// Writes one batch: each job in its savepoint, then one commit.
    private static func commit(_ batch: [Job], _ store: GeoStore) {
        do {
            try store.write { db in
                for job in batch {
                    try db.execute("SAVEPOINT geogrid_edit")
                    do {
                        job.result = .success(try job.work!(db))
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
    }
}
