import Foundation

/// A bounded, single-producer single-consumer queue between two threads. The producer's `send` blocks
/// while the queue is full and returns false once the consumer has cancelled; the consumer's `receive`
/// blocks while it is empty, returns nil after `finish(nil)` and throws the error given to `finish`.
final class Channel<T: Sendable>: @unchecked Sendable {
    // All state is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [T] = []
    private let capacity: Int
    private var finished = false
    private var failure: Error?
    private var cancelled = false

    init(capacity: Int) { self.capacity = capacity }

    func send(_ item: T) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Called once by the producer when it stops, with the error that stopped it, if any.
    func finish(_ error: Error?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    func receive() throws -> T? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished { condition.wait() }
        if !items.isEmpty {
            let item = items.removeFirst()
            condition.broadcast()
            return item
        }
        if let failure, !(failure is CancellationError) { throw failure }
        return nil
    }

    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until the producer has called `finish`.
    func waitUntilFinished() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
