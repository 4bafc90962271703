import Foundation

/// Planar tests in metres (a `LocalFrame`) that settle the common case of a plan check without GEOS: a grid
/// with nothing narrow, a building well inside its grid. Each answers true only when it is sure; false sends
/// the check to GEOS's exact operations.
enum PlanGeometry {
    /// The distance from `p` to the segment `a`–`b`.
    static func distance(_ p: Position, _ a: Position, _ b: Position) -> Double {
        let dx = b.lon - a.lon, dy = b.lat - a.lat
        let l2 = dx * dx + dy * dy
        var t = l2 > 0 ? ((p.lon - a.lon) * dx + (p.lat - a.lat) * dy) / l2 : 0
        t = max(0, min(1, t))
        let x = a.lon + t * dx - p.lon, y = a.lat + t * dy - p.lat
        return (x * x + y * y).squareRoot()
    }

    /// Sure that no part of `g` is narrower than `width`: every vertex lies at least `width` from every edge not
    /// its own (the nearest points of two segments that do not meet include an end of one of them, so no two
    /// edges come closer), and no corner is sharper than 30° (a mitred shrink and grow gives such a corner
    /// back whole). Polygons of more than 256 vertices are left to GEOS.
    static func surelyNoSliver(_ g: Geometry, width: Double) -> Bool {
        var edges: [(Position, Position)] = []
        var corners: [(Position, Position, Position)] = []
        for polygon in g.polygons {
            for ring in polygon {
                let n = ring.count - 1  // closed: the last position repeats the first
                guard n >= 3 else { return false }
                for i in 0..<n {
                    edges.append((ring[i], ring[i + 1]))
                    corners.append((ring[(i + n - 1) % n], ring[i], ring[i + 1]))
                }
            }
        }
        guard edges.count <= 256 else { return false }
        let cos30 = 3.0.squareRoot() / 2
        for (a, v, b) in corners {
            let ux = a.lon - v.lon, uy = a.lat - v.lat, wx = b.lon - v.lon, wy = b.lat - v.lat
            let lu = (ux * ux + uy * uy).squareRoot(), lw = (wx * wx + wy * wy).squareRoot()
            guard lu > 0, lw > 0, (ux * wx + uy * wy) / (lu * lw) < cos30 else { return false }
        }
        for (a, _) in edges {
            for (p, q) in edges where p != a && q != a {
                if distance(a, p, q) < width { return false }
            }
        }
        return true
    }

    /// Sure that `building` lies in `grid`'s interior, touching its boundary nowhere: the building's box centre
    /// is inside the grid, farther from every edge of it than half the box's diagonal (so the whole box is).
    static func surelyInside(_ building: Geometry, _ grid: Geometry) -> Bool {
        guard let box = building.bbox else { return false }
        return surelyInside(box: box, grid)
    }

    /// The same for a building known by its box alone (in the grid's plane).
    static func surelyInside(box: BBox, _ grid: Geometry) -> Bool {
        let c = Position((box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2)
        let dx = box.maxX - box.minX, dy = box.maxY - box.minY
        let reach = (dx * dx + dy * dy).squareRoot() / 2
        func clear(_ polygon: PolygonRings) -> Bool {
            for ring in polygon where ring.count > 1 {
                for i in 0..<(ring.count - 1) where distance(c, ring[i], ring[i + 1]) <= reach { return false }
            }
            return true
        }
        switch grid {
        case .polygon(let rings): return Geometry.polygonContains(rings, c) && clear(rings)
        case .multiPolygon(let polygons): return polygons.contains { Geometry.polygonContains($0, c) } && polygons.allSatisfy(clear)
        default: return false
        }
    }
}
