import CGEOS

/// GEOS's overlay operations on polygonal geometries, for checking boundary plans: each takes and gives
/// `GEOSGeometry` (owned by Swift), nil when GEOS raises an exception. Work in a planar frame (metres) so
/// that areas, widths and buffers mean what they say; `LocalFrame` converts.
extension GEOSContext {
    private func wrap(_ g: OpaquePointer?) -> GEOSGeometry? { g.map { GEOSGeometry(handle: $0, context: self) } }

    public func intersection(_ a: GEOSGeometry, _ b: GEOSGeometry) -> GEOSGeometry? { wrap(GEOSIntersection_r(handle, a.handle, b.handle)) }
    public func difference(_ a: GEOSGeometry, _ b: GEOSGeometry) -> GEOSGeometry? { wrap(GEOSDifference_r(handle, a.handle, b.handle)) }

    /// The union of all of `parts` (GEOS's cascaded unary union of their collection).
    public func union(_ parts: [Geometry]) -> GEOSGeometry? {
        guard !parts.isEmpty, let all = makeGeometry(.multiPolygon(parts.flatMap(\.polygons))) else { return nil }
        defer { GEOSGeom_destroy_r(handle, all) }
        return wrap(GEOSUnaryUnion_r(handle, all))
    }

    /// `g` grown (or, with a negative distance, shrunk) by `distance`, with round joins.
    public func buffer(_ g: GEOSGeometry, _ distance: Double) -> GEOSGeometry? { wrap(GEOSBuffer_r(handle, g.handle, distance, 8)) }

    /// `g` grown or shrunk by `distance` with mitred joins (limit 5): the corners stay corners, so a shrink and
    /// a grow of a shape with nothing narrow give the shape back, without the arcs (and vertices) round joins add.
    public func mitredBuffer(_ g: GEOSGeometry, _ distance: Double) -> GEOSGeometry? {
        wrap(GEOSBufferWithStyle_r(handle, g.handle, distance, 1, Int32(GEOSBUF_CAP_FLAT.rawValue), Int32(GEOSBUF_JOIN_MITRE.rawValue), 5))
    }

    /// A geometry prepared for repeated containment tests (GEOS builds its edge index once).
    public func prepare(_ g: GEOSGeometry) -> GEOSPrepared? {
        GEOSPrepare_r(handle, g.handle).map { GEOSPrepared(handle: $0, base: g, context: self) }
    }

    /// Whether `g` lies in the prepared geometry's interior, touching its boundary nowhere.
    public func containsProperly(_ p: GEOSPrepared, _ g: GEOSGeometry) -> Bool { GEOSPreparedContainsProperly_r(handle, p.handle, g.handle) == 1 }

    /// Whether every point of `g` lies in the prepared geometry (its boundary included).
    public func covers(_ p: GEOSPrepared, _ g: GEOSGeometry) -> Bool { GEOSPreparedCovers_r(handle, p.handle, g.handle) == 1 }

    public func area(_ g: GEOSGeometry) -> Double {
        var a = 0.0
        return GEOSArea_r(handle, g.handle, &a) == 1 ? a : 0
    }

    public func length(_ g: GEOSGeometry) -> Double {
        var l = 0.0
        return GEOSLength_r(handle, g.handle, &l) == 1 ? l : 0
    }

    public func isEmpty(_ g: GEOSGeometry) -> Bool { GEOSisEmpty_r(handle, g.handle) != 0 }

    /// The polygons of a (multi)polygon or collection result, each as its rings; lines and points of a
    /// collection are left out.
    public func polygons(_ g: GEOSGeometry) -> [PolygonRings] {
        var out: [PolygonRings] = []
        collectPolygons(g.handle, into: &out)
        return out
    }

    /// The boundary of a polygonal geometry (its rings as lines).
    public func boundary(_ g: GEOSGeometry) -> GEOSGeometry? { wrap(GEOSBoundary_r(handle, g.handle)) }

    /// The lines of a linear result, each as its positions.
    public func lines(_ g: GEOSGeometry) -> [[Position]] {
        var out: [[Position]] = []
        func collect(_ h: OpaquePointer) {
            let type = GEOSGeomTypeId_r(handle, h)
            if type == Int32(GEOS_LINESTRING.rawValue) || type == Int32(GEOS_LINEARRING.rawValue) {
                guard let seq = GEOSGeom_getCoordSeq_r(handle, h) else { return }
                var size: UInt32 = 0
                GEOSCoordSeq_getSize_r(handle, seq, &size)
                var line: [Position] = []
                for i in 0..<size {
                    var x = 0.0, y = 0.0
                    GEOSCoordSeq_getXY_r(handle, seq, i, &x, &y)
                    line.append(Position(x, y))
                }
                out.append(line)
            } else if type == Int32(GEOS_MULTILINESTRING.rawValue) || type == Int32(GEOS_GEOMETRYCOLLECTION.rawValue) {
                for i in 0..<max(0, GEOSGetNumGeometries_r(handle, h)) {
                    if let part = GEOSGetGeometryN_r(handle, h, i) { collect(part) }
                }
            }
        }
        collect(g.handle)
        return out
    }
}

extension Geometry {
    /// The polygons of a polygonal geometry (none for points and lines).
    public var polygons: [PolygonRings] {
        switch self {
        case .polygon(let rings): [rings]
        case .multiPolygon(let polys): polys
        default: []
        }
    }
}

/// A plane tangent to the ellipsoid at an origin, in metres east and north: for a community or a city
/// district (a few km) areas and lengths in it are within 0.1% of the ellipsoid's.
public struct LocalFrame: Sendable {
    public let origin: Position
    let scale: (lat: Double, lon: Double)

    public init(_ origin: Position) {
        self.origin = origin
        scale = Geodesy.metresPerDegree(atLatitude: origin.lat)
    }

    public func metres(_ p: Position) -> Position { Position((p.lon - origin.lon) * scale.lon, (p.lat - origin.lat) * scale.lat) }
    public func degrees(_ p: Position) -> Position { Position(origin.lon + p.lon / scale.lon, origin.lat + p.lat / scale.lat) }
    public func metres(_ g: Geometry) -> Geometry { g.mapPositions(metres) }
    public func degrees(_ g: Geometry) -> Geometry { g.mapPositions(degrees) }
}

/// A prepared geometry: its base is kept alive as long as it is.
public final class GEOSPrepared {
    let handle: OpaquePointer
    let base: GEOSGeometry
    let context: GEOSContext

    init(handle: OpaquePointer, base: GEOSGeometry, context: GEOSContext) {
        self.handle = handle
        self.base = base
        self.context = context
    }

    deinit { GEOSPreparedGeom_destroy_r(context.handle, handle) }
}
