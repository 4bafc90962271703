import Foundation
import GeoGrid
import Synchronization

/// Encoded tiles in memory, bounded in bytes, least recently used first out; invalidated exactly for the
/// tiles a write touches: those whose buffered bounds meet the old or the new box of a changed feature, in
/// every layer set that includes its layer, at every zoom. A tile built while such a write committed is not
/// kept (`ticket` before building, `put(_:_:since:)` after), or it would show the map from before the write
/// until the next one.
public final class TileCache: Sendable {
    struct Key: Hashable, Sendable {
        var layers: [Layer]
        var tile: TileID
        /// For layer sets with grids: the day whose grids in force the tile shows (today's tiles of yesterday
        /// are simply never asked for again, and age out).
        var day: String? = nil
        /// For layer sets with cases: closed ones too (`cases=all`), not only the open ones.
        var closedCases = false
    }

    /// A tile's bytes, their gzip form and a strong ETag (a hash of the bytes).
    final class Entry: Sendable {
        let bytes: [UInt8]
        let gzipped: [UInt8]
        let etag: String
        var size: Int { bytes.count + gzipped.count + 200 }

        init(bytes: [UInt8]) {
            self.bytes = bytes
            gzipped = bytes.isEmpty ? [] : Gzip.compress(bytes)
            etag = "\"\(Self.fnv1a(bytes))-\(bytes.count)\""
        }

        /// 64-bit FNV-1a, in hex.
        static func fnv1a(_ bytes: [UInt8]) -> String {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            return String(h, radix: 16)
        }
    }

    private struct State {
        var entries: [Key: (entry: Entry, used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        /// Invalidations so far, and the latest of them with their changes, for `put(_:_:since:)`.
        var generation: UInt64 = 0
        var recent: [(generation: UInt64, change: StoreChange)] = []
    }

    /// How many invalidations are remembered for tiles still being built; a tile begun before the oldest of
    /// them is simply not kept.
    static let remembered = 256

    public let capacity: Int
    private let state = Mutex(State())
    /// Tiles being built, with the ticket each was begun at: a request for one joins its build rather than
    /// encoding the same megabytes again (a tile of cases is asked for by every dispatcher's map after each
    /// report), unless a write since touched it.
    private let building = Mutex<[Key: (ticket: UInt64, task: Task<Entry, any Error>)]>([:])

    public init(capacityBytes: Int) { capacity = capacityBytes }

    func get(_ key: Key) -> Entry? {
        state.withLock { s in
            guard let found = s.entries[key] else { return nil }
            s.clock += 1
            s.entries[key]!.used = s.clock
            return found.entry
        }
    }

    /// Taken before a tile is read from the indexes.
    func ticket() -> UInt64 { state.withLock { $0.generation } }

    /// Whether no write committed after `ticket` touches the tile (false when too many did to tell).
    private static func unchanged(_ s: State, _ key: Key, since ticket: UInt64) -> Bool {
        guard ticket < s.generation else { return true }
        guard let oldest = s.recent.first?.generation, oldest <= ticket + 1 else { return false }
        return !s.recent.contains { $0.generation > ticket && touches($0.change, key) }
    }

    /// Keeps a tile, unless (with `since`, its ticket) a write committed after the ticket touches it.
    func put(_ key: Key, _ entry: Entry, since ticket: UInt64? = nil) {
        guard entry.size <= capacity / 4 else { return }
        state.withLock { s in
            if let ticket, !Self.unchanged(s, key, since: ticket) { return }
            if let old = s.entries[key] { s.bytes -= old.entry.size }
            s.clock += 1
            s.entries[key] = (entry, s.clock)
            s.bytes += entry.size
            if s.bytes > capacity {
                // Evict the least recently used down to 90%, so that eviction's sort is paid rarely.
                for (k, v) in s.entries.sorted(by: { $0.value.used < $1.value.used }) {
                    if s.bytes <= capacity * 9 / 10 { break }
                    s.entries[k] = nil
                    s.bytes -= v.entry.size
                }
            }
        }
    }

    /// The cached tile, or one built by `build` (from the indexes as they are now), shared with the requests
    /// that ask for it while it is built; `cached` says whether it was there already.
    func entry(_ key: Key, build: @escaping @Sendable () async throws -> Entry) async throws -> (entry: Entry, cached: Bool) {
        if let found = get(key) { return (found, true) }
        let task: Task<Entry, any Error> = building.withLock { inFlight in
            let now = ticket()
            if let current = inFlight[key], state.withLock({ Self.unchanged($0, key, since: current.ticket) }) { return current.task }
            let task = Task<Entry, any Error> { [self] in
                defer { building.withLock { if $0[key]?.ticket == now { $0[key] = nil } } }
                let entry = try await build()
                put(key, entry, since: now)
                return entry
            }
            inFlight[key] = (now, task)
            return task
        }
        return (try await task.value, false)
    }

    public var count: Int { state.withLock { $0.entries.count } }
    public var bytes: Int { state.withLock { $0.bytes } }

    /// Drops the cached tiles that `change` may have altered; returns how many.
    @discardableResult public func invalidate(_ change: StoreChange) -> Int {
        state.withLock { s in
            s.generation += 1
            s.recent.append((s.generation, change))
            if s.recent.count > Self.remembered { s.recent.removeFirst(s.recent.count - Self.remembered) }
            var dropped = 0
            for (key, value) in s.entries {
                if Self.touches(change, key) {
                    s.entries[key] = nil
                    s.bytes -= value.entry.size
                    dropped += 1
                }
            }
            return dropped
        }
    }

    static func touches(_ change: StoreChange, _ key: Key) -> Bool {
        let bounds = key.tile.bounds(buffer: Double(VectorTiles.buffer), extent: Double(VectorTiles.extent))
        return key.layers.contains { layer in change.wholeLayers.contains(layer) || (change.boxes[layer] ?? []).contains { $0.intersects(bounds) } }
    }
}
