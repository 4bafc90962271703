/// Structural checks every stored geometry passes, whatever format it came in. Topological validity
/// (self-intersection, ring overlap) needs GEOS and is checked by the importer.
extension Geometry {
    /// The first structural problem, or nil. `geographic` adds the WGS84 range checks.
    public func structuralProblem(geographic: Bool = true) -> String? {
        var problem: String?
        forEachPosition { p in
            guard problem == nil else { return }
            if !p.lon.isFinite || !p.lat.isFinite {
                problem = "coordinate is not a finite number"
            } else if geographic && !(-180...180).contains(p.lon) {
                problem = "longitude \(p.lon) is outside -180…180"
            } else if geographic && !(-90...90).contains(p.lat) {
                problem = "latitude \(p.lat) is outside -90…90"
            }
        }
        if let problem { return problem }
        switch self {
        case .point: return nil
        case .multiPoint(let ps): return ps.isEmpty ? "MultiPoint has no points" : nil
        case .lineString(let ps): return Self.lineProblem(ps)
        case .multiLineString(let ls):
            if ls.isEmpty { return "MultiLineString has no lines" }
            for (i, l) in ls.enumerated() { if let p = Self.lineProblem(l) { return "line \(i): \(p)" } }
            return nil
        case .polygon(let rings): return Self.polygonProblem(rings)
        case .multiPolygon(let polys):
            if polys.isEmpty { return "MultiPolygon has no polygons" }
            for (i, p) in polys.enumerated() { if let q = Self.polygonProblem(p) { return "polygon \(i): \(q)" } }
            return nil
        }
    }

    private static func lineProblem(_ ps: [Position]) -> String? {
        if ps.count < 2 { return "a line needs at least 2 positions, has \(ps.count)" }
        if ps.allSatisfy({ $0 == ps[0] }) { return "a line has zero length (all positions equal)" }
        return nil
    }

    private static func polygonProblem(_ rings: PolygonRings) -> String? {
        if rings.isEmpty { return "polygon has no rings" }
        for (i, ring) in rings.enumerated() {
            let name = i == 0 ? "exterior ring" : "hole \(i)"
            if ring.count < 4 { return "\(name) needs at least 4 positions, has \(ring.count)" }
            if ring.first != ring.last { return "\(name) is not closed (first and last positions differ)" }
            if ring.signedArea2 == 0 { return "\(name) has zero area" }
        }
        return nil
    }
}
