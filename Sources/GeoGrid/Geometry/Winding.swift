/// RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise. Parsers must not reject other
/// windings, so GeoGrid accepts either and stores the RFC form; the vector-tile encoder flips it for MVT.
extension Geometry {
    public var rfc7946Wound: Geometry {
        switch self {
        case .polygon(let rings): .polygon(Self.wind(rings))
        case .multiPolygon(let polys): .multiPolygon(polys.map(Self.wind))
        default: self
        }
    }

    private static func wind(_ rings: PolygonRings) -> PolygonRings {
        rings.enumerated().map { index, ring in
            let ccw = ring.signedArea2 > 0
            let wantCCW = index == 0
            return ccw == wantCCW ? ring : ring.reversed()
        }
    }
}
