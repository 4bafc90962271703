/// Indexes that follow writes without a rebuild: an immutable main index, the rows of it replaced or deleted
/// since (skipped), and a small index of the rows added or changed since (searched alongside). Each write makes
/// the small index anew (its cost grows with it), and past a threshold both are merged into a new main index
/// (a cost of the main index's size). A threshold t makes a write cost about t/2 + main/t on average, least at
/// t = √(2·main): 1,414 for a million rows; the floor keeps small layers from merging at every write.
enum Overlay {
    static func shouldMerge(delta: Int, main: Int) -> Bool { delta > max(256, Int((2 * Double(main)).squareRoot())) }

    /// `main` without the rows whose positions `skip` names, and `added`, both ascending by `id` and disjoint,
    /// as one array ascending by id (no sort, one copy of each row).
    static func merge<T>(_ main: [T], _ added: [T], skip: (Int) -> Bool, id: (T) -> Int64) -> [T] {
        var out: [T] = []
        out.reserveCapacity(main.count + added.count)
        var a = 0
        for (i, m) in main.enumerated() {
            if skip(i) { continue }
            let mid = id(m)
            while a < added.count && id(added[a]) < mid {
                out.append(added[a])
                a += 1
            }
            out.append(m)
        }
        out.append(contentsOf: added[a...])
        return out
    }

    /// The index of `id` among `count` ids ascending (the i-th given by `idAt`), if present.
    static func find(_ id: Int64, in count: Int, _ idAt: (Int) -> Int64) -> Int? {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if idAt(mid) < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < count && idAt(lo) == id ? lo : nil
    }
}

/// The nearest-resource index of a store, kept in step with its writes (see `Overlay`).
public final class ResourceIndex: Sendable {
    let main: PointIndex
    let removed: Bitset
    let removedCount: Int
    /// The rows added or changed since `main` was built, by id, and their index.
    let changed: [Int64: ResourceInfo]
    let delta: PointIndex

    /// An index of `resources` (in any order).
    public convenience init(resources: [ResourceInfo]) {
        var sorted = resources
        if !zip(sorted, sorted.dropFirst()).allSatisfy({ $0.id < $1.id }) { sorted.sort { $0.id < $1.id } }
        self.init(main: PointIndex(resources: sorted), removed: Bitset(count: sorted.count), removedCount: 0, changed: [:])
    }

    private init(main: PointIndex, removed: Bitset, removedCount: Int, changed: [Int64: ResourceInfo]) {
        self.main = main
        self.removed = removed
        self.removedCount = removedCount
        self.changed = changed
        delta = PointIndex(resources: changed.values.sorted { $0.id < $1.id })
    }

    /// How many resources it holds.
    public var count: Int { main.count - removedCount + delta.count }
    /// Overlay entries since the last full build: rows added or changed, and rows of the main index skipped.
    public var pendingChanges: Int { changed.count + removedCount }

    /// Every resource, by id.
    public var resources: [ResourceInfo] {
        var out = main.resources.indices.filter { !removed[$0] }.map { main.resources[$0] }
        out += delta.resources
        return out.sorted { $0.id < $1.id }
    }

    public var types: [String] { Array(Set(main.types + delta.types)).sorted() }

    /// This index after the store's rows `ids` became `rows` (ids missing from `rows` were deleted).
    public func applying(ids: Set<Int64>, rows: [ResourceInfo]) -> ResourceIndex {
        var removed = removed, removedCount = removedCount, changed = changed
        for id in ids {
            changed[id] = nil
            if let i = main.index(ofID: id), !removed[i] {
                removed[i] = true
                removedCount += 1
            }
        }
        for r in rows { changed[r.id] = r }
        let next = ResourceIndex(main: main, removed: removed, removedCount: removedCount, changed: changed)
        guard Overlay.shouldMerge(delta: changed.count + removedCount, main: main.count) else { return next }
        let merged = Overlay.merge(main.resources, next.delta.resources, skip: { removed[$0] }, id: { $0.id })
        return ResourceIndex(main: PointIndex(resources: merged), removed: Bitset(count: merged.count), removedCount: 0, changed: [:])
    }

    /// The `k` resources nearest to `p`, nearest first (ties by id), among `types` (all when nil) whose status
    /// is in `statuses` (any when nil), no farther than `within` metres when given.
    public func nearest(_ p: Position, k: Int, types: Set<String>? = nil, statuses: Set<String>? = nil, within: Double? = nil) -> [NearestHit] {
        if changed.isEmpty && removedCount == 0 { return main.nearest(p, k: k, types: types, statuses: statuses, within: within) }
        guard k > 0 else { return [] }
        let q = Geodesy.Origin(p)
        func hits(_ index: PointIndex, skipping: Bitset?) -> [NearestHit] {
            withScratch(PointIndex.Scored.self, capacity: k + 32) { found in
                index.collect(q, k: k, types: types, statuses: statuses, within: within, skipping: skipping, into: &found)
                return index.hits(found, k, q)
            }
        }
        var all = hits(main, skipping: removedCount > 0 ? removed : nil) + hits(delta, skipping: nil)
        all.sort { ($0.distance, $0.resource.id) < ($1.distance, $1.resource.id) }
        return Array(all.prefix(k))
    }

    public var memoryBytes: Int {
        main.memoryBytes + removed.words.count * 8 + delta.memoryBytes + changed.count * (MemoryLayout<ResourceInfo>.stride + 16)
    }
}

/// A layer's features by box (`ShapeIndex`), kept in step with the store's writes (see `Overlay`).
public final class LayerIndex: Sendable {
    let main: ShapeIndex
    let removed: Set<Int64>
    let changed: [Int64: ShapeIndex.Entry]
    let delta: ShapeIndex

    public var layer: Layer { main.layer }

    public init(layer: Layer, features: [StoredRow]) {
        main = ShapeIndex(layer: layer, features: features)
        removed = []
        changed = [:]
        delta = ShapeIndex(layer: layer, features: [])
    }

    private init(main: ShapeIndex, removed: Set<Int64>, changed: [Int64: ShapeIndex.Entry]) {
        self.main = main
        self.removed = removed
        self.changed = changed
        delta = ShapeIndex(layer: main.layer, entries: changed.values.sorted { $0.id < $1.id })
    }

    public var count: Int { main.entries.count - removed.count + changed.count }
    /// Overlay entries since the last full build: rows added or changed, and rows of the main index skipped.
    public var pendingChanges: Int { changed.count + removed.count }

    /// This index after the store's rows `ids` became `rows` (ids missing from `rows` were deleted).
    public func applying(ids: Set<Int64>, rows: [StoredRow]) -> LayerIndex {
        var removed = removed, changed = changed
        for id in ids {
            changed[id] = nil
            if Overlay.find(id, in: main.entries.count, { main.entries[$0].id }) != nil { removed.insert(id) }
        }
        for r in rows {
            guard let box = r.geometry.bbox else { continue }
            changed[r.id] = ShapeIndex.Entry(id: r.id, geometry: r.geometry, values: r.values, extra: r.extra, box: box)
        }
        let next = LayerIndex(main: main, removed: removed, changed: changed)
        guard Overlay.shouldMerge(delta: changed.count + removed.count, main: main.entries.count) else { return next }
        // The kept rows of the main index and the changed ones, both in id order and disjoint: merged.
        let merged = Overlay.merge(main.entries, next.delta.entries, skip: { removed.contains(main.entries[$0].id) }, id: { $0.id })
        return LayerIndex(main: ShapeIndex(layer: main.layer, entries: merged), removed: [], changed: [:])
    }

    /// Features whose geometry comes within `radius` metres of `p` (0 inside a polygon), nearest first.
    public func within(_ p: Position, radius: Double) -> [(entry: ShapeIndex.Entry, distance: Double)] {
        var found = main.within(p, radius: radius)
        if removed.isEmpty && changed.isEmpty { return found }
        found.removeAll { removed.contains($0.entry.id) }
        found += delta.within(p, radius: radius)
        return found.sorted { ($0.distance, $0.entry.id) < ($1.distance, $1.entry.id) }
    }

    /// Calls `body` with every feature whose geometry comes within `radius` metres of `p` and its distance, in
    /// no particular order, without copying entries (for totals: the situation package's summary).
    func forEach(within p: Position, radius: Double, _ body: (borrowing ShapeIndex.Entry, Double) -> Void) {
        main.entries.withUnsafeBufferPointer { entries in
            main.scan(p, radius: radius) { i, d in
                if !removed.isEmpty && removed.contains(entries[Int(i)].id) { return }
                body(entries[Int(i)], d)
            }
        }
        guard !changed.isEmpty else { return }
        delta.entries.withUnsafeBufferPointer { entries in
            delta.scan(p, radius: radius) { i, d in body(entries[Int(i)], d) }
        }
    }

    /// The access roads within `radius` metres of `p` (a roads index): what `AccessRoad.distinct` makes of
    /// `forEach(within:radius:)`'s roads, without making a road of each or hashing their names.
    func accessRoads(within p: Position, radius: Double) -> [AccessRoad] {
        var best: [Int32: AccessRoad.Nearest] = [:]
        main.gatherAccessRoads(p, radius: radius, fromDelta: false, group: { main.roadGroups[Int($0)] },
            skip: { !removed.isEmpty && removed.contains(main.entries[Int($0)].id) }, into: &best)
        if !changed.isEmpty {
            // The overlay's roads in the main index's groups, or in groups after them for names it lacks.
            var extra: [AccessRoad.Key: Int32] = [:]
            let groups = delta.entries.map { e -> Int32 in
                let key = AccessRoad.Key(e)
                if let n = main.roadKeys[key] { return n }
                if let n = extra[key] { return n }
                extra[key] = Int32(main.roadKeys.count + extra.count)
                return Int32(main.roadKeys.count + extra.count - 1)
            }
            delta.gatherAccessRoads(p, radius: radius, fromDelta: true, group: { groups[Int($0)] }, skip: { _ in false }, into: &best)
        }
        return best.values.sorted { $0.distance != $1.distance ? $0.distance < $1.distance : $0.id < $1.id }.map { b in
            var road = AccessRoad(b.fromDelta ? delta.entries[Int(b.index)] : main.entries[Int(b.index)], distance: b.distance)
            road.width = b.width
            return road
        }
    }

    /// Features whose geometry meets `box`, by id.
    public func entries(intersecting box: BBox) -> [ShapeIndex.Entry] {
        var found = main.entries(intersecting: box)
        if removed.isEmpty && changed.isEmpty { return found }
        found.removeAll { removed.contains($0.id) }
        found += delta.entries(intersecting: box)
        return found.sorted { $0.id < $1.id }
    }

    /// Calls `body` with every feature whose geometry comes within `radius` metres of `p`, in no particular
    /// order, without copying entries or measuring distances it need not (for totals and counts).
    func forEach(within p: Position, radius: Double, _ body: (borrowing ShapeIndex.Entry) -> Void) {
        main.entries.withUnsafeBufferPointer { entries in
            main.scanWithin(p, radius: radius) { i in
                if !removed.isEmpty && removed.contains(entries[Int(i)].id) { return }
                body(entries[Int(i)])
            }
        }
        guard !changed.isEmpty else { return }
        delta.entries.withUnsafeBufferPointer { entries in
            delta.scanWithin(p, radius: radius) { i in body(entries[Int(i)]) }
        }
    }

    /// Calls `body` with every feature whose geometry meets `box`, by id, without copying entries.
    func forEach(intersecting box: BBox, _ body: (borrowing ShapeIndex.Entry) -> Void) {
        var found: [Int32] = []
        main.scan(intersecting: box) { i in if removed.isEmpty || !removed.contains(main.entries[Int(i)].id) { found.append(i) } }
        found.sort { main.entries[Int($0)].id < main.entries[Int($1)].id }
        var extra: [Int32] = []
        if !changed.isEmpty {
            delta.scan(intersecting: box) { extra.append($0) }
            extra.sort { delta.entries[Int($0)].id < delta.entries[Int($1)].id }
        }
        // Both in id order: merged.
        var a = 0, d = 0
        while a < found.count || d < extra.count {
            if d == extra.count || (a < found.count && main.entries[Int(found[a])].id < delta.entries[Int(extra[d])].id) {
                body(main.entries[Int(found[a])])
                a += 1
            } else {
                body(delta.entries[Int(extra[d])])
                d += 1
            }
        }
    }

    /// A box holding every feature (exact after a merge; after edits it may still include deleted ones'
    /// places); nil when the layer is empty.
    public var extent: BBox? {
        guard count > 0 else { return nil }
        var box = BBox.empty
        if let e = main.extent { box.extend(e) }
        if let e = delta.extent { box.extend(e) }
        return box.isEmpty ? nil : box
    }

    /// Calls `body` with every feature, the main index's first, with where it is kept (for `entry(at:fromDelta:)`).
    func forEachIndexed(_ body: (Int32, Bool, borrowing ShapeIndex.Entry) -> Void) {
        for (i, e) in main.entries.enumerated() where removed.isEmpty || !removed.contains(e.id) { body(Int32(i), false, e) }
        for (i, e) in delta.entries.enumerated() { body(Int32(i), true, e) }
    }

    func entry(at i: Int32, fromDelta: Bool) -> ShapeIndex.Entry { fromDelta ? delta.entries[Int(i)] : main.entries[Int(i)] }

    /// The feature with this id, if any.
    public func entry(id: Int64) -> ShapeIndex.Entry? {
        if let e = changed[id] { return e }
        if removed.contains(id) { return nil }
        return Overlay.find(id, in: main.entries.count) { main.entries[$0].id }.map { main.entries[$0] }
    }

    public var memoryBytes: Int { main.memoryBytes + delta.memoryBytes + removed.count * 16 }
}
