/// Features of a layer (buildings, roads) indexed by box in a uniform cell grid, for "what lies within r
/// metres of this point". Distances are measured in a plane tangent to the ellipsoid at the query point
/// (metres per degree of latitude and longitude there): for radii under 5 km that is within 0.1% of the
/// geodesic distance, far inside what a footprint's own accuracy allows.
public struct ShapeIndex: Sendable {
    public struct Entry: Sendable {
        public var id: Int64
        public var geometry: Geometry
        public var values: [FieldValue]
        /// The extra attributes as the store keeps them (a JSON object's text), or nil.
        public var extra: String?
        public internal(set) var box: BBox
    }

    public let layer: Layer
    public let entries: [Entry]
    let grid: CellGrid
    let cellStart: [Int32]
    let cellEntries: [Int32]
    /// Roads only: each entry's name and class as a number (`AccessRoad.Key`'s), so that the access roads near
    /// a point are grouped without hashing names; `roadKeys` gives the numbers.
    let roadGroups: [Int32]
    let roadKeys: [AccessRoad.Key: Int32]

    public init(layer: Layer, features: [StoredRow]) {
        var entries: [Entry] = []
        entries.reserveCapacity(features.count)
        for f in features {
            guard let box = f.geometry.bbox else { continue }
            entries.append(Entry(id: f.id, geometry: f.geometry, values: f.values, extra: f.extra, box: box))
        }
        self.init(layer: layer, entries: entries)
    }

    /// An index of `entries`, in id order, as they are.
    init(layer: Layer, entries: [Entry]) {
        self.layer = layer
        var extent = BBox.empty
        for e in entries { extent.extend(e.box) }
        self.entries = entries
        grid = CellGrid(extent: extent, cells: entries.count, maxSide: 4096)
        (cellStart, cellEntries) = grid.file(entries.map(\.box))
        var keys: [AccessRoad.Key: Int32] = [:]
        if layer == .roads {
            roadGroups = entries.map { e in
                let key = AccessRoad.Key(e)
                if let n = keys[key] { return n }
                keys[key] = Int32(keys.count)
                return Int32(keys.count - 1)
            }
        } else {
            roadGroups = []
        }
        roadKeys = keys
    }

    /// Entries whose geometry comes within `radius` metres of `p` (0 inside a polygon), nearest first.
    public func within(_ p: Position, radius: Double) -> [(entry: Entry, distance: Double)] {
        // Found as (index, distance) pairs, sorted as such, and only then copied out: an entry (geometry, values,
        // extra text) is copied once, and the sort moves 16-byte pairs.
        var found: [(index: Int32, distance: Double)] = []
        scan(p, radius: radius) { i, d in found.append((i, d)) }
        found.sort { $0.distance != $1.distance ? $0.distance < $1.distance : entries[Int($0.index)].id < entries[Int($1.index)].id }
        var out: [(entry: Entry, distance: Double)] = []
        out.reserveCapacity(found.count)
        for f in found { out.append((entries[Int(f.index)], f.distance)) }
        return out
    }

    /// Calls `body` with the position in `entries` and the distance of every entry whose geometry comes within
    /// `radius` metres of `p`, each once, in no particular order; nothing is copied.
    func scan(_ p: Position, radius: Double, _ body: (Int32, Double) -> Void) {
        let scale = Geodesy.metresPerDegree(atLatitude: p.lat)
        candidates(p, radius: radius, scale: scale) { i, _ in
            let d = Self.planarDistance(from: p, to: entries[Int(i)].geometry, scale: scale)
            if d <= radius { body(i, d) }
        }
    }

    /// Calls `body` with the position of every entry whose geometry comes within `radius` metres of `p`, as
    /// `scan` finds them, when the distance itself is not wanted (totals, counts): an entry whose whole box is
    /// within the radius, or none of it, is judged by its box, and only the others by their geometry.
    func scanWithin(_ p: Position, radius: Double, _ body: (Int32) -> Void) {
        let scale = Geodesy.metresPerDegree(atLatitude: p.lat)
        let r2 = radius * radius
        candidates(p, radius: radius, scale: scale) { i, box in
            // The box's nearest and farthest points from p, in the plane of planarDistance.
            let x0 = (box.minX - p.lon) * scale.lon, x1 = (box.maxX - p.lon) * scale.lon
            let y0 = (box.minY - p.lat) * scale.lat, y1 = (box.maxY - p.lat) * scale.lat
            let nx = x0 > 0 ? x0 : (x1 < 0 ? x1 : 0), ny = y0 > 0 ? y0 : (y1 < 0 ? y1 : 0)
            if nx * nx + ny * ny > r2 * 1.000001 { return }
            let fx = max(-x0, x1), fy = max(-y0, y1)
            if fx * fx + fy * fy < r2 * 0.999999 || Self.planarDistance(from: p, to: entries[Int(i)].geometry, scale: scale) <= radius { body(i) }
        }
    }

    /// Gathers into `best` the roads within `radius` metres of `p` by name and class (`group` maps an entry's
    /// position to its group; `skip` leaves entries out): per group the nearest (ties by id) and the widest
    /// width of any. A road's exact distance is measured only when it could be the nearest of its group, or
    /// when its box alone cannot tell whether it is within the radius and its width would count.
    func gatherAccessRoads(_ p: Position, radius: Double, fromDelta: Bool, group: (Int32) -> Int32, skip: (Int32) -> Bool,
        into best: inout [Int32: AccessRoad.Nearest])
    {
        let scale = Geodesy.metresPerDegree(atLatitude: p.lat)
        let r2 = radius * radius
        entries.withUnsafeBufferPointer { entries in
            candidates(p, radius: radius, scale: scale) { i, box in
                let x0 = (box.minX - p.lon) * scale.lon, x1 = (box.maxX - p.lon) * scale.lon
                let y0 = (box.minY - p.lat) * scale.lat, y1 = (box.maxY - p.lat) * scale.lat
                let nx = x0 > 0 ? x0 : (x1 < 0 ? x1 : 0), ny = y0 > 0 ? y0 : (y1 < 0 ? y1 : 0)
                let near2 = nx * nx + ny * ny
                if near2 > r2 * 1.000001 || skip(i) { return }
                let fx = max(-x0, x1), fy = max(-y0, y1)
                let surelyWithin = fx * fx + fy * fy < r2 * 0.999999
                let g = group(i)
                let e = entries[Int(i)]
                let width = AccessRoad.width(e)
                if var b = best[g], near2 > b.distance * b.distance * 1.000001 {
                    // Farther than the group's nearest at its nearest point: only its width can count.
                    guard let w = width, w > (b.width ?? -.infinity) else { return }
                    if !surelyWithin && Self.planarDistance(from: p, to: e.geometry, scale: scale) > radius { return }
                    b.width = w
                    best[g] = b
                    return
                }
                let d = Self.planarDistance(from: p, to: e.geometry, scale: scale)
                if d > radius { return }
                guard var b = best[g] else {
                    best[g] = AccessRoad.Nearest(distance: d, id: e.id, index: i, fromDelta: fromDelta, width: width)
                    return
                }
                if let w = width, w > (b.width ?? -.infinity) { b.width = w }
                if d < b.distance || (d == b.distance && e.id < b.id) {
                    b.distance = d
                    b.id = e.id
                    b.index = i
                    b.fromDelta = fromDelta
                }
                best[g] = b
            }
        }
    }

    /// Every entry whose box meets the window `radius` metres around `p`, once each (in the first of its cells
    /// the window covers), with its box.
    @inline(__always) private func candidates(_ p: Position, radius: Double, scale: (lat: Double, lon: Double), _ body: (Int32, BBox) -> Void) {
        let dLon = radius / max(scale.lon, 1e-9) * 1.01, dLat = radius / scale.lat * 1.01
        let window = BBox(minX: p.lon - dLon, minY: p.lat - dLat, maxX: p.lon + dLon, maxY: p.lat + dLat)
        guard window.intersects(grid.extent) else { return }
        let c0 = grid.col(window.minX), c1 = grid.col(window.maxX), r0 = grid.row(window.minY), r1 = grid.row(window.maxY)
        for r in r0...r1 {
            for c in c0...c1 {
                let cell = r * grid.cols + c
                for slot in Int(cellStart[cell])..<Int(cellStart[cell + 1]) {
                    let i = cellEntries[slot]
                    let box = entries[Int(i)].box
                    guard box.intersects(window), r == max(r0, grid.row(box.minY)), c == max(c0, grid.col(box.minX)) else { continue }
                    body(i, box)
                }
            }
        }
    }

    /// The exact extent of the entries' geometries; nil when there are none.
    public var extent: BBox? { entries.isEmpty ? nil : grid.extent }

    /// Entries whose geometry meets `box`, by id.
    public func entries(intersecting box: BBox) -> [Entry] {
        // Found as positions, sorted by id, and only then copied out.
        var found: [Int32] = []
        scan(intersecting: box) { found.append($0) }
        found.sort { entries[Int($0)].id < entries[Int($1)].id }
        var out: [Entry] = []
        out.reserveCapacity(found.count)
        for i in found { out.append(entries[Int(i)]) }
        return out
    }

    /// Calls `body` with the position in `entries` of every entry whose geometry meets `box`, each once, in no
    /// particular order; nothing is copied.
    func scan(intersecting box: BBox, _ body: (Int32) -> Void) {
        guard box.intersects(grid.extent) else { return }
        let c0 = grid.col(box.minX), c1 = grid.col(box.maxX), r0 = grid.row(box.minY), r1 = grid.row(box.maxY)
        for r in r0...r1 {
            for c in c0...c1 {
                let cell = r * grid.cols + c
                for slot in Int(cellStart[cell])..<Int(cellStart[cell + 1]) {
                    let i = cellEntries[slot]
                    let b = entries[Int(i)].box
                    guard b.intersects(box) else { continue }
                    // An entry filed in several cells is judged once: in the first of them the box covers.
                    guard r == max(r0, grid.row(b.minY)), c == max(c0, grid.col(b.minX)) else { continue }
                    // A box inside the query's needs no exact test.
                    let inside = b.minX >= box.minX && b.maxX <= box.maxX && b.minY >= box.minY && b.maxY <= box.maxY
                    guard inside || entries[Int(i)].geometry.intersects(box) else { continue }
                    body(i)
                }
            }
        }
    }

    /// Metres from `p` to the nearest point of `g` in the plane tangent at `p`; 0 inside a polygon.
    static func planarDistance(from p: Position, to g: Geometry, scale: (lat: Double, lon: Double)) -> Double {
        func xy(_ q: Position) -> SIMD2<Double> { SIMD2((q.lon - p.lon) * scale.lon, (q.lat - p.lat) * scale.lat) }
        func segment(_ a: Position, _ b: Position) -> Double {
            let u = xy(a), v = xy(b), d = v - u
            let len2 = (d * d).sum()
            let t = len2 > 0 ? min(1, max(0, -(u * d).sum() / len2)) : 0
            let q = u + t * d
            return (q * q).sum().squareRoot()
        }
        func line(_ ps: [Position]) -> Double {
            if ps.count == 1 { return segment(ps[0], ps[0]) }
            var best = Double.infinity
            for k in 1..<ps.count { best = min(best, segment(ps[k - 1], ps[k])) }
            return best
        }
        func polygon(_ rings: PolygonRings) -> Double {
            if Geometry.polygonContains(rings, p) { return 0 }
            return rings.map(line).min() ?? .infinity
        }
        switch g {
        case .point(let q): return segment(q, q)
        case .multiPoint(let qs): return qs.map { segment($0, $0) }.min() ?? .infinity
        case .lineString(let ps): return line(ps)
        case .multiLineString(let ls): return ls.map(line).min() ?? .infinity
        case .polygon(let rs): return polygon(rs)
        case .multiPolygon(let ps): return ps.map(polygon).min() ?? .infinity
        }
    }

    public var memoryBytes: Int {
        var positions = 0
        for e in entries { e.geometry.forEachPosition { _ in positions += 1 } }
        return positions * MemoryLayout<Position>.stride + entries.count * (MemoryLayout<Entry>.stride + 64) + cellStart.count * 4 + cellEntries.count * 4
    }
}
