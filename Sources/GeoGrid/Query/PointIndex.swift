import CSupport
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
    /// Its further properties as a JSON object's text, or nil: a resource's extra attributes (a hydrant's
    /// flow), or every property of a feature of a defined point layer.
    public var properties: String?

    public init(id: Int64, type: String, name: String? = nil, capacity: Int64? = nil, status: String, position: Position, properties: String? = nil) {
        self.id = id
        self.type = type
        self.name = name
        self.capacity = capacity
        self.status = status
        self.position = position
        self.properties = properties
    }
}

public struct NearestHit: Sendable, Hashable {
    public var resource: ResourceInfo
    /// Metres on the WGS84 ellipsoid (`Geodesy.distance`).
    public var distance: Double
    /// The chord to the resource in the plane tangent at the query point, metres east and north: the bearing
    /// is derived from it when asked for (an arctangent a hit was a tenth of a query's time).
    var east: Double, north: Double

    init(resource: ResourceInfo, distance: Double, eastNorth: (east: Double, north: Double)) {
        self.resource = resource
        self.distance = distance
        (east, north) = eastNorth
    }

    /// Degrees clockwise from north, from the query point to the resource (of the chord, seen in the plane
    /// tangent at the query point: within arc-seconds of the geodesic's initial bearing for city distances).
    public var bearing: Double { Geodesy.bearing(east: east, north: north) }
}

/// k-nearest resources from memory, for one immutable set of resources. Resources sit in uniform grids of
/// cells (one over all of them, and one per type for queries asking for a type that is a minority), searched
/// in rings of cells outward from the query until no unseen cell can hold anything nearer than the k-th found.
///
/// The search ranks by the straight chord between ECEF coordinates, read from one array of 32-byte records
/// (x, y, z as doubles, type and status, the resource's row), two to a cache line and in the order of the
/// cells, so that a query's 3 × 3 block of cells is three runs of memory asked for at once. (Keys of 32-bit
/// floats with the doubles in a second array, tried before, cost a second dependent cache miss a candidate
/// and were slower once the float keys no longer fitted in cache alongside everything else.) Candidates are
/// kept within a margin of the k-th wide enough that ordering by chord and by geodesic cannot differ outside
/// it, and their geodesic distance (`Geodesy.Origin.distance`) decides: the answer is exactly the k smallest
/// geodesic distances (ties by id).
public final class PointIndex: Sendable {
    /// What the search reads of a resource: its ECEF coordinates (as `Geodesy.ecef` gives them), its type and
    /// status for filters, and its row in `resources`.
    struct Key: Sendable {
        var x: Double, y: Double, z: Double
        /// type << 16 | status
        var tag: UInt32
        var resource: Int32
    }

    struct Buckets: Sendable {
        var grid: CellGrid
        var cellStart: [Int32]
        var keys: [Key]
        /// Lower bounds, in metres, of one cell's width and of its height anywhere in the extent.
        var minCellWidth: Double
        var minCellHeight: Double
    }

    /// The resources, in the order given.
    public let resources: [ResourceInfo]
    /// Indices into `resources` in order of id, unless they are given so.
    let byID: [Int32]?
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

    public init(resources: [ResourceInfo]) {
        let n = resources.count
        // The resources stay as given (no copy); the search structures are in the order of the shared grid's
        // cells, so that neighbours on the ground are neighbours in memory.
        // Fields are read in place throughout: a copy of a whole resource retains and releases its strings,
        // which was a third of the build.
        let positions = [Position](unsafeUninitializedCapacity: n) { out, count in
            for i in 0..<n { out.initializeElement(at: i, to: resources[i].position) }
            count = n
        }
        let layout = Self.grid(for: positions, count: n)
        var start = [Int32](repeating: 0, count: layout.cols * layout.rows + 1)
        var slotOf = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let c = layout.cell(positions[i])
            slotOf[i] = Int32(c)
            start[c + 1] += 1
        }
        for c in 1..<start.count { start[c] += start[c - 1] }
        var fill = start
        for i in 0..<n {
            let c = Int(slotOf[i])
            slotOf[i] = fill[c]
            fill[c] += 1
        }
        let slotOfResource = slotOf
        self.resources = resources
        // Resources by id, for finding a row again when it changes: nil when they come in order of id.
        if (1..<max(1, n)).allSatisfy({ resources[$0 - 1].id < resources[$0].id }) {
            byID = nil
        } else {
            byID = resources.indices.sorted { resources[$0].id < resources[$1].id }.map { Int32($0) }
        }
        // Types and statuses are a handful of short names: interned by a scan of the few seen so far, which
        // beats hashing a million strings; then renumbered in name order, so that numbers do not depend on
        // the rows' order.
        func intern(_ name: String, _ names: inout [String]) -> UInt32 {
            if let i = names.firstIndex(of: name) { return UInt32(i) }
            names.append(name)
            return UInt32(names.count - 1)
        }
        var types: [String] = [], statuses: [String] = []
        var rawTags = [UInt32](repeating: 0, count: n)
        var lastType = "", lastTypeIndex: UInt32 = 0, lastStatus = "", lastStatusIndex: UInt32 = 0
        for i in 0..<n {
            // Fields read in place: a copy of the whole resource would retain and release its strings.
            if resources[i].type != lastType || types.isEmpty {
                lastType = resources[i].type
                lastTypeIndex = intern(lastType, &types)
            }
            if resources[i].status != lastStatus || statuses.isEmpty {
                lastStatus = resources[i].status
                lastStatusIndex = intern(lastStatus, &statuses)
            }
            rawTags[i] = lastTypeIndex << 16 | lastStatusIndex
        }
        precondition(types.count <= 65_536 && statuses.count <= 65_536, "more than 65,536 resource types or statuses")
        let typeOrder = types.indices.sorted { types[$0] < types[$1] }, statusOrder = statuses.indices.sorted { statuses[$0] < statuses[$1] }
        var typeRank = [UInt32](repeating: 0, count: types.count), statusRank = [UInt32](repeating: 0, count: statuses.count)
        for (rank, i) in typeOrder.enumerated() { typeRank[i] = UInt32(rank) }
        for (rank, i) in statusOrder.enumerated() { statusRank[i] = UInt32(rank) }
        typeNames = typeOrder.map { types[$0] }
        statusNames = statusOrder.map { statuses[$0] }
        var counts = [Int](repeating: 0, count: typeNames.count)
        var tags = rawTags  // in slot order
        for i in 0..<n {
            let t = typeRank[Int(rawTags[i] >> 16)]
            tags[Int(slotOf[i])] = t << 16 | statusRank[Int(rawTags[i] & 0xFFFF)]
            counts[Int(t)] += 1
        }
        typeCounts = counts
        // ECEF coordinates on both cores: the trigonometry is most of an index build.
        let slotTags = tags
        let keys: [Key] = largeArray(count: n) { out in
            nonisolated(unsafe) let out = out
            let chunk = (n + 1) / 2
            DispatchQueue.concurrentPerform(iterations: 2) { part in
                for i in (part * chunk)..<min(n, (part + 1) * chunk) {
                    let p = positions[i], e = Geodesy.ecef(p)
                    let slot = Int(slotOfResource[i])
                    out.initializeElement(at: slot, to: Key(x: e.x, y: e.y, z: e.z, tag: slotTags[slot], resource: Int32(i)))
                }
            }
        }
        all = Self.buckets(keys, positions: nil, inCellOrderOf: layout, cellStart: start)
        byType = TypeGrids()
    }

    /// The index in `resources` of the resource with this id.
    func index(ofID id: Int64) -> Int? {
        guard let byID else { return Overlay.find(id, in: resources.count) { resources[$0].id } }
        return Overlay.find(id, in: byID.count) { resources[Int(byID[$0])].id }.map { Int(byID[$0]) }
    }

    public var types: [String] { typeNames }
    public var count: Int { resources.count }

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

    /// The bucket grid of `members` (at `positions`), filed by counting sort; or, when they are already in the
    /// order of `layout`'s cells, kept so (and their positions are not needed).
    static func buckets(_ members: [Key], positions: [Position]?, inCellOrderOf layout: CellGrid? = nil, cellStart: [Int32]? = nil) -> Buckets {
        let grid = layout ?? Self.grid(for: positions!, count: members.count)
        let extent = grid.extent
        let maxAbsLat = min(89.9, max(abs(extent.minY), abs(extent.maxY)))
        let perDegree = Geodesy.metresPerDegree(atLatitude: maxAbsLat)
        var start: [Int32], keys: [Key]
        if let layout, let cellStart {
            precondition(layout.cols == grid.cols && cellStart.count == grid.cols * grid.rows + 1)
            (start, keys) = (cellStart, members)
        } else {
            var cells = [Int32](repeating: 0, count: members.count)
            start = [Int32](repeating: 0, count: grid.cols * grid.rows + 1)
            for (i, p) in positions!.enumerated() {
                let c = grid.cell(p)
                cells[i] = Int32(c)
                start[c + 1] += 1
            }
            for k in 1..<start.count { start[k] += start[k - 1] }
            var fill = start
            keys = largeArray(count: members.count) { out in
                for (i, m) in members.enumerated() {
                    let c = Int(cells[i])
                    out.initializeElement(at: Int(fill[c]), to: m)
                    fill[c] += 1
                }
            }
        }
        // 1% margin: geodesics between two parallels may bow poleward, where degrees of longitude are shorter.
        return Buckets(grid: grid, cellStart: start, keys: keys,
            minCellWidth: 0.99 * grid.cellWidth * perDegree.lon, minCellHeight: 0.99 * grid.cellHeight * Geodesy.metresPerDegree(atLatitude: 0).lat)
    }

    /// How far beyond the k-th chord a candidate must still be kept: chord and geodesic orders can differ only
    /// by the spread of the curvature term c³/24R² (under 2e-17·c³ for c ≤ 40 km); longer lines use Vincenty,
    /// for which half a percent is kept.
    @inline(__always) static func margin(_ chord: Double) -> Double {
        chord > 30_000 ? chord * 0.005 : chord * chord * chord * 2e-17 + 1e-6
    }

    /// A lower bound on the chord to anything `ground` metres away over the ellipsoid: the arc itself up to
    /// 100 km (where chord and arc differ by under 1e-5 of it, inside the cells' 1% margin), beyond that the
    /// chord of that arc on a sphere of the polar radius.
    @inline(__always) static func chordBound(_ ground: Double) -> Double {
        if ground < 100_000 { return ground }
        let r = Geodesy.b
        return 2 * r * sin(min(ground, .pi * r) / (2 * r))
    }

    /// Which of `names` a query accepts, as a bit set over their numbers; nil when all are.
    static func mask(_ wanted: Set<String>?, _ names: [String]) -> [UInt64]? {
        guard let wanted else { return nil }
        var bits = [UInt64](repeating: 0, count: (names.count + 63) / 64)
        for (i, name) in names.enumerated() where wanted.contains(name) { bits[i >> 6] |= 1 << UInt64(i & 63) }
        return bits
    }

    @inline(__always) static func test(_ bits: [UInt64], _ i: UInt32) -> Bool { bits[Int(i >> 6)] & (1 << UInt64(i & 63)) != 0 }

    /// A resource found, with its geodesic distance: what a query's candidates become.
    struct Scored {
        var distance: Double
        var resource: Int32
        var ecef: SIMD3<Double>
    }

    /// The `k` resources nearest to `p`, nearest first (ties by id), among `types` (all when nil) whose status
    /// is in `statuses` (any when nil), no farther than `within` metres when given.
    public func nearest(_ p: Position, k: Int, types: Set<String>? = nil, statuses: Set<String>? = nil, within: Double? = nil) -> [NearestHit] {
        guard k > 0, !resources.isEmpty else { return [] }
        let q = Geodesy.Origin(p)
        return withScratch(Scored.self, capacity: k + 8) { found in
            collect(q, k: k, types: types, statuses: statuses, within: within, skipping: nil, into: &found)
            return hits(found, k, q)
        }
    }

    /// The first `k` of `found` as answers. (Reserve and append: `Array(unsafeUninitializedCapacity:)` went
    /// through an unspecialised initialiser that looked the array's metadata up at run time on every query.)
    func hits(_ found: borrowing Scratch<Scored>, _ k: Int, _ q: Geodesy.Origin) -> [NearestHit] {
        let n = min(k, found.count)
        var out: [NearestHit] = []
        out.reserveCapacity(n)
        resources.withUnsafeBufferPointer { resources in
            for i in 0..<n {
                let s = found[i]
                out.append(NearestHit(resource: resources[Int(s.resource)], distance: s.distance, eastNorth: q.eastNorth(s.ecef - q.ecef)))
            }
        }
        return out
    }

    /// Fills `found` with the k best, nearest first (ties by id); more may follow them, to be ignored.
    /// `skipping` marks resources (by their index in `resources`) to leave out: those replaced or deleted
    /// since this index was built.
    func collect(_ q: Geodesy.Origin, k: Int, types: Set<String>?, statuses: Set<String>?, within: Double?, skipping: Bitset?,
        into found: inout Scratch<Scored>
    ) {
        guard k > 0, !resources.isEmpty else { return }
        let limit = within ?? .infinity
        let statusMask = Self.mask(statuses, statusNames)
        if let types {
            let typeMask = Self.mask(types, typeNames)!
            var wantedCount = 0
            for t in typeNames.indices where Self.test(typeMask, UInt32(t)) { wantedCount += typeCounts[t] }
            if wantedCount == 0 { return }
            // A type that is a minority is searched in its own grid; otherwise the shared grid with a filter.
            if wantedCount * 2 < resources.count {
                for t in typeNames.indices where Self.test(typeMask, UInt32(t)) {
                    let grid = byType.grid(t) {
                        let slots = all.keys.indices.filter { Int(all.keys[$0].tag >> 16) == t }
                        return Self.buckets(slots.map { all.keys[$0] }, positions: slots.map { resources[Int(all.keys[$0].resource)].position })
                    }
                    search(grid, q, k, nil, statusMask, limit, skipping, &found)
                }
            } else {
                search(all, q, k, typeMask, statusMask, limit, skipping, &found)
            }
        } else {
            search(all, q, k, nil, statusMask, limit, skipping, &found)
        }
        // Nearest first; ties (resources at the same distance) by id, looked up only then. Insertion sort:
        // there are k and a few.
        for i in 1..<max(1, found.count) {
            let x = found[i]
            var j = i
            while j > 0 {
                let y = found[j - 1]
                if y.distance < x.distance || (y.distance == x.distance && resources[Int(y.resource)].id < resources[Int(x.resource)].id) { break }
                found[j] = y
                j -= 1
            }
            found[j] = x
        }
    }

    /// Adds to `found` every resource of `b` that may be among the k nearest, with its geodesic distance.
    private func search(_ b: Buckets, _ q: Geodesy.Origin, _ k: Int, _ typeMask: [UInt64]?, _ statusMask: [UInt64]?,
        _ limit: Double, _ skipping: Bitset?, _ found: inout Scratch<Scored>
    ) {
        if b.keys.isEmpty { return }
        resources.withUnsafeBufferPointer { resources in
            let resourceBase = UnsafeRawPointer(resources.baseAddress!)
            b.keys.withUnsafeBufferPointer { keys in
                b.cellStart.withUnsafeBufferPointer { starts in
                    withScratch(Candidate.self, capacity: k + 16) { candidates in
                        var search = RingSearch(b, keys, starts, q, k, typeMask, statusMask, limit, skipping)
                        search.run(&candidates)
                        // The answers' resources are asked for now, to arrive while the distances are computed.
                        for i in 0..<candidates.count {
                            let r = Int(keys[Int(candidates[i].slot)].resource)
                            geogrid_prefetch(resourceBase + r * MemoryLayout<ResourceInfo>.stride)
                            geogrid_prefetch(resourceBase + r * MemoryLayout<ResourceInfo>.stride + MemoryLayout<ResourceInfo>.stride - 1)
                        }
                        // Geodesic distances for the survivors only.
                        for i in 0..<candidates.count {
                            let e = keys[Int(candidates[i].slot)]
                            let qe = SIMD3(e.x, e.y, e.z)
                            let d = q.chordDistance(to: qe) ?? Geodesy.vincenty(q.position, resources[Int(e.resource)].position).distance
                            if d <= limit { found.append(Scored(distance: d, resource: e.resource, ecef: qe)) }
                        }
                    }
                }
            }
        }
    }

    struct Candidate {
        /// The chord, squared.
        var chord2: Double
        var slot: Int32
    }

    /// One query's walk over the rings of cells around it: a struct with mutating methods over raw buffers,
    /// not closures over local variables (captured variables cost a dynamic exclusivity check on every access)
    /// nor copies of the arrays (a retain and release each).
    private struct RingSearch {
        let keys: UnsafeBufferPointer<Key>, starts: UnsafeBufferPointer<Int32>
        let grid: CellGrid
        let minCellWidth: Double, minCellHeight: Double
        let k: Int
        let typeMask: [UInt64]?, statusMask: [UInt64]?
        let limit: Double
        let skipping: Bitset?
        let c0: Int, r0: Int, fx: Double, fy: Double
        /// The query point's ECEF coordinates.
        let q: SIMD3<Double>
        /// A cell is visited while its bound may beat `reach`; a key is kept while its chord may, compared
        /// squared (`reach2`), so that only kept keys take a square root.
        var reach: Double, reach2: Double
        /// No filter and nothing skipped: the scan's loop has no tests but the distance.
        let plain: Bool

        init(_ b: Buckets, _ keys: UnsafeBufferPointer<Key>, _ starts: UnsafeBufferPointer<Int32>,
            _ query: Geodesy.Origin, _ k: Int, _ typeMask: [UInt64]?, _ statusMask: [UInt64]?, _ limit: Double, _ skipping: Bitset?
        ) {
            self.keys = keys
            self.starts = starts
            grid = b.grid
            minCellWidth = b.minCellWidth
            minCellHeight = b.minCellHeight
            self.k = k
            self.typeMask = typeMask
            self.statusMask = statusMask
            self.limit = limit
            self.skipping = skipping
            let p = query.position
            c0 = grid.col(p.lon)
            r0 = grid.row(p.lat)
            // p's place inside its cell, clamped: outside the grid the bounds stay lower bounds.
            fx = min(1, max(0, (p.lon - grid.extent.minX) / grid.cellWidth - Double(c0)))
            fy = min(1, max(0, (p.lat - grid.extent.minY) / grid.cellHeight - Double(r0)))
            q = query.ecef
            reach = limit
            reach2 = limit * limit
            plain = typeMask == nil && statusMask == nil && skipping == nil
        }

        mutating func run(_ candidates: inout Scratch<Candidate>) {
            let cols = grid.cols, rows = grid.rows
            let maxRing = max(c0, cols - 1 - c0, r0, rows - 1 - r0)
            // The block of 3 × 3 cells around p first: its three cells of a row are one run of keys, and the three
            // runs' loads do not wait for each other. (Its bound is p's distance to the edge of its own cell,
            // nearly always short of the k-th.)
            let cLo = max(0, c0 - 1), cHi = min(cols - 1, c0 + 1)
            let rLo = max(0, r0 - 1), rHi = min(rows - 1, r0 + 1)
            let nearerRow = fy < 0.5 ? r0 - 1 : r0 + 1, fartherRow = 2 * r0 - nearerRow
            let nearerCol = fx < 0.5 ? c0 - 1 : c0 + 1, fartherCol = 2 * c0 - nearerCol
            // Every line the block's keys lie on is asked for at once, so that their cache misses overlap: a
            // random query's memory waits were most of its time.
            for i in 0..<3 {
                let r = i == 0 ? r0 : i == 1 ? nearerRow : fartherRow
                guard r >= rLo && r <= rHi else { continue }
                let a = Int(starts[r * cols + cLo]), b = Int(starts[r * cols + cHi + 1])
                if a < b { prefetch(UnsafeRawPointer(keys.baseAddress! + a), bytes: (b - a) * MemoryLayout<Key>.stride) }
            }
            // Then its cells nearest first: p's own, the nearer of its neighbours across each side, and so on, each
            // skipped if its bound is already beyond the k-th (the corners, mostly). In row order all 36 keys
            // were read and 16 became candidates only to be dropped; in this order 20 are read and 8½ kept.
            for i in 0..<3 {
                let r = i == 0 ? r0 : i == 1 ? nearerRow : fartherRow
                guard r >= rLo && r <= rHi else { continue }
                for j in 0..<3 {
                    let c = j == 0 ? c0 : j == 1 ? nearerCol : fartherCol
                    guard c >= cLo && c <= cHi else { continue }
                    visit(r, c, &candidates)
                }
            }
            var ring = 2
            while ring <= maxRing {
                // Every cell at Chebyshev distance ≥ ring lies outside the block of cells around p's that is
                // ring - 1 cells wide on each side: no nearer than p's distance to that block's nearest side
                // (a geodesic is never shorter than its chord, and the bounds above are per-cell minima).
                let bound = min(
                    (Double(ring - 1) + fx) * minCellWidth, (Double(ring) - fx) * minCellWidth,
                    (Double(ring - 1) + fy) * minCellHeight, (Double(ring) - fy) * minCellHeight)
                if PointIndex.chordBound(bound) > reach { break }
                // The ring's cells: whole rows at its top and bottom, its two end cells in the rows between.
                for r in max(0, r0 - ring)...min(rows - 1, r0 + ring) {
                    if r == r0 - ring || r == r0 + ring {
                        for c in max(0, c0 - ring)...min(cols - 1, c0 + ring) { visit(r, c, &candidates) }
                    } else {
                        if c0 - ring >= 0 { visit(r, c0 - ring, &candidates) }
                        if c0 + ring < cols { visit(r, c0 + ring, &candidates) }
                    }
                }
                ring += 1
            }
        }

        @inline(__always) func prefetch(_ p: UnsafeRawPointer, bytes: Int) {
            var line = 0
            while line < bytes {
                geogrid_prefetch(p + line)
                line += 64
            }
            geogrid_prefetch(p + bytes - 1)
        }

        @inline(__always) mutating func visit(_ r: Int, _ c: Int, _ candidates: inout Scratch<Candidate>) {
            // The cell's distance from p, east-west and north-south, in whole cells and p's fraction of one.
            let dxCells = c < c0 ? Double(c0 - c - 1) + fx : c > c0 ? Double(c - c0 - 1) + 1 - fx : 0
            let dyCells = r < r0 ? Double(r0 - r - 1) + fy : r > r0 ? Double(r - r0 - 1) + 1 - fy : 0
            let ex = dxCells * minCellWidth, ny = dyCells * minCellHeight
            if PointIndex.chordBound((ex * ex + ny * ny).squareRoot()) > reach { return }
            let cell = r * grid.cols + c
            scan(Int(starts[cell])..<Int(starts[cell + 1]), &candidates)
        }

        @inline(__always) mutating func scan(_ slots: Range<Int>, _ candidates: inout Scratch<Candidate>) {
            if plain {
                for slot in slots {
                    let key = keys[slot]
                    let dx = key.x - q.x, dy = key.y - q.y, dz = key.z - q.z
                    let chord2 = dx * dx + dy * dy + dz * dz
                    if chord2 <= reach2 { add(chord2, slot, &candidates) }
                }
                return
            }
            for slot in slots {
                let key = keys[slot]
                if let typeMask, !PointIndex.test(typeMask, key.tag >> 16) { continue }
                if let statusMask, !PointIndex.test(statusMask, key.tag & 0xFFFF) { continue }
                let dx = key.x - q.x, dy = key.y - q.y, dz = key.z - q.z
                let chord2 = dx * dx + dy * dy + dz * dz
                if chord2 > reach2 { continue }
                if let skipping, skipping[Int(key.resource)] { continue }
                add(chord2, slot, &candidates)
            }
        }

        @inline(__always) mutating func add(_ chord2: Double, _ slot: Int, _ candidates: inout Scratch<Candidate>) {
            let candidate = Candidate(chord2: chord2, slot: Int32(truncatingIfNeeded: slot))
            candidates.append(candidate)
            var i = candidates.count - 1
            while i > 0 && candidates[i - 1].chord2 > chord2 {
                candidates[i] = candidates[i - 1]
                i -= 1
            }
            candidates[i] = candidate
            // The cut-off moves only when the k-th changes: when it is this one or one before it.
            if candidates.count >= k && i < k {
                let kth = candidates[k - 1].chord2.squareRoot()
                reach = min(limit, kth + PointIndex.margin(kth))
                reach2 = reach * reach
                while candidates.count > k && candidates[candidates.count - 1].chord2 > reach2 { candidates.removeLast() }
            }
        }
    }

    public var memoryBytes: Int {
        resources.count * MemoryLayout<ResourceInfo>.stride
            + ([all] + byType.built).reduce(0) {
                $0 + $1.keys.count * MemoryLayout<Key>.stride + $1.cellStart.count * 4
            }
    }
}

/// A fixed set of flags by index, packed 64 to a word.
struct Bitset: Sendable {
    private(set) var words: [UInt64]

    init(count: Int) { words = [UInt64](repeating: 0, count: (count + 63) / 64) }

    subscript(i: Int) -> Bool {
        get { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
        set {
            if newValue { words[i >> 6] |= 1 << UInt64(i & 63) } else { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
        }
    }
}

/// A growable list of plain values that starts in a caller's buffer (on the stack: see `withScratch`) and
/// moves to the heap only if it outgrows it, so that a query allocates nothing in the usual case.
struct Scratch<T: BitwiseCopyable>: ~Copyable {
    private var base: UnsafeMutablePointer<T>
    private var capacity: Int
    private var owned = false
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<T>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    deinit { if owned { base.deallocate() } }

    @inline(__always) subscript(i: Int) -> T {
        get { base[i] }
        set { base[i] = newValue }
    }

    @inline(__always) mutating func append(_ x: T) {
        if count == capacity { grow() }
        base[count] = x
        count += 1
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<T>.allocate(capacity: capacity * 2)
        bigger.update(from: base, count: count)
        if owned { base.deallocate() }
        base = bigger
        capacity *= 2
        owned = true
    }

    mutating func removeLast() { count -= 1 }
}

/// Runs `body` with an empty `Scratch` of at least `capacity` (and 8) values on the stack.
func withScratch<T: BitwiseCopyable, R>(_ type: T.Type, capacity: Int, _ body: (inout Scratch<T>) throws -> R) rethrows -> R {
    try withUnsafeTemporaryAllocation(of: T.self, capacity: max(8, capacity)) { buffer in
        var scratch = Scratch(buffer)
        return try body(&scratch)
    }
}
