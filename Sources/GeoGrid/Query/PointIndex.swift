import Foundation
import Synchronization

/// An emergency resource as the nearest-resource index keeps it.
public struct ResourceInfo: Sendable, Hashable {
    public var id: Int64
    public var type: String
    public var name: String?
    public var capacity: Int64?
    public var status: String
    public var position: Position
}

public struct NearestHit: Sendable, Hashable {
    public var resource: ResourceInfo
    /// Metres on the WGS84 ellipsoid (`Geodesy.distance`).
    public var distance: Double
    /// Degrees clockwise from north, from the query point to the resource.
    public var bearing: Double
}

/// k-nearest resources from memory. Resources sit in uniform grids of cells (one over all of them, and one
/// per type for queries asking for a type that is a minority), searched in rings of cells outward from the
/// query until no unseen cell can hold anything nearer than the k-th found.
///
/// The search ranks by the straight chord between ECEF coordinates, which costs a few multiplications; the
/// geodesic distance (`Geodesy.distance`) is computed only for the final candidates: the k nearest by chord
/// and any within a margin of the k-th, wide enough that ordering by chord and by geodesic cannot differ
/// outside it. The answer is therefore exactly the k smallest geodesic distances (ties by id).
public struct PointIndex: Sendable {
    /// 48 bytes: all that the search and the distances read, so that a query touches `resources` (a large
    /// array of strings) only for the k answers; a cache miss there per candidate was most of a query's time.
    struct Item: Sendable {
        var x: Double, y: Double, z: Double
        var position: Position
        var resource: Int32
        var type: UInt16
        var status: UInt16

        var ecef: SIMD3<Double> { SIMD3(x, y, z) }
    }

    struct Buckets: Sendable {
        var grid: CellGrid
        var cellStart: [Int32]
        var items: [Item]
        /// Lower bounds, in metres, of one cell's width and of its height anywhere in the extent.
        var minCellWidth: Double
        var minCellHeight: Double
    }

    public let resources: [ResourceInfo]
    let typeNames: [String]
    let statusNames: [String]
    let all: Buckets
    /// A grid per type, made on the first query for a type that is a minority: most stores are asked for a
    /// few types, and building them all up front doubled the build's time and memory.
    let byType: TypeGrids
    let typeCounts: [Int]

    final class TypeGrids: Sendable {
        private let grids = Mutex<[Int: Buckets]>([:])

        func grid(_ type: Int, _ make: () -> Buckets) -> Buckets {
            if let g = grids.withLock({ $0[type] }) { return g }
            let g = make()
            grids.withLock { $0[type] = g }
            return g
        }

        var built: [Buckets] { grids.withLock { Array($0.values) } }
    }

    public init(resources given: [ResourceInfo]) {
        // Resources are kept in the order of the shared grid's cells, so that neighbours on the ground are
        // neighbours in memory: a query's answers then come from a few cache lines, not one miss each.
        let layout = Self.grid(for: given.lazy.map(\.position), count: given.count)
        let cellOf = given.map { layout.cell($0.position) }
        var start = [Int](repeating: 0, count: layout.cols * layout.rows + 1)
        for c in cellOf { start[c + 1] += 1 }
        for i in 1..<start.count { start[i] += start[i - 1] }
        var order = [Int](repeating: 0, count: given.count)
        for (i, c) in cellOf.enumerated() {
            order[start[c]] = i
            start[c] += 1
        }
        let resources = order.map { given[$0] }
        self.resources = resources
        // Types and statuses are a handful of short names: interned by a scan of the few seen so far, which
        // beats hashing a million strings.
        func intern(_ name: String, _ names: inout [String]) -> UInt16 {
            if let i = names.firstIndex(of: name) { return UInt16(i) }
            names.append(name)
            return UInt16(names.count - 1)
        }
        var types: [String] = [], statuses: [String] = []
        var rawType = [UInt16](repeating: 0, count: resources.count), rawStatus = rawType
        var lastType = "", lastTypeIndex: UInt16 = 0
        for (i, r) in resources.enumerated() {
            if r.type != lastType || types.isEmpty {
                lastType = r.type
                lastTypeIndex = intern(r.type, &types)
            }
            rawType[i] = lastTypeIndex
            rawStatus[i] = intern(r.status, &statuses)
        }
        // Sorted names, so that type and status indices do not depend on the rows' order.
        let typeOrder = types.indices.sorted { types[$0] < types[$1] }, statusOrder = statuses.indices.sorted { statuses[$0] < statuses[$1] }
        var typeRank = [UInt16](repeating: 0, count: types.count), statusRank = [UInt16](repeating: 0, count: statuses.count)
        for (rank, i) in typeOrder.enumerated() { typeRank[i] = UInt16(rank) }
        for (rank, i) in statusOrder.enumerated() { statusRank[i] = UInt16(rank) }
        typeNames = typeOrder.map { types[$0] }
        statusNames = statusOrder.map { statuses[$0] }
        let typeOf = rawType.map { typeRank[Int($0)] }, statusOf = rawStatus.map { statusRank[Int($0)] }
        var items = [Item](repeating: Item(x: 0, y: 0, z: 0, position: Position(0, 0), resource: 0, type: 0, status: 0), count: resources.count)
        // ECEF coordinates on both cores: the trigonometry is most of an index build.
        items.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            let chunk = (resources.count + 1) / 2
            DispatchQueue.concurrentPerform(iterations: 2) { part in
                for i in (part * chunk)..<min(resources.count, (part + 1) * chunk) {
                    let r = resources[i]
                    let e = Geodesy.ecef(r.position)
                    out[i] = Item(x: e.x, y: e.y, z: e.z, position: r.position, resource: Int32(i), type: typeOf[i], status: statusOf[i])
                }
            }
        }
        var counts = [Int](repeating: 0, count: typeNames.count)
        for t in typeOf { counts[Int(t)] += 1 }
        typeCounts = counts
        all = Self.buckets(items)
        byType = TypeGrids()
    }

    public var types: [String] { typeNames }

    /// About four points a cell, cells square on the ground.
    static func grid<S: Sequence>(for positions: S, count: Int) -> CellGrid where S.Element == Position {
        var extent = BBox.empty
        for p in positions { extent.extend(p) }
        if extent.isEmpty { extent = BBox(minX: 0, minY: 0, maxX: 0, maxY: 0) }
        let maxAbsLat = min(89.9, max(abs(extent.minY), abs(extent.maxY)))
        let perDegree = Geodesy.metresPerDegree(atLatitude: maxAbsLat)
        let widthM = max((extent.maxX - extent.minX) * perDegree.lon, 1), heightM = max((extent.maxY - extent.minY) * perDegree.lat, 1)
        let target = Double(max(1, count / 4))
        let cols = min(4096, max(1, Int((target * widthM / heightM).squareRoot())))
        return CellGrid(extent: extent, cols: cols, rows: min(4096, max(1, Int(target) / cols)))
    }

    static func buckets(_ members: [Item]) -> Buckets {
        let grid = Self.grid(for: members.lazy.map(\.position), count: members.count)
        let extent = grid.extent
        let maxAbsLat = min(89.9, max(abs(extent.minY), abs(extent.maxY)))
        let perDegree = Geodesy.metresPerDegree(atLatitude: maxAbsLat)
        let cells = members.map { grid.cell($0.position) }
        var start = [Int32](repeating: 0, count: grid.cols * grid.rows + 1)
        for c in cells { start[c + 1] += 1 }
        for k in 1..<start.count { start[k] += start[k - 1] }
        var fill = start
        var items = members
        for (m, c) in zip(members, cells) {
            items[Int(fill[c])] = m
            fill[c] += 1
        }
        // 1% margin: geodesics between two parallels may bow poleward, where degrees of longitude are shorter.
        return Buckets(grid: grid, cellStart: start, items: items, minCellWidth: 0.99 * grid.cellWidth * perDegree.lon,
            minCellHeight: 0.99 * grid.cellHeight * Geodesy.metresPerDegree(atLatitude: 0).lat)
    }

    /// How far beyond the k-th chord a candidate must still be kept: chord and geodesic orders can differ only
    /// by the spread of the curvature term c³/24R² (under 2e-17·c³ for c ≤ 40 km); longer lines use Vincenty,
    /// for which half a percent is kept.
    @inline(__always) static func margin(_ chord: Double) -> Double {
        chord > 30_000 ? chord * 0.005 : chord * chord * chord * 2e-17 + 1e-6
    }

    /// The `k` resources nearest to `p`, nearest first (ties by id), among `types` (all when nil) whose status
    /// is in `statuses` (any when nil), no farther than `within` metres when given.
    public func nearest(_ p: Position, k: Int, types: Set<String>? = nil, statuses: Set<String>? = nil, within: Double? = nil) -> [NearestHit] {
        guard k > 0, !resources.isEmpty else { return [] }
        let pe = Geodesy.ecef(p)
        let limit = within ?? .infinity
        var candidates: [(chord: Double, item: Item)] = []
        candidates.reserveCapacity(k + 8)
        let statusMask = statuses.map { wanted in statusNames.map { wanted.contains($0) } }
        if let types {
            let typeMask = typeNames.map { types.contains($0) }
            var wantedCount = 0
            for (t, on) in typeMask.enumerated() where on { wantedCount += typeCounts[t] }
            if wantedCount == 0 { return [] }
            // A type that is a minority is searched in its own grid; otherwise the shared grid with a filter.
            if wantedCount * 2 < resources.count {
                for (t, on) in typeMask.enumerated() where on {
                    let grid = byType.grid(t) { Self.buckets(all.items.filter { Int($0.type) == t }) }
                    search(grid, p, pe, k, nil, statusMask, limit, &candidates)
                }
            } else {
                search(all, p, pe, k, typeMask, statusMask, limit, &candidates)
            }
        } else {
            search(all, p, pe, k, nil, statusMask, limit, &candidates)
        }
        // Geodesic distances for the candidates only; answers built for the k kept.
        // The candidates' chords are replaced by their geodesic distances, in place.
        let origin = Geodesy.Origin(p)
        var scored = candidates
        candidates = []  // scored is now the only reference: written in place, not copied
        var kept = 0
        for i in scored.indices {
            let item = scored[i].item
            let d = Geodesy.distance(from: origin, pe, item.position, item.ecef)
            if d <= limit {
                scored[kept] = (d, item)
                kept += 1
            }
        }
        scored.removeLast(scored.count - kept)
        if scored.count > 1 {
            // Ties (resources at the same distance) go by id, looked up only then.
            scored.sort { a, b in
                a.chord != b.chord ? a.chord < b.chord : resources[Int(a.item.resource)].id < resources[Int(b.item.resource)].id
            }
        }
        let frame = Geodesy.LocalFrame(origin)
        return scored.prefix(k).map { s in
            NearestHit(resource: resources[Int(s.item.resource)], distance: s.chord, bearing: frame.bearing(to: s.item.ecef - pe))
        }
    }

    private func search(_ b: Buckets, _ p: Position, _ pe: SIMD3<Double>, _ k: Int, _ typeMask: [Bool]?, _ statusMask: [Bool]?, _ limit: Double,
        _ candidates: inout [(chord: Double, item: Item)]
    ) {
        let cols = b.grid.cols, rows = b.grid.rows
        let c0 = b.grid.col(p.lon), r0 = b.grid.row(p.lat)
        let maxRing = max(c0, cols - 1 - c0, r0, rows - 1 - r0)
        // p's place inside its cell, clamped: outside the grid the bounds stay lower bounds.
        let fx = min(1, max(0, (p.lon - b.grid.extent.minX) / b.grid.cellWidth - Double(c0)))
        let fy = min(1, max(0, (p.lat - b.grid.extent.minY) / b.grid.cellHeight - Double(r0)))
        var ring = 0
        while ring <= maxRing {
            // Every cell at Chebyshev distance ≥ ring lies outside the block of cells around p's that is
            // ring - 1 cells wide on each side: no nearer than p's distance to that block's nearest side (a
            // geodesic is never shorter than its chord, and the bounds above are per-cell minima).
            let bound = ring == 0 ? 0 : min(
                (Double(ring - 1) + fx) * b.minCellWidth, (Double(ring) - fx) * b.minCellWidth,
                (Double(ring - 1) + fy) * b.minCellHeight, (Double(ring) - fy) * b.minCellHeight)
            if bound > limit { break }
            if candidates.count >= k {
                let kth = candidates[k - 1].chord
                if bound > kth + Self.margin(kth) { break }
            }
            func visit(_ r: Int, _ c: Int) {
                let cell = r * cols + c
                var slot = Int(b.cellStart[cell])
                let end = Int(b.cellStart[cell + 1])
                while slot < end {
                    let item = b.items[slot]
                    slot += 1
                    if let typeMask, !typeMask[Int(item.type)] { continue }
                    if let statusMask, !statusMask[Int(item.status)] { continue }
                    let dx = item.x - pe.x, dy = item.y - pe.y, dz = item.z - pe.z
                    let chord = (dx * dx + dy * dy + dz * dz).squareRoot()
                    if chord > limit { continue }
                    if candidates.count >= k {
                        let kth = candidates[k - 1].chord
                        if chord > kth + Self.margin(kth) { continue }
                    }
                    var i = candidates.count
                    while i > 0 && candidates[i - 1].chord > chord { i -= 1 }
                    candidates.insert((chord, item), at: i)
                    // Drop what has fallen beyond the margin of the (new) k-th.
                    if candidates.count > k {
                        let kth = candidates[k - 1].chord
                        let cut = kth + Self.margin(kth)
                        while candidates.count > k && candidates[candidates.count - 1].chord > cut { candidates.removeLast() }
                    }
                }
            }
            // The ring's cells: whole rows at its top and bottom, its two end cells in the rows between.
            for r in max(0, r0 - ring)...min(rows - 1, r0 + ring) {
                if r == r0 - ring || r == r0 + ring {
                    for c in max(0, c0 - ring)...min(cols - 1, c0 + ring) { visit(r, c) }
                } else {
                    if c0 - ring >= 0 { visit(r, c0 - ring) }
                    if c0 + ring < cols { visit(r, c0 + ring) }
                }
            }
            ring += 1
        }
    }

    public var memoryBytes: Int {
        resources.count * MemoryLayout<ResourceInfo>.stride
            + ([all] + byType.built).reduce(0) { $0 + $1.items.count * MemoryLayout<Item>.stride + $1.cellStart.count * 4 }
    }
}
