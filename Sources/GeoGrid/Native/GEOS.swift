import CGEOS

/// A GEOS context (GEOS's re-entrant API). Single-thread: one per importer or reader, never one per
/// call in a hot loop. Not Sendable.
public final class GEOSContext {
    let handle: GEOSContextHandle_t

    public init() {
        handle = GEOS_init_r()
    }

    deinit { GEOS_finish_r(handle) }

    /// GEOS's reason a polygonal geometry is invalid (self-intersection, ring self-intersection,
    /// holes outside the shell, …), or nil when it is valid. Non-polygonal geometries are valid
    /// when structurally sound, which `Geometry.structuralProblem` already checks.
    public func invalidityReason(_ g: Geometry) -> String? {
        switch g {
        case .polygon, .multiPolygon: break
        default: return nil
        }
        guard let geom = geometry(g) else { return "GEOS could not build the geometry" }
        // GEOSisValid_r: 1 valid, 0 invalid, 2 exception.
        switch GEOSisValid_r(handle, geom.handle) {
        case 1: return nil
        case 0:
            // Returns a string the caller frees with GEOSFree_r, e.g. "Self-intersection[24.9 60.1]".
            guard let reason = GEOSisValidReason_r(handle, geom.handle) else { return "invalid geometry" }
            defer { GEOSFree_r(handle, reason) }
            return String(cString: reason)
        default: return "GEOS could not check the geometry"
        }
    }

    /// A point that lies on `g`: the point itself, a middle vertex of a line, a polygon's point on surface
    /// (GEOSPointOnSurface: inside the polygon, not merely inside its box). For placing a feature in an area.
    public func representativePoint(_ g: Geometry) -> Position? {
        switch g {
        case .point(let p): return p
        case .lineString(let ps): return ps.isEmpty ? nil : ps[ps.count / 2]
        case .multiLineString(let lines): return lines.first.flatMap { $0.isEmpty ? nil : $0[$0.count / 2] }
        default: break
        }
        guard let geom = geometry(g), let point = GEOSPointOnSurface_r(handle, geom.handle) else { return nil }
        defer { GEOSGeom_destroy_r(handle, point) }
        var x = 0.0, y = 0.0
        // GEOSGeomGetX_r/GetY_r return 1 on success.
        guard GEOSGeomGetX_r(handle, point, &x) == 1, GEOSGeomGetY_r(handle, point, &y) == 1 else { return nil }
        return Position(x, y)
    }

    /// `g` as a GEOS geometry, or nil when GEOS cannot build it.
    public func geometry(_ g: Geometry) -> GEOSGeometry? {
        makeGeometry(g).map { GEOSGeometry(handle: $0, context: self) }
    }

    /// Builds a GEOS geometry the caller owns (destroy with GEOSGeom_destroy_r), or nil on failure.
    func makeGeometry(_ g: Geometry) -> OpaquePointer? {
        switch g {
        case .polygon(let rings): return polygon(rings)
        case .multiPolygon(let polys): return collection(GEOS_MULTIPOLYGON, polys.map { .polygon($0) })
        case .point(let p):
            return GEOSGeom_createPointFromXY_r(handle, p.lon, p.lat)
        case .multiPoint(let ps): return collection(GEOS_MULTIPOINT, ps.map { .point($0) })
        case .lineString(let ps):
            return sequence(ps).flatMap { GEOSGeom_createLineString_r(handle, $0) }
        case .multiLineString(let lines): return collection(GEOS_MULTILINESTRING, lines.map { .lineString($0) })
        }
    }

    /// A multi geometry of `type` from `parts`, or nil (and nothing leaked) when a part cannot be built.
    private func collection(_ type: GEOSGeomTypes, _ parts: [Geometry]) -> OpaquePointer? {
        var made: [OpaquePointer?] = []
        for part in parts {
            guard let g = makeGeometry(part) else {
                made.forEach { GEOSGeom_destroy_r(handle, $0) }
                return nil
            }
            made.append(g)
        }
        // Takes ownership of the parts on success.
        return made.withUnsafeMutableBufferPointer {
            GEOSGeom_createCollection_r(handle, Int32(type.rawValue), $0.baseAddress, UInt32($0.count))
        }
    }

    /// The DE-9IM named predicates of OGC Simple Features, as CQL2's spatial functions name them.
    public enum Predicate: String, Sendable, CaseIterable {
        case intersects, equals, disjoint, touches, within, overlaps, crosses, contains
    }

    /// Whether `a` and `b` stand in `predicate`; nil when GEOS cannot decide (an exception, or a geometry it
    /// cannot build). Each GEOS predicate returns 1 true, 0 false, 2 on exception.
    public func holds(_ predicate: Predicate, _ a: GEOSGeometry, _ b: GEOSGeometry) -> Bool? {
        let r: CChar
        switch predicate {
        case .intersects: r = GEOSIntersects_r(handle, a.handle, b.handle)
        case .equals: r = GEOSEquals_r(handle, a.handle, b.handle)
        case .disjoint: r = GEOSDisjoint_r(handle, a.handle, b.handle)
        case .touches: r = GEOSTouches_r(handle, a.handle, b.handle)
        case .within: r = GEOSWithin_r(handle, a.handle, b.handle)
        case .overlaps: r = GEOSOverlaps_r(handle, a.handle, b.handle)
        case .crosses: r = GEOSCrosses_r(handle, a.handle, b.handle)
        case .contains: r = GEOSContains_r(handle, a.handle, b.handle)
        }
        return r == 2 ? nil : r == 1
    }

    private func sequence(_ ps: [Position]) -> OpaquePointer? {
        // Position is two doubles, laid out as GEOS's XY buffer expects.
        ps.withUnsafeBytes { raw in
            GEOSCoordSeq_copyFromBuffer_r(handle, raw.bindMemory(to: Double.self).baseAddress, UInt32(ps.count), 0, 0)
        }
    }

    private func polygon(_ rings: PolygonRings) -> OpaquePointer? {
        var made: [OpaquePointer?] = []
        for r in rings {
            guard let seq = sequence(r), let ring = GEOSGeom_createLinearRing_r(handle, seq) else {
                made.forEach { GEOSGeom_destroy_r(handle, $0) }
                return nil
            }
            made.append(ring)
        }
        guard let shell = made.first ?? nil else { return nil }
        var holes = Array(made.dropFirst())
        // Takes ownership of shell and holes.
        return holes.withUnsafeMutableBufferPointer {
            GEOSGeom_createPolygon_r(handle, shell, $0.baseAddress, UInt32($0.count))
        }
    }
}

/// A GEOS geometry owned by Swift, destroyed in deinit. It keeps its context alive, and like the context
/// belongs to one thread.
public final class GEOSGeometry {
    let handle: OpaquePointer
    let context: GEOSContext

    init(handle: OpaquePointer, context: GEOSContext) {
        self.handle = handle
        self.context = context
    }

    deinit { GEOSGeom_destroy_r(context.handle, handle) }
}

extension GEOSContext {
    /// `g` made valid by GEOS (MakeValid, structure-preserving), keeping only its polygonal parts; nil when
    /// it was valid already or GEOS could not repair it.
    public func polygonalRepair(_ g: Geometry) -> [PolygonRings]? {
        guard let geom = geometry(g), GEOSisValid_r(handle, geom.handle) == 0, let fixed = GEOSMakeValid_r(handle, geom.handle) else { return nil }
        defer { GEOSGeom_destroy_r(handle, fixed) }
        var out: [PolygonRings] = []
        collectPolygons(fixed, into: &out)
        return out
    }

    func collectPolygons(_ g: OpaquePointer, into out: inout [PolygonRings]) {
        let type = GEOSGeomTypeId_r(handle, g)
        if type == Int32(GEOS_POLYGON.rawValue) {
            guard let shell = GEOSGetExteriorRing_r(handle, g) else { return }
            var rings = [positions(shell)]
            for i in 0..<max(0, GEOSGetNumInteriorRings_r(handle, g)) {
                if let hole = GEOSGetInteriorRingN_r(handle, g, i) { rings.append(positions(hole)) }
            }
            out.append(rings)
        } else if type == Int32(GEOS_MULTIPOLYGON.rawValue) || type == Int32(GEOS_GEOMETRYCOLLECTION.rawValue) {
            for i in 0..<max(0, GEOSGetNumGeometries_r(handle, g)) {
                if let part = GEOSGetGeometryN_r(handle, g, i) { collectPolygons(part, into: &out) }
            }
        }
    }

    private func positions(_ ring: OpaquePointer) -> Ring {
        guard let seq = GEOSGeom_getCoordSeq_r(handle, ring) else { return [] }
        var size: UInt32 = 0
        GEOSCoordSeq_getSize_r(handle, seq, &size)
        var out: Ring = []
        out.reserveCapacity(Int(size))
        for i in 0..<size {
            var x = 0.0, y = 0.0
            GEOSCoordSeq_getXY_r(handle, seq, i, &x, &y)
            out.append(Position(x, y))
        }
        return out
    }
}
