import Foundation

/// From stored geometries (longitude, latitude) to a tile's integer coordinates: projection to Web Mercator,
/// simplification, clipping to the buffered tile, snapping to the tile grid, and removal of what degenerates.
///
/// Grid mosaics stay seamless at every zoom: two polygons that share a border must simplify, clip and snap it
/// identically, or slivers and overlaps open between them. So (1) simplification removes a vertex only on
/// evidence both sides share: its triangle with its current neighbours (the same triangle from either side of
/// a shared chain), never at a junction (a vertex whose neighbours differ between the rings that use it: where
/// three grids meet, or a border ends), one pass removing only vertices that are strict local minima so that no
/// two neighbours go at once; (2) clipping computes each crossing from the segment's endpoints in a fixed
/// order, so AB and BA cross the tile edge at the same point; (3) snapping rounds the same doubles the same way.
public struct TileGeometryBuilder {
    public let tile: TileID
    public let extent: Double
    public let buffer: Double
    /// Vertices whose triangle is smaller than this (twice the area, in tile units²) may be dropped.
    public let simplifyArea: Double
    let scale: Double
    /// Vertices never simplified away (see the type's notes), by their projected coordinates.
    private(set) var fixed: Set<SIMD2<Double>> = []

    public init(tile: TileID, extent: Int = 4096, buffer: Int = 64, simplify tolerance: Double = 1) {
        self.tile = tile
        self.extent = Double(extent)
        self.buffer = Double(buffer)
        simplifyArea = tolerance * tolerance
        scale = Double(1 << tile.z) * Double(extent)
    }

    /// Tile coordinates (not yet rounded) of a position.
    @inline(__always) public func project(_ p: Position) -> SIMD2<Double> {
        let f = TileID.worldFraction(p)
        return SIMD2(f.x * scale - Double(tile.x) * extent, f.y * scale - Double(tile.y) * extent)
    }

    /// Marks the junctions of a set of polygons that will be drawn together (a layer's candidates for a tile),
    /// so that `polygons` keeps them.
    public mutating func findJunctions(_ geometries: [Geometry]) {
        var neighbours: [SIMD2<Double>: (SIMD2<Double>, SIMD2<Double>)] = [:]
        for g in geometries {
            g.forEachRing { ring in
                let pts = closedRingPoints(ring)
                guard pts.count >= 3 else { return }
                for i in pts.indices {
                    let a = pts[(i + pts.count - 1) % pts.count], b = pts[(i + 1) % pts.count]
                    let pair = Self.lexLess(a, b) ? (a, b) : (b, a)
                    if let seen = neighbours[pts[i]] {
                        if seen != pair { fixed.insert(pts[i]) }
                    } else {
                        neighbours[pts[i]] = pair
                    }
                }
            }
        }
    }

    /// The tile's integer geometry, or nil when nothing of it is left in the buffered tile.
    public func build(_ g: Geometry) -> MVTGeometry? {
        switch g {
        case .point(let p): return points([p])
        case .multiPoint(let ps): return points(ps)
        case .lineString(let line): return lines([line])
        case .multiLineString(let ls): return lines(ls)
        case .polygon(let rings): return polygons([rings])
        case .multiPolygon(let polys): return polygons(polys)
        }
    }

    var box: (lo: Double, hi: Double) { (-buffer, extent + buffer) }

    func points(_ ps: [Position]) -> MVTGeometry? {
        let (lo, hi) = box
        var out: [SIMD2<Int32>] = []
        for p in ps {
            let q = project(p)
            guard q.x >= lo, q.x <= hi, q.y >= lo, q.y <= hi else { continue }
            let s = Self.snap(q)
            if !out.contains(s) { out.append(s) }
        }
        return out.isEmpty ? nil : .points(out)
    }

    func lines(_ ls: [[Position]]) -> MVTGeometry? {
        let (lo, hi) = box
        var parts: [[SIMD2<Int32>]] = []
        for line in ls {
            let pts = Self.simplifyOpen(line.map(project), area: simplifyArea)
            var current: [SIMD2<Int32>] = []
            func flush() {
                if current.count >= 2 { parts.append(current) }
                current = []
            }
            for i in 1..<max(1, pts.count) {
                guard let (a, b, clippedEnd) = Self.clipSegment(pts[i - 1], pts[i], lo, hi) else {
                    flush()
                    continue
                }
                let sa = Self.snap(a), sb = Self.snap(b)
                if current.last != sa {
                    flush()
                    current = [sa]
                }
                if sb != sa { current.append(sb) }
                if clippedEnd { flush() }
            }
            flush()
        }
        return parts.isEmpty ? nil : .lines(parts)
    }

    func polygons(_ polys: [PolygonRings]) -> MVTGeometry? {
        let (lo, hi) = box
        var out: [[[SIMD2<Int32>]]] = []
        var altered = false
        for rings in polys {
            var kept: [[SIMD2<Int32>]] = []
            for (r, ring) in rings.enumerated() {
                let projected = closedRingPoints(ring)
                let pts = simplifyClosed(projected)
                let clipped = Self.clipRing(pts, lo, hi)
                if pts.count != projected.count || clipped != pts { altered = true }
                guard var snapped = Self.snapRing(clipped) else {
                    if r == 0 { break } else { continue }  // no exterior, no polygon
                }
                // Exterior rings positive (clockwise on screen), holes negative, whatever the input's winding.
                if (r == 0) != (MVTGeometry.doubleArea(snapped) > 0) { snapped.reverse() }
                kept.append(snapped)
            }
            if !kept.isEmpty && MVTGeometry.doubleArea(kept[0]) > 0 { out.append(kept) }
        }
        // Simplification and clipping can make a valid polygon invalid (a ring running back along a tile edge
        // it crossed twice, a spike touching itself); GEOS repairs those, which keeps every vertex in place.
        if altered, !out.isEmpty, let repaired = Self.repair(out) { out = repaired }
        return out.isEmpty ? nil : .polygons(out)
    }

    /// Snapped to the tile grid without repeated points, or nil when fewer than three remain or it has no area.
    static func snapRing(_ ring: [SIMD2<Double>]) -> [SIMD2<Int32>]? {
        var snapped: [SIMD2<Int32>] = []
        for p in ring {
            let s = snap(p)
            if snapped.last != s { snapped.append(s) }
        }
        while snapped.count > 1 && snapped.first == snapped.last { snapped.removeLast() }
        guard snapped.count >= 3, MVTGeometry.doubleArea(snapped) != 0 else { return nil }
        return snapped
    }

    /// The polygons made valid by GEOS, snapped and wound again; nil when they were valid.
    static func repair(_ polygons: [[[SIMD2<Int32>]]]) -> [[[SIMD2<Int32>]]]? {
        let geometry = Geometry.multiPolygon(polygons.map { rings in
            rings.map { ring in (ring + [ring[0]]).map { Position(Double($0.x), Double($0.y)) } }
        })
        guard let fixed = GEOSContext().polygonalRepair(geometry) else { return nil }
        var out: [[[SIMD2<Int32>]]] = []
        for rings in fixed {
            var kept: [[SIMD2<Int32>]] = []
            for (r, ring) in rings.enumerated() {
                guard var snapped = snapRing(ring.map { SIMD2($0.lon, $0.lat) }) else {
                    if r == 0 { break } else { continue }
                }
                if (r == 0) != (MVTGeometry.doubleArea(snapped) > 0) { snapped.reverse() }
                kept.append(snapped)
            }
            if !kept.isEmpty { out.append(kept) }
        }
        return out
    }

    /// A ring's projected points without the closing repeat.
    func closedRingPoints(_ ring: Ring) -> [SIMD2<Double>] {
        var pts = ring.map(project)
        if pts.count > 1 && pts.first == pts.last { pts.removeLast() }
        return pts
    }

    // MARK: Simplification

    @inline(__always) static func lexLess(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Bool { a.x < b.x || (a.x == b.x && a.y < b.y) }

    @inline(__always) static func triangle(_ a: SIMD2<Double>, _ b: SIMD2<Double>, _ c: SIMD2<Double>) -> Double {
        abs((b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y))
    }

    /// Removes, pass after pass, the vertices of a closed ring whose triangle is under the threshold and a strict
    /// local minimum (by area, then position: the same order from either direction); junctions stay.
    func simplifyClosed(_ ring: [SIMD2<Double>]) -> [SIMD2<Double>] {
        guard simplifyArea > 0, ring.count > 4 else { return ring }
        var pts = ring
        while pts.count > 4 {
            let n = pts.count
            var weight = [Double](repeating: .infinity, count: n)
            for i in 0..<n where !fixed.contains(pts[i]) {
                let w = Self.triangle(pts[(i + n - 1) % n], pts[i], pts[(i + 1) % n])
                if w < simplifyArea { weight[i] = w }
            }
            func before(_ i: Int, _ j: Int) -> Bool {
                weight[i] < weight[j] || (weight[i] == weight[j] && Self.lexLess(pts[i], pts[j]))
            }
            var keep = [Bool](repeating: true, count: n)
            var removed = 0
            for i in 0..<n where weight[i].isFinite && before(i, (i + n - 1) % n) && before(i, (i + 1) % n) {
                keep[i] = false
                removed += 1
            }
            if removed == 0 || n - removed < 3 { break }
            pts = pts.indices.filter { keep[$0] }.map { pts[$0] }
        }
        return pts
    }

    /// The same for an open line, whose two ends always stay.
    static func simplifyOpen(_ line: [SIMD2<Double>], area: Double) -> [SIMD2<Double>] {
        guard area > 0, line.count > 2 else { return line }
        var pts = line
        while pts.count > 2 {
            let n = pts.count
            var weight = [Double](repeating: .infinity, count: n)
            for i in 1..<(n - 1) {
                let w = triangle(pts[i - 1], pts[i], pts[i + 1])
                if w < area { weight[i] = w }
            }
            var keep = [Bool](repeating: true, count: n)
            var removed = 0
            for i in 1..<(n - 1) where weight[i].isFinite && weight[i] < weight[i - 1] && weight[i] <= weight[i + 1] {
                keep[i] = false
                removed += 1
            }
            if removed == 0 { break }
            pts = pts.indices.filter { keep[$0] }.map { pts[$0] }
        }
        return pts
    }

    // MARK: Clipping and snapping

    @inline(__always) static func snap(_ p: SIMD2<Double>) -> SIMD2<Int32> {
        SIMD2(Int32(clamping: Int64(p.x.rounded())), Int32(clamping: Int64(p.y.rounded())))
    }

    /// Where segment ab crosses the line `axis == value`, computed from the endpoints in lexicographic order so
    /// that ab and ba give the same point.
    @inline(__always) static func crossing(_ a: SIMD2<Double>, _ b: SIMD2<Double>, axis: Int, value: Double) -> SIMD2<Double> {
        let (p, q) = lexLess(a, b) ? (a, b) : (b, a)
        let t = (value - p[axis]) / (q[axis] - p[axis])
        var r = p + (q - p) * t
        r[axis] = value
        return r
    }

    /// Sutherland–Hodgman against the four sides of the square [lo, hi]².
    static func clipRing(_ ring: [SIMD2<Double>], _ lo: Double, _ hi: Double) -> [SIMD2<Double>] {
        var pts = ring
        for (axis, value, keepAbove) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
            guard !pts.isEmpty else { break }
            func inside(_ p: SIMD2<Double>) -> Bool { keepAbove ? p[axis] >= value : p[axis] <= value }
            var out: [SIMD2<Double>] = []
            out.reserveCapacity(pts.count + 4)
            for i in pts.indices {
                let cur = pts[i], prev = pts[(i + pts.count - 1) % pts.count]
                if inside(cur) {
                    if !inside(prev) { out.append(crossing(prev, cur, axis: axis, value: value)) }
                    out.append(cur)
                } else if inside(prev) {
                    out.append(crossing(prev, cur, axis: axis, value: value))
                }
            }
            pts = out
        }
        return pts
    }

    /// The part of segment ab inside [lo, hi]² (Liang–Barsky, endpoints crossing in a fixed order), and whether
    /// its end was cut (so that the line leaves the tile there).
    static func clipSegment(_ a: SIMD2<Double>, _ b: SIMD2<Double>, _ lo: Double, _ hi: Double) -> (SIMD2<Double>, SIMD2<Double>, Bool)? {
        var p = a, q = b
        for axis in 0..<2 {
            for (value, keepAbove) in [(lo, true), (hi, false)] {
                let pin = keepAbove ? p[axis] >= value : p[axis] <= value, qin = keepAbove ? q[axis] >= value : q[axis] <= value
                if !pin && !qin { return nil }
                if !pin { p = crossing(p, q, axis: axis, value: value) }
                if !qin { q = crossing(p, q, axis: axis, value: value) }
            }
        }
        return (p, q, q != b)
    }
}

extension Geometry {
    /// Every ring of a polygon or multipolygon.
    func forEachRing(_ body: (Ring) -> Void) {
        switch self {
        case .polygon(let rings): rings.forEach(body)
        case .multiPolygon(let polys): for rings in polys { rings.forEach(body) }
        default: break
        }
    }
}
