/// Point-in-polygon over many polygons, answered from memory with no SQL and no allocation per query.
///
/// A uniform grid of cells over the polygons' extent lists, per cell, the polygons whose box meets it. Each
/// polygon's edges are also filed by row band of that grid, so a test casts its ray through the edges of
/// one band only: a few edges instead of all of them.
///
/// **Boundary rule (half-open, as pixels are)**: a polygon owns the points on its south and west edges and
/// not those on its north and east edges. It falls out of the crossing-number test counting an edge when
/// `y0 ≤ y < y1` and the point lies strictly west of the crossing, with every edge stored lower end first so
/// that two polygons sharing an edge compute the very same crossing. In a mosaic that shares its vertices (a
/// seamless grid layer), every point on a shared edge or vertex therefore belongs to exactly one polygon: on
/// a north-south edge to the one east of it, on an east-west edge to the one north of it. Points on the
/// mosaic's own north and east rims belong to none.
public struct PolygonIndex: Sendable {
    struct Edge: Sendable {
        var x0: Double, y0: Double, x1: Double, y1: Double
    }

    public let count: Int
    let grid: CellGrid
    let cellStart: [Int32]
    let cellPolygons: [Int32]
    let boxes: [BBox]
    /// Per polygon: its first row, and where its row bands start in `bandStart`.
    let firstRow: [Int32]
    let bandOffset: [Int32]
    /// Per (polygon, row) band: where its edges start in `edges`; one more entry closes the last band.
    let bandStart: [Int32]
    let edges: [Edge]

    /// `polygons[i]` is every ring of polygon i (exteriors and holes of all its parts): parity decides.
    public init(polygons: [[Ring]]) {
        count = polygons.count
        var boxes: [BBox] = []
        var extent = BBox.empty
        for rings in polygons {
            var b = BBox.empty
            for r in rings { for p in r { b.extend(p) } }
            boxes.append(b)
            if !b.isEmpty { extent.extend(b) }
        }
        self.boxes = boxes
        let grid = CellGrid(extent: extent, cells: 4 * polygons.count, maxSide: 2048)
        self.grid = grid
        (cellStart, cellPolygons) = grid.file(boxes)
        let row = grid.row

        // Polygons → row bands → edges, lower end first; horizontal edges never cross a ray and are left out.
        // Two passes a polygon (count the edges of each band, then file them), into flat arrays: no array
        // per band or per polygon, which made most of the build's time for 10,000 grids.
        var firstRow: [Int32] = [], bandOffset: [Int32] = [], bandStart: [Int32] = [], edges: [Edge] = []
        firstRow.reserveCapacity(polygons.count)
        bandOffset.reserveCapacity(polygons.count)
        var counts: [Int] = [], cursors: [Int] = []
        for (i, rings) in polygons.enumerated() {
            let b = boxes[i]
            let r0 = b.isEmpty ? 0 : row(b.minY), r1 = b.isEmpty ? -1 : row(b.maxY)
            firstRow.append(Int32(r0))
            bandOffset.append(Int32(bandStart.count))
            let bands = max(0, r1 - r0 + 1)
            counts.removeAll(keepingCapacity: true)
            counts.append(contentsOf: repeatElement(0, count: bands))
            for ring in rings where ring.count > 1 {
                for k in 1..<ring.count where ring[k - 1].lat != ring[k].lat {
                    let (y0, y1) = ring[k - 1].lat < ring[k].lat ? (ring[k - 1].lat, ring[k].lat) : (ring[k].lat, ring[k - 1].lat)
                    for r in row(y0)...row(y1) { counts[r - r0] += 1 }
                }
            }
            cursors.removeAll(keepingCapacity: true)
            var start = edges.count
            for band in 0..<bands {
                bandStart.append(Int32(start))
                cursors.append(start)
                start += counts[band]
            }
            edges.append(contentsOf: repeatElement(Edge(x0: 0, y0: 0, x1: 0, y1: 0), count: start - edges.count))
            for ring in rings where ring.count > 1 {
                for k in 1..<ring.count {
                    let a = ring[k - 1], z = ring[k]
                    if a.lat == z.lat { continue }
                    let e = a.lat < z.lat ? Edge(x0: a.lon, y0: a.lat, x1: z.lon, y1: z.lat) : Edge(x0: z.lon, y0: z.lat, x1: a.lon, y1: a.lat)
                    for r in row(e.y0)...row(e.y1) {
                        edges[cursors[r - r0]] = e
                        cursors[r - r0] += 1
                    }
                }
            }
        }
        bandStart.append(Int32(edges.count))
        self.firstRow = firstRow
        self.bandOffset = bandOffset
        self.bandStart = bandStart
        self.edges = edges
    }

    /// The first polygon (lowest index) that owns `p` by the half-open rule, or nil.
    public func firstContaining(_ p: Position) -> Int? {
        guard let (cell, r) = cellAndRow(p) else { return nil }
        for slot in Int(cellStart[cell])..<Int(cellStart[cell + 1]) {
            let i = Int(cellPolygons[slot])
            if owns(i, p, row: r) { return i }
        }
        return nil
    }

    /// The first polygon (lowest index) among those `keep` accepts that owns `p`, or nil.
    public func firstContaining(_ p: Position, where keep: (Int) -> Bool) -> Int? {
        guard let (cell, r) = cellAndRow(p) else { return nil }
        for slot in Int(cellStart[cell])..<Int(cellStart[cell + 1]) {
            let i = Int(cellPolygons[slot])
            if keep(i), owns(i, p, row: r) { return i }
        }
        return nil
    }

    /// Every polygon owning `p`, in index order (more than one only where polygons overlap).
    public func allContaining(_ p: Position) -> [Int] {
        guard let (cell, r) = cellAndRow(p) else { return [] }
        return (Int(cellStart[cell])..<Int(cellStart[cell + 1])).map { Int(cellPolygons[$0]) }.filter { owns($0, p, row: r) }.sorted()
    }

    @inline(__always) private func cellAndRow(_ p: Position) -> (Int, Int)? {
        let e = grid.extent
        guard p.lon >= e.minX, p.lon <= e.maxX, p.lat >= e.minY, p.lat <= e.maxY else { return nil }
        let r = grid.row(p.lat)
        return (r * grid.cols + grid.col(p.lon), r)
    }

    /// The crossing-number test of polygon `i` against the edges in row band `r`.
    @inline(__always) private func owns(_ i: Int, _ p: Position, row r: Int) -> Bool {
        let b = boxes[i]
        guard p.lon >= b.minX, p.lon <= b.maxX, p.lat >= b.minY, p.lat <= b.maxY else { return false }
        let band = Int(bandOffset[i]) + r - Int(firstRow[i])
        var inside = false
        for k in Int(bandStart[band])..<Int(bandStart[band + 1]) {
            let e = edges[k]
            if e.y0 <= p.lat && p.lat < e.y1 {
                let x = e.x0 + (p.lat - e.y0) * (e.x1 - e.x0) / (e.y1 - e.y0)
                if p.lon < x { inside.toggle() }
            }
        }
        return inside
    }

    /// Bytes held by the index's arrays.
    public var memoryBytes: Int {
        cellStart.count * 4 + cellPolygons.count * 4 + boxes.count * MemoryLayout<BBox>.stride + firstRow.count * 4
            + bandOffset.count * 4 + bandStart.count * 4 + edges.count * MemoryLayout<Edge>.stride
    }
}
