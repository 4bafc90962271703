/// A uniform grid of cells over an extent, the bucket structure under every in-memory index: boxes are
/// filed into the cells they meet (by counting, then filling: two flat arrays, no array per cell).
struct CellGrid: Sendable {
    let extent: BBox
    let cols: Int, rows: Int
    let cellWidth: Double, cellHeight: Double

    init(extent: BBox, cols: Int, rows: Int) {
        self.extent = extent.isEmpty ? BBox(minX: 0, minY: 0, maxX: 0, maxY: 0) : extent
        self.cols = max(1, cols)
        self.rows = max(1, rows)
        cellWidth = max(self.extent.maxX - self.extent.minX, 1e-9) / Double(self.cols)
        cellHeight = max(self.extent.maxY - self.extent.minY, 1e-9) / Double(self.rows)
    }

    /// About `cells` cells of the extent's aspect (in degrees), at most `maxSide` a side.
    init(extent: BBox, cells: Int, maxSide: Int) {
        let e = extent.isEmpty ? BBox(minX: 0, minY: 0, maxX: 0, maxY: 0) : extent
        let w = max(e.maxX - e.minX, 1e-9), h = max(e.maxY - e.minY, 1e-9)
        let target = Double(max(1, cells))
        let cols = min(maxSide, max(1, Int((target * w / h).squareRoot())))
        self.init(extent: e, cols: cols, rows: min(maxSide, max(1, Int(target) / cols)))
    }

    @inline(__always) func col(_ x: Double) -> Int { min(cols - 1, max(0, Int(((x - extent.minX) / cellWidth).rounded(.down)))) }
    @inline(__always) func row(_ y: Double) -> Int { min(rows - 1, max(0, Int(((y - extent.minY) / cellHeight).rounded(.down)))) }
    @inline(__always) func cell(_ p: Position) -> Int { row(p.lat) * cols + col(p.lon) }

    /// For each cell, the indices of the boxes meeting it: cell c's are `items[start[c]..<start[c + 1]]`.
    func file(_ boxes: [BBox]) -> (start: [Int32], items: [Int32]) {
        var start = [Int32](repeating: 0, count: cols * rows + 1)
        for b in boxes where !b.isEmpty {
            for r in row(b.minY)...row(b.maxY) { for c in col(b.minX)...col(b.maxX) { start[r * cols + c + 1] += 1 } }
        }
        for i in 1..<start.count { start[i] += start[i - 1] }
        var fill = start
        var items = [Int32](repeating: 0, count: Int(start.last!))
        for (i, b) in boxes.enumerated() where !b.isEmpty {
            for r in row(b.minY)...row(b.maxY) {
                for c in col(b.minX)...col(b.maxX) {
                    items[Int(fill[r * cols + c])] = Int32(i)
                    fill[r * cols + c] += 1
                }
            }
        }
        return (start, items)
    }
}
