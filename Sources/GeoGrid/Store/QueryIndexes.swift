import Foundation
import Synchronization

/// The in-memory indexes the queries run on, built from the store on first use and dropped by every write
/// through the store, so an answer never disagrees with the file. Immutable once built and shared by every
/// thread.
final class QueryIndexCache: Sendable {
    private struct State {
        var locator: Locator?
        var resources: PointIndex?
        var shapes: [Layer: ShapeIndex] = [:]
        /// Bumped by every write: an index built from an older snapshot is used once but not kept.
        var generation = 0
    }
    private let state = Mutex(State())

    func invalidate() {
        state.withLock {
            $0.locator = nil
            $0.resources = nil
            $0.shapes = [:]
            $0.generation += 1
        }
    }

    func locator(_ build: () throws -> Locator) rethrows -> Locator {
        try cached(\.locator, build)
    }

    func shapes(_ layer: Layer, _ build: () throws -> ShapeIndex) rethrows -> ShapeIndex {
        try cached(\.shapes[layer], build)
    }

    func resources(_ build: () throws -> PointIndex) rethrows -> PointIndex {
        try cached(\.resources, build)
    }

    /// The index at `slot`, built by `build` when missing; kept only if no write came in between.
    private func cached<T: Sendable>(_ slot: WritableKeyPath<State, T?> & Sendable, _ build: () throws -> T) rethrows -> T {
        let (found, generation) = state.withLock { ($0[keyPath: slot], $0.generation) }
        if let found { return found }
        let made = try build()
        state.withLock { if $0.generation == generation { $0[keyPath: slot] = made } }
        return made
    }
}

extension GeoStore {
    /// The grid/community locator, built from the store on first use. Grids count when in force today:
    /// `valid_from` empty or not after today, `valid_to` empty or not before today.
    public func locator() throws -> Locator {
        try queryIndexes.locator {
            try read { db in
                let today = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withFullDate])
                var grids: [(GridInfo, Geometry)] = []
                let g = try db.prepare("""
                    SELECT id, code, name, worker_name, worker_phone, households, population, community_code, geom FROM grids
                    WHERE (valid_from IS NULL OR valid_from <= ?1) AND (valid_to IS NULL OR valid_to >= ?1) ORDER BY id
                    """)
                try g.bind(.text(today), at: 1)
                while try g.step() {
                    let info = GridInfo(id: g.int64(0), code: g.text(1) ?? "", name: g.text(2), workerName: g.text(3), workerPhone: g.text(4),
                        households: g.value(5).integer, population: g.value(6).integer, communityCode: g.text(7) ?? "")
                    grids.append((info, try Self.geometry(g, 8)))
                }
                var areas: [(AreaInfo, Geometry)] = []
                let c = try db.prepare("SELECT code, name, level, geom FROM communities ORDER BY id")
                while try c.step() {
                    guard let level = c.text(2).flatMap(AreaLevel.init(rawValue:)) else { continue }
                    areas.append((AreaInfo(code: c.text(0) ?? "", name: c.text(1), level: level), try Self.geometry(c, 3)))
                }
                return Locator(grids: grids, areas: areas)
            }
        }
    }

    /// The nearest-resource index, built from the store on first use.
    public func resourceIndex() throws -> PointIndex {
        try queryIndexes.resources {
            try read { db in
                var out: [ResourceInfo] = []
                let s = try db.prepare("SELECT id, type, name, capacity, status, geom FROM resources ORDER BY id")
                while try s.step() {
                    guard case .point(let p) = try Self.geometry(s, 5) else { continue }
                    out.append(ResourceInfo(id: s.int64(0), type: s.text(1) ?? "", name: s.text(2), capacity: s.value(3).integer,
                        status: s.text(4) ?? "in_service", position: p))
                }
                return PointIndex(resources: out)
            }
        }
    }

    /// A layer's features by box, for `around`, built from the store on first use.
    public func shapeIndex(_ layer: Layer) throws -> ShapeIndex {
        try queryIndexes.shapes(layer) {
            try read { db in
                var features: [(id: Int64, geometry: Geometry, values: [FieldValue])] = []
                try forEachRow(db, layer: layer, bbox: nil) { id, values, geometry in features.append((id, geometry, values)) }
                return ShapeIndex(layer: layer, features: features)
            }
        }
    }

    /// The situation within `radius` metres of `p`: its owner, and the buildings, resources and roads there.
    public func around(_ p: Position, radius: Double) throws -> AroundResult {
        let resources = try resourceIndex()
        return AroundResult(
            center: p, radius: radius, location: try locate(p),
            buildings: try shapeIndex(.buildings).within(p, radius: radius),
            resources: resources.nearest(p, k: resources.resources.count, within: radius),
            roads: try shapeIndex(.roads).within(p, radius: radius))
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
