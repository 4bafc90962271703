import Foundation
import Synchronization

/// The in-memory indexes the queries run on: built from the store (at open by `prepareQueryIndexes()`, or on
/// first use), then kept in step by every write through the store, inside the write, so an answer never
/// disagrees with the file. Immutable values, replaced whole and shared by every thread.
final class QueryIndexCache: Sendable {
    struct State {
        var locator: Locator?
        /// Nearest-feature indexes of point layers (resources and defined point layers).
        var points: [Layer: ResourceIndex] = [:]
        var shapes: [Layer: LayerIndex] = [:]
        /// Bumped by every write: an index built from an older snapshot is used once but not kept.
        var generation = 0
    }
    private let state = Mutex(State())

    var current: State { state.withLock { $0 } }

    /// Replaces the indexes by those `update` made from them, after a write committed.
    func publish(_ next: State) {
        state.withLock {
            let generation = $0.generation + 1
            $0 = next
            $0.generation = generation
        }
    }

    func locator(_ build: () throws -> Locator) rethrows -> Locator {
        try cached({ $0.locator }, { $0.locator = $1 }, build)
    }

    /// Puts a locator of a new day in place of the one of `ifDay` (unless another thread already did).
    func replaceLocator(_ fresh: Locator, ifDay day: String?) {
        state.withLock { if $0.locator?.day == day { $0.locator = fresh } }
    }

    func shapes(_ layer: Layer, _ build: () throws -> LayerIndex) rethrows -> LayerIndex {
        try cached({ $0.shapes[layer] }, { $0.shapes[layer] = $1 }, build)
    }

    func points(_ layer: Layer, _ build: () throws -> ResourceIndex) rethrows -> ResourceIndex {
        try cached({ $0.points[layer] }, { $0.points[layer] = $1 }, build)
    }

    /// Forgets the indexes of `layers` (their definition changed, or they are gone).
    func drop(_ layers: Set<Layer>) {
        state.withLock {
            for l in layers {
                $0.points[l] = nil
                $0.shapes[l] = nil
            }
            $0.generation += 1
        }
    }

    /// The index `get` finds, built by `build` when missing and stored by `set`; kept only if no write came in
    /// between. (Closures, not a key path: a key path with a subscript is made at run time on every call, and
    /// this runs on every query.)
    @inline(__always) private func cached<T: Sendable>(_ get: (borrowing State) -> T?, _ set: (inout State, T) -> Void, _ build: () throws -> T) rethrows -> T {
        let (found, generation) = state.withLock { (get($0), $0.generation) }
        if let found { return found }
        let made = try build()
        state.withLock { if $0.generation == generation { set(&$0, made) } }
        return made
    }
}

/// What a committed write changed, for caches of derived data (the server's tiles): per layer, the boxes of
/// the changed features before and after; layers changed throughout, or whose old boxes are not known.
public struct StoreChange: Sendable {
    public var boxes: [Layer: [BBox]] = [:]
    public var wholeLayers: Set<Layer> = []
    public init() {}
}

public struct QueryIndexStatus: Sendable, Equatable {
    public var name: String
    public var built: Bool
    public var rows: Int
    /// Overlay entries since the last full build (rows added or changed, main rows skipped), until merged.
    public var pendingChanges: Int
}

extension GeoStore {
    /// The grid/community locator of the grids in force today (`valid_from` empty or not after today,
    /// `valid_to` empty or not before today), built from the store on first use and again when the day turns.
    public func locator() throws -> Locator {
        let today = self.today
        let found = try queryIndexes.locator(freshLocator)
        if found.day == nil || found.day == today { return found }
        // A new day: grids of a plan effective today come into force, those it closed leave.
        let fresh = try freshLocator()
        queryIndexes.replaceLocator(fresh, ifDay: found.day)
        return fresh
    }

    /// The locator read from the store now, bypassing the cache.
    func freshLocator() throws -> Locator { try read { try Self.buildLocator($0, day: today) } }

    /// The locator of the grids in force on `day` (YYYY-MM-DD): as-of answers, so that a case of last year is
    /// judged in last year's grids. Read from the file (grids' closed rows are not in the live indexes).
    public func locator(on day: String) throws -> Locator {
        guard Layer.isISODate(day) else { throw StoreError("'\(day)' is not a date YYYY-MM-DD") }
        if day == today { return try locator() }
        return try read { try Self.buildLocator($0, day: day) }
    }

    static func buildLocator(_ db: Connection, day today: String) throws -> Locator {
        let grids = try gridRows(db, day: today, ids: nil)
        var areas: [(AreaInfo, Geometry)] = []
        let c = try db.prepare("SELECT code, name, level, geom FROM communities ORDER BY id")
        while try c.step() {
            guard let level = c.text(2).flatMap(AreaLevel.init(rawValue:)) else { continue }
            areas.append((AreaInfo(code: c.text(0) ?? "", name: c.text(1), level: level), try Self.geometry(c, 3)))
        }
        var locator = Locator(grids: grids, areas: areas)
        locator.day = today
        return locator
    }

    /// The grids in force on `day` (`ids` nil: all of them; else only those of these rows), ordered by id.
    static func gridRows(_ db: Connection, day: String, ids: Set<Int64>?) throws -> [(GridInfo, Geometry)] {
        var grids: [(GridInfo, Geometry)] = []
        let g = try db.prepare("""
            SELECT id, code, name, worker_name, worker_phone, households, population, community_code, geom FROM grids
            WHERE (valid_from IS NULL OR valid_from <= ?1) AND (valid_to IS NULL OR valid_to >= ?1)
            \(ids == nil ? "" : "AND id IN (SELECT value FROM json_each(?2))") ORDER BY id
            """)
        try g.bind(.text(day), at: 1)
        if let ids { try g.bind(.text("[" + ids.map(String.init).joined(separator: ",") + "]"), at: 2) }
        while try g.step() {
            let info = GridInfo(id: g.int64(0), code: g.text(1) ?? "", name: g.text(2), workerName: g.text(3), workerPhone: g.text(4),
                households: g.value(5).integer, population: g.value(6).integer, communityCode: g.text(7) ?? "")
            grids.append((info, try Self.geometry(g, 8)))
        }
        return grids
    }

    /// The nearest-resource index, built from the store on first use.
    public func resourceIndex() throws -> ResourceIndex { try pointIndex(.resources) }

    /// The nearest-feature index of a point layer (resources, or a defined point layer), built on first use.
    public func pointIndex(_ layer: Layer) throws -> ResourceIndex {
        guard layer.geometry == .point else { throw StoreError("\(layer.name) is not a point layer: nearest answers point layers only") }
        return try queryIndexes.points(layer) { try freshPointIndex(layer) }
    }

    /// A point layer's index read from the store now, bypassing the cache.
    func freshPointIndex(_ layer: Layer) throws -> ResourceIndex { try read { try ResourceIndex(resources: Self.pointRows($0, layer, ids: nil)) } }

    /// The features of a point layer as the nearest index keeps them (`ids` nil: all), by id. Resources keep
    /// their type, name, capacity and status, and their extra attributes as `properties`; a defined layer's
    /// feature takes its `type`, `name` and `status` fields where it has them, and keeps every property.
    static func pointRows(_ db: Connection, _ layer: Layer, ids: Set<Int64>?) throws -> [ResourceInfo] {
        var out: [ResourceInfo] = []
        let fields = layer.fields
        func index(_ name: String) -> Int? { fields.firstIndex { $0.name == name } }
        let (type, name, capacity, status) = (index("type"), index("name"), index("capacity"), index("status"))
        let builtIn = layer.rules == .resources
        func readRow(_ row: StoredRow) {
            guard case .point(let p) = row.geometry else { return }
            var properties = row.extra
            if !builtIn {
                var members = zip(fields, row.values).filter { $0.1 != .null }.map { ($0.0.name, $0.0.json($0.1)) }
                members += Layer.extraMembers(row.extra)
                var bytes: [UInt8] = []
                GeoJSONWriter.value(.object(members), into: &bytes)
                properties = members.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
            }
            out.append(ResourceInfo(id: row.id, type: type.flatMap { row.values[$0].text } ?? (builtIn ? "" : layer.name), name: name.flatMap { row.values[$0].text },
                capacity: capacity.flatMap { row.values[$0].integer }, status: status.flatMap { row.values[$0].text } ?? (builtIn ? "in_service" : ""),
                position: p, properties: properties))
        }
        let sql = "SELECT \(selectList(layer)) FROM \(layer.table)"
        let s = try db.prepare(ids == nil ? sql + " ORDER BY id" : sql + " WHERE id = ?")
        if let ids {
            for id in ids.sorted() {
                s.reset()
                try s.bind(.integer(id), at: 1)
                while try s.step() { readRow(try storedRow(s, fields.count)) }
            }
        } else {
            while try s.step() { readRow(try storedRow(s, fields.count)) }
        }
        return out
    }

    /// A layer's features by box, for `around` and tiles, built from the store on first use.
    public func shapeIndex(_ layer: Layer) throws -> LayerIndex {
        try queryIndexes.shapes(layer) { try freshShapeIndex(layer) }
    }

    /// A layer's index read from the store now, bypassing the cache.
    func freshShapeIndex(_ layer: Layer) throws -> LayerIndex {
        try read { try LayerIndex(layer: layer, features: self.layerRows($0, layer, ids: nil)) }
    }

    /// A layer's rows (`ids` nil), or those of `ids` that exist, by id.
    func layerRows(_ db: Connection, _ layer: Layer, ids: Set<Int64>?) throws -> [StoredRow] {
        var features: [StoredRow] = []
        try forEachRow(db, layer: layer, bbox: nil, ids: ids) { features.append($0) }
        return features
    }

    /// Which query indexes are built, their rows, and how many changes since their last full build they carry
    /// in their overlays (see `Overlay`); for `info` and the server's metrics.
    public var queryIndexStatus: [QueryIndexStatus] {
        let s = queryIndexes.current
        var out = [QueryIndexStatus(name: "locate", built: s.locator != nil, rows: s.locator?.gridCount ?? 0, pendingChanges: 0)]
        for layer in layers where layer.geometry == .point {
            let index = s.points[layer]
            out.append(QueryIndexStatus(name: layer == .resources ? "nearest" : "nearest \(layer.name)", built: index != nil, rows: index?.count ?? 0,
                pendingChanges: index?.pendingChanges ?? 0))
        }
        for layer in layers {
            let index = s.shapes[layer]
            out.append(QueryIndexStatus(name: "features \(layer.rawValue)", built: index != nil, rows: index?.count ?? 0, pendingChanges: index?.pendingChanges ?? 0))
        }
        return out
    }

    /// Builds every query index now, so that the first query is as fast as the rest (the server does this at
    /// start; one-shot commands build only what they ask for). The cases' nearest index is the exception: it
    /// is built when first asked for (`/nearest?layer=incidents`), as every report would otherwise update it
    /// in the one thread all writes wait for (a third of that thread's index work).
    public func prepareQueryIndexes() throws {
        _ = try locator()
        for layer in layers {
            if layer.geometry == .point && layer != .incidents { _ = try pointIndex(layer) }
            _ = try shapeIndex(layer)
        }
    }

    /// The indexes after a write whose changes are `changes`, read through `db` inside the write's
    /// transaction: the locator is rebuilt when grids or communities changed (planners' edits are rare and
    /// its build takes milliseconds per thousand grids); resources and around layers are updated row by row,
    /// or rebuilt when a whole layer changed. Indexes not built yet stay unbuilt.
    func updatedIndexes(_ state: QueryIndexCache.State, after changes: ChangeLog.Changes, _ db: Connection) throws
        -> (QueryIndexCache.State, StoreChange)
    {
        var next = state
        var change = StoreChange()
        if let old = next.locator, changes.touches(.grids) || changes.touches(.communities) {
            if !changes.touches(.communities), let ids = changes.rows[.grids], old.day == today {
                // Grids changed (a plan, an edit): the others are kept as they were indexed, the changed ones read again.
                next.locator = old.applying(ids: ids, rows: try Self.gridRows(db, day: today, ids: ids))
            } else {
                next.locator = try Self.buildLocator(db, day: today)
            }
        }
        for (layer, index) in state.points where changes.touches(layer) {
            if let ids = changes.rows[layer] {
                next.points[layer] = index.applying(ids: ids, rows: try Self.pointRows(db, layer, ids: ids))
            } else {
                next.points[layer] = ResourceIndex(resources: try Self.pointRows(db, layer, ids: nil))
            }
        }
        for (layer, index) in state.shapes where changes.touches(layer) {
            if let ids = changes.rows[layer] {
                let rows = try layerRows(db, layer, ids: ids)
                // Where the changed features were (the index before the write) and are now.
                change.boxes[layer] = ids.compactMap { index.entry(id: $0)?.box } + rows.compactMap(\.geometry.bbox)
                next.shapes[layer] = index.applying(ids: ids, rows: rows)
            } else {
                change.wholeLayers.insert(layer)
                next.shapes[layer] = LayerIndex(layer: layer, features: try layerRows(db, layer, ids: nil))
            }
        }
        // Layers without a built index: where their features were is not known here.
        for layer in layers where changes.touches(layer) && state.shapes[layer] == nil { change.wholeLayers.insert(layer) }
        return (next, change)
    }

    /// The situation within `radius` metres of `p`: its owner, and the buildings, resources and roads there.
    public func around(_ p: Position, radius: Double) throws -> AroundResult {
        let resources = try resourceIndex()
        var others: [(layer: Layer, found: [(entry: ShapeIndex.Entry, distance: Double)])] = []
        for layer in layers where !layer.isBuiltIn {
            let found = try shapeIndex(layer).within(p, radius: radius)
            if !found.isEmpty { others.append((layer, found)) }
        }
        return AroundResult(
            center: p, radius: radius, location: try locate(p),
            buildings: try shapeIndex(.buildings).within(p, radius: radius),
            resources: resources.nearest(p, k: resources.count, within: radius),
            roads: try shapeIndex(.roads).within(p, radius: radius), others: others)
    }

    /// The summary of `around(p, radius:)` made without listing the features: what a case's situation package
    /// stores. The buildings and the city's own layers are totalled as they are found; only the roads are sorted.
    public func aroundSummary(_ p: Position, radius: Double) throws -> AroundSummary {
        var buildings = BuildingTotals()
        try shapeIndex(.buildings).forEach(within: p, radius: radius) { buildings.add($0) }
        let roads = try shapeIndex(.roads).accessRoads(within: p, radius: radius)
        var counts: [String: Int] = [:]
        let resources = try resourceIndex()
        for h in resources.nearest(p, k: resources.count, within: radius) { counts[h.resource.type, default: 0] += 1 }
        var layers: [(layer: Layer, count: Int)] = []
        for layer in self.layers where !layer.isBuiltIn {
            var n = 0
            try shapeIndex(layer).forEach(within: p, radius: radius) { _ in n += 1 }
            if n > 0 { layers.append((layer, n)) }
        }
        return AroundSummary(center: p, radius: radius, location: try locate(p), buildings: buildings,
            resourcesByType: counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, roads: roads, layers: layers)
    }

    /// Bytes held by every in-memory query index (building any not built yet).
    public func queryIndexMemory() throws -> [(String, Int)] {
        [("locate (grids, communities)", try locator().memoryBytes), ("nearest (resources)", try resourceIndex().memoryBytes),
            ("around (buildings)", try shapeIndex(.buildings).memoryBytes), ("around (roads)", try shapeIndex(.roads).memoryBytes)]
    }

    static func geometry(_ s: Statement, _ column: Int32) throws -> Geometry {
        try s.withBlob(column) { bytes in
            do { return try SpatiaLiteBlob.decode(bytes).geometry } catch { throw StoreError("row \(s.int64(0)): \(error)") }
        }
    }

    public func locate(_ p: Position) throws -> LocateResult { try locator().locate(p) }

    public func nearest(_ p: Position, k: Int, types: Set<String>? = nil, statuses: Set<String>? = nil, within: Double? = nil) throws -> [NearestHit] {
        try resourceIndex().nearest(p, k: k, types: types, statuses: statuses, within: within)
    }
}
