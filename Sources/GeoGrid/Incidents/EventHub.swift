import Foundation
import Synchronization

/// A live event as the store keeps it (`geogrid_events`): case created, transitioned, light_changed,
/// reassigned.
public struct StoredEvent: Sendable {
    public var id: Int64
    public var time: String
    public var kind: String
    public var incidentID: Int64?
    /// The event as JSON text (what an SSE client receives as `data`), and parsed, for filters.
    public var text: String
    public var data: JSONValue

    /// The event's case summary (area codes, department, position), for filters.
    public var incident: JSONValue? { data["incident"] }
}

/// Where live events go after their transaction commits: the most recent ones in memory, in commit order,
/// and a wake-up for every listener. The events themselves are in the store first, so a listener that falls
/// behind, or comes back after a restart, reads the rest from there.
public final class EventHub: Sendable {
    private struct State {
        var recent: [StoredEvent] = []
        var lastID: Int64 = 0
        var listeners: [UInt64: AsyncStream<Void>.Continuation] = [:]
        var nextListener: UInt64 = 0
        var primed = false
    }
    private let state = Mutex(State())
    /// Events kept in memory: enough for listeners a moment behind (a second at 2,000 reports/s); a listener
    /// further behind, or resuming, reads from the store by id. Each holds its text and its parse (some KiB):
    /// 20,000 of them were 100 MB, filled over minutes, which the mixed load's memory criterion caught.
    static let keep = 2_048

    /// The id of the newest event published (or in the store when the hub was primed).
    public var lastID: Int64 { state.withLock { $0.lastID } }

    /// Called after a commit that wrote events, on the writer's connection (still under the writer's lock, so
    /// batches arrive in commit order).
    func publish(from db: Connection) {
        let after = state.withLock { $0.lastID }
        guard let events = try? Self.read(db, after: after, limit: Int.max), !events.isEmpty else { return }
        append(events)
    }

    /// Catches up with events other processes wrote (geo-cli incident transition while a server runs).
    public func catchUp(_ store: GeoStore) {
        let after = state.withLock { $0.lastID }
        guard let events = try? store.read({ try Self.read($0, after: after, limit: 10_000) }), !events.isEmpty else { return }
        append(events)
    }

    private func append(_ events: [StoredEvent]) {
        let listeners = state.withLock { s -> [AsyncStream<Void>.Continuation] in
            let fresh = events.filter { $0.id > s.lastID }
            guard !fresh.isEmpty else { return [] }
            s.recent += fresh
            if s.recent.count > Self.keep + Self.keep / 4 { s.recent.removeFirst(s.recent.count - Self.keep) }
            s.lastID = fresh.last!.id
            return Array(s.listeners.values)
        }
        for l in listeners { l.yield() }
    }

    /// Notes where the store's events end, once, so that only later ones count as new.
    func prime(lastID: Int64) {
        state.withLock { s in
            if !s.primed { s.lastID = max(s.lastID, lastID); s.primed = true }
        }
    }

    /// Wakes every listener without an event (a heartbeat, so that a listener writes a keep-alive).
    public func tick() {
        for l in state.withLock({ Array($0.listeners.values) }) { l.yield() }
    }

    /// A stream that yields whenever events arrive (or a tick); ends when the caller stops iterating.
    public func listen() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let key = state.withLock { s -> UInt64 in
            s.nextListener += 1
            s.listeners[s.nextListener] = continuation
            return s.nextListener
        }
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.listeners.removeValue(forKey: key) } }
        return stream
    }

    public var listenerCount: Int { state.withLock { $0.listeners.count } }

    /// Events after `id`, oldest first, at most `limit`: from memory when it reaches back that far, else from the store.
    public func events(after id: Int64, limit: Int, store: GeoStore) throws -> [StoredEvent] {
        let fromMemory = state.withLock { s -> [StoredEvent]? in
            if id >= s.lastID { return [] }
            // Memory answers when it holds the event right after `id` (or an earlier one).
            guard let first = s.recent.first, first.id <= id + 1 else { return nil }
            // Binary search for the first event after id.
            var lo = 0, hi = s.recent.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if s.recent[mid].id <= id { lo = mid + 1 } else { hi = mid }
            }
            return Array(s.recent[lo..<min(s.recent.count, lo + limit)])
        }
        if let fromMemory { return fromMemory }
        return try store.read { try Self.read($0, after: id, limit: limit) }
    }

    static func read(_ db: Connection, after id: Int64, limit: Int) throws -> [StoredEvent] {
        let s = try db.prepare("SELECT id, time, kind, incident_id, data FROM geogrid_events WHERE id > ? ORDER BY id LIMIT ?")
        try s.bind([.integer(id), .integer(Int64(min(limit, Int(Int32.max))))])
        var out: [StoredEvent] = []
        while try s.step() {
            let text = s.text(4) ?? "{}"
            out.append(StoredEvent(id: s.int64(0), time: s.text(1) ?? "", kind: s.text(2) ?? "", incidentID: s.isNull(3) ? nil : s.int64(3), text: text,
                data: (try? JSONParser.parse(text)) ?? .null))
        }
        return out
    }
}
