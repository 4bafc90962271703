/// Exact intersection of a geometry with an axis-aligned box, as OGC API Features' `bbox` means it
/// (the geometry, not its bounding box, must meet the box).
extension Geometry {
    public func intersects(_ box: BBox) -> Bool {
        switch self {
        case .point(let p): return box.contains(p)
        case .multiPoint(let ps): return ps.contains(where: box.contains)
        case .lineString(let ps): return Self.lineMeets(ps, box)
        case .multiLineString(let ls): return ls.contains { Self.lineMeets($0, box) }
        case .polygon(let rs): return Self.polygonMeets(rs, box)
        case .multiPolygon(let ps): return ps.contains { Self.polygonMeets($0, box) }
        }
    }

    private static func lineMeets(_ ps: [Position], _ box: BBox) -> Bool {
        if let first = ps.first, box.contains(first) { return true }
        for i in ps.indices.dropFirst() where box.meetsSegment(ps[i - 1], ps[i]) { return true }
        return false
    }

    private static func polygonMeets(_ rings: PolygonRings, _ box: BBox) -> Bool {
        // Either a boundary segment meets the box, or the box lies wholly inside or outside.
        if rings.contains(where: { lineMeets($0, box) }) { return true }
        return polygonContains(rings, Position(box.minX, box.minY))
    }

    /// Even-odd ray casting over all rings: inside the exterior and outside every hole.
    static func polygonContains(_ rings: PolygonRings, _ p: Position) -> Bool {
        var inside = false
        for ring in rings {
            var j = ring.count - 1
            for i in 0..<ring.count {
                let a = ring[i], b = ring[j]
                if (a.lat > p.lat) != (b.lat > p.lat), p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon {
                    inside.toggle()
                }
                j = i
            }
        }
        return inside
    }
}

extension BBox {
    public func contains(_ p: Position) -> Bool { p.lon >= minX && p.lon <= maxX && p.lat >= minY && p.lat <= maxY }

    /// Liang–Barsky: does the segment a→b meet the closed box?
    func meetsSegment(_ a: Position, _ b: Position) -> Bool {
        var t0 = 0.0, t1 = 1.0
        let dx = b.lon - a.lon, dy = b.lat - a.lat
        for (p, q) in [(-dx, a.lon - minX), (dx, maxX - a.lon), (-dy, a.lat - minY), (dy, maxY - a.lat)] {
            if p == 0 {
                if q < 0 { return false }
            } else {
                let r = q / p
                if p < 0 {
                    if r > t1 { return false }
                    if r > t0 { t0 = r }
                } else {
                    if r < t0 { return false }
                    if r < t1 { t1 = r }
                }
            }
        }
        return true
    }
}
