import Foundation
import Synchronization

/// Threads of our own for work that blocks: writes that wait for their group commit (`GeoStore.edit`,
/// `IncidentDesk`). Run on Swift's cooperative pool (as many threads as cores), each waiting writer would hold one
/// of those few threads, so no more writers than cores could be waiting to share a commit and the commits would be
/// as many as the requests; here up to `size` writers wait together and share one synced commit.
final class BlockingPool: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
    }
    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)

    static let shared = BlockingPool(size: 64)

    init(size: Int) {
        for i in 0..<size {
            let thread = Thread { [self] in self.serve() }
            thread.name = "geogrid-writer-\(i)"
            thread.start()
        }
    }

    private func serve() {
        while true {
            ready.wait()
            let job = state.withLock { s -> (@Sendable () -> Void)? in s.jobs.isEmpty ? nil : s.jobs.removeFirst() }
            job?()
        }
    }

    /// Runs `body` on one of the pool's threads and returns its result to the caller's task.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            state.withLock { $0.jobs.append { continuation.resume(with: Result { try body() }) } }
            ready.signal()
        }
    }
}
