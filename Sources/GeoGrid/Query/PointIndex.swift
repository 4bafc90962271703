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

/// k-nearest resources from memory: one uniform grid of cells per resource type, searched in rings of cells
/// outward from the query until no unseen cell can hold anything nearer than the k-th found.
public struct PointIndex: Sendable {
    struct Item: Sendable {
        var position: Position
        var ecef: SIMD3<Double>
        var resource: Int32
    }

    struct Buckets: Sendable {
        var grid: CellGrid
        var cellStart: [Int32]
        var items: [Item]
        /// Lower bounds, in metres, of one cell's width and height anywhere in the extent.
        var minCellMetres: Double
    }

    public let resources: [ResourceInfo]
    let byType: [String: Buckets]

    public init(resources: [ResourceInfo]) {
        self.resources = resources
        var groups: [String: [Int32]] = [:]
        for (i, r) in resources.enumerated() { groups[r.type, default: []].append(Int32(i)) }
        byType = groups.mapValues { Self.buckets($0, resources) }
    }

    public var types: [String] { byType.keys.sorted() }

    static func buckets(_ members: [Int32], _ resources: [ResourceInfo]) -> Buckets {
        var extent = BBox.empty
        for i in members { extent.extend(resources[Int(i)].position) }
        let maxAbsLat = min(89.9, max(abs(extent.minY), abs(extent.maxY)))
        let perDegree = Geodesy.metresPerDegree(atLatitude: maxAbsLat)
        let widthM = max((extent.maxX - extent.minX) * perDegree.lon, 1), heightM = max((extent.maxY - extent.minY) * perDegree.lat, 1)
        let target = Double(max(1, members.count / 2))
        let cols = min(4096, max(1, Int((target * widthM / heightM).squareRoot())))
        let rows = min(4096, max(1, Int(target) / cols))
        let grid = CellGrid(extent: extent, cols: cols, rows: rows)
        let cell = grid.cell
        var start = [Int32](repeating: 0, count: cols * rows + 1)
        for i in members { start[cell(resources[Int(i)].position) + 1] += 1 }
        for k in 1..<start.count { start[k] += start[k - 1] }
        var fill = start
        var items = [Item](repeating: Item(position: Position(0, 0), ecef: .zero, resource: 0), count: members.count)
        for i in members {
            let p = resources[Int(i)].position
            let k = cell(p)
            items[Int(fill[k])] = Item(position: p, ecef: Geodesy.ecef(p), resource: i)
            fill[k] += 1
        }
        // 1% margin: geodesics between two parallels may bow poleward, where degrees of longitude are shorter.
        let minCell = 0.99 * min(grid.cellWidth * perDegree.lon, grid.cellHeight * Geodesy.metresPerDegree(atLatitude: 0).lat)
        return Buckets(grid: grid, cellStart: start, items: items, minCellMetres: minCell)
    }

    /// The `k` resources nearest to `p`, nearest first (ties by id), among `types` (all when nil) whose status
    /// is in `statuses` (any when nil), no farther than `within` metres when given.
    public func nearest(_ p: Position, k: Int, types: Set<String>? = nil, statuses: Set<String>? = nil, within: Double? = nil) -> [NearestHit] {
        guard k > 0 else { return [] }
        let pe = Geodesy.ecef(p)
        var best: [(distance: Double, resource: Int32)] = []
        best.reserveCapacity(k + 1)
        let limit = within ?? .infinity
        for (type, buckets) in byType where types?.contains(type) ?? true {
            search(buckets, p, pe, k, statuses, limit, &best)
        }
        return best.map { d, i in
            let r = resources[Int(i)]
            return NearestHit(resource: r, distance: d, bearing: Geodesy.bearing(p, r.position))
        }
    }

    private func search(_ b: Buckets, _ p: Position, _ pe: SIMD3<Double>, _ k: Int, _ statuses: Set<String>?, _ limit: Double,
        _ best: inout [(distance: Double, resource: Int32)]
    ) {
        let cols = b.grid.cols, rows = b.grid.rows
        let c0 = b.grid.col(p.lon), r0 = b.grid.row(p.lat)
        let maxRing = max(c0, cols - 1 - c0, r0, rows - 1 - r0)
        var ring = 0
        while ring <= maxRing {
            // Every cell at Chebyshev distance ≥ ring is at least (ring - 1) whole cells away from p.
            let bound = Double(max(0, ring - 1)) * b.minCellMetres
            if bound > limit || (best.count == k && bound > best[k - 1].distance) { break }
            func visit(_ r: Int, _ c: Int) {
                let cell = r * cols + c
                for slot in Int(b.cellStart[cell])..<Int(b.cellStart[cell + 1]) {
                    let item = b.items[slot]
                    if let statuses, !statuses.contains(resources[Int(item.resource)].status) { continue }
                    let d = Geodesy.distance(p, pe, item.position, item.ecef)
                    guard d <= limit else { continue }
                    if best.count == k {
                        let worst = best[k - 1]
                        if d > worst.distance || (d == worst.distance && resources[Int(item.resource)].id > resources[Int(worst.resource)].id) {
                            continue
                        }
                    }
                    insert((d, item.resource), into: &best, k)
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

    private func insert(_ hit: (distance: Double, resource: Int32), into best: inout [(distance: Double, resource: Int32)], _ k: Int) {
        let id = resources[Int(hit.resource)].id
        var i = best.count
        while i > 0 {
            let o = best[i - 1]
            if o.distance < hit.distance || (o.distance == hit.distance && resources[Int(o.resource)].id < id) { break }
            i -= 1
        }
        best.insert(hit, at: i)
        if best.count > k { best.removeLast() }
    }

    public var memoryBytes: Int {
        resources.count * MemoryLayout<ResourceInfo>.stride
            + byType.values.reduce(0) { $0 + $1.items.count * MemoryLayout<Item>.stride + $1.cellStart.count * 4 }
    }
}
