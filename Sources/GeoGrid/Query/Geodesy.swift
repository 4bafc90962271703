import CSupport
import Foundation

/// Distances and bearings on the WGS84 ellipsoid.
///
/// Up to 40 km (every dispatch question) the distance comes from the straight 3D chord between the two
/// points (exact, from their ECEF coordinates) lengthened to the arc over the ellipsoid's normal-section radius
/// of curvature in the line's direction (Euler's formula): s = c + c³ / (24 R²). Measured against Karney's
/// algorithm (pyproj's Geod) over 20,000 random lines at every latitude up to ±80°: worst error 0.003 mm up to
/// 10 km and 0.67 mm at 50 km, hence the 40 km switch. Longer lines use Vincenty's inverse formula (accurate to
/// 0.5 mm; it may not converge for nearly antipodal points, when its last iterate is returned).
public enum Geodesy {
    public static let a = 6_378_137.0
    public static let f = 1 / 298.257_223_563
    public static let b = a * (1 - f)
    public static let e2 = f * (2 - f)
    public static let chordLimit = 40_000.0

    /// Earth-centred, earth-fixed coordinates (metres) of a point on the ellipsoid.
    public static func ecef(_ p: Position) -> SIMD3<Double> {
        let (sinLat, cosLat) = sinCos(p.lat * .pi / 180), (sinLon, cosLon) = sinCos(p.lon * .pi / 180)
        let n = a / (1 - e2 * sinLat * sinLat).squareRoot()
        return SIMD3(n * cosLat * cosLon, n * cosLat * sinLon, n * (1 - e2) * sinLat)
    }

    /// Sine and cosine of one angle in one call (sharing the argument reduction).
    @inline(__always) static func sinCos(_ x: Double) -> (sin: Double, cos: Double) {
        var s = 0.0, c = 0.0
        geogrid_sincos(x, &s, &c)
        return (s, c)
    }

    /// A query point with everything distances and bearings from it need, from one sine and cosine each of
    /// its latitude and longitude.
    public struct QueryPoint: Sendable {
        public let origin: Origin
        public let ecef: SIMD3<Double>
        public let frame: LocalFrame

        public init(_ p: Position) {
            let (sinLat, cosLat) = Geodesy.sinCos(p.lat * .pi / 180), (sinLon, cosLon) = Geodesy.sinCos(p.lon * .pi / 180)
            let n = a / (1 - e2 * sinLat * sinLat).squareRoot()
            ecef = SIMD3(n * cosLat * cosLon, n * cosLat * sinLon, n * (1 - e2) * sinLat)
            origin = Origin(position: p, sinLat: sinLat, cosLat: cosLat)
            frame = LocalFrame(sinLat: sinLat, cosLat: cosLat, sinLon: sinLon, cosLon: cosLon)
        }

        public var position: Position { origin.position }
    }

    /// The geodesic distance in metres.
    public static func distance(_ p: Position, _ q: Position) -> Double {
        distance(p, ecef(p), q, ecef(q))
    }

    /// The same, with the ECEF coordinates already known (the nearest-resource index keeps them).
    @inlinable public static func distance(_ p: Position, _ pe: SIMD3<Double>, _ q: Position, _ qe: SIMD3<Double>) -> Double {
        distance(from: Origin(p), pe, q, qe)
    }

    /// A point's trigonometry, computed once for many distances from it.
    public struct Origin: Sendable {
        public let position: Position
        public let sinLat: Double, cosLat: Double

        @inlinable public init(_ p: Position) {
            position = p
            let lat = p.lat * .pi / 180
            sinLat = sin(lat)
            cosLat = cos(lat)
        }

        init(position: Position, sinLat: Double, cosLat: Double) {
            self.position = position
            self.sinLat = sinLat
            self.cosLat = cosLat
        }
    }

    /// The geodesic distance from an origin; see the type's notes for the method and its accuracy.
    @inlinable public static func distance(from o: Origin, _ pe: SIMD3<Double>, _ q: Position, _ qe: SIMD3<Double>) -> Double {
        let d = qe - pe
        let c = (d * d).sum().squareRoot()
        if c > chordLimit { return vincenty(o.position, q).distance }
        // sin and cos of the mid-latitude from the origin's, by the angle-sum formulas with series for the
        // half difference (under 0.0032 rad within the chord limit, where the series are exact in doubles).
        let h = (q.lat - o.position.lat) * .pi / 360
        let h2 = h * h
        let sinH = h * (1 - h2 / 6 * (1 - h2 / 20)), cosH = 1 - h2 / 2 * (1 - h2 / 12)
        let sinMid = o.sinLat * cosH + o.cosLat * sinH
        let cosMid = o.cosLat * cosH - o.sinLat * sinH
        let w2 = 1 - e2 * sinMid * sinMid
        let w = w2.squareRoot()
        let m = a * (1 - e2) / (w2 * w)  // meridian radius of curvature
        let n = a / w  // prime vertical radius of curvature
        let dn = 2 * h * m
        let de = (q.lon - o.position.lon) * .pi / 180 * n * cosMid
        let hh = dn * dn + de * de
        guard hh > 0 else { return c }
        let inverseR = (dn * dn / hh) / m + (de * de / hh) / n
        return c + c * c * c * inverseR * inverseR / 24
    }

    /// The initial bearing from `p` to `q`, degrees clockwise from north in [0, 360): the direction of the
    /// chord seen in the local east-north plane at `p` (within arc-seconds of the geodesic's for city distances).
    public static func bearing(_ p: Position, _ q: Position) -> Double {
        LocalFrame(at: p).bearing(to: ecef(q) - ecef(p))
    }

    /// The east and north directions at a point, for bearings of many vectors from it.
    public struct LocalFrame: Sendable {
        let sinLat: Double, cosLat: Double, sinLon: Double, cosLon: Double

        public init(at p: Position) { self.init(Origin(p)) }

        init(sinLat: Double, cosLat: Double, sinLon: Double, cosLon: Double) {
            self.sinLat = sinLat
            self.cosLat = cosLat
            self.sinLon = sinLon
            self.cosLon = cosLon
        }

        public init(_ o: Origin) {
            let lon = o.position.lon * .pi / 180
            sinLat = o.sinLat
            cosLat = o.cosLat
            sinLon = sin(lon)
            cosLon = cos(lon)
        }

        /// Degrees clockwise from north of the ECEF vector `d` seen in the local east-north plane; 0 for none.
        public func bearing(to d: SIMD3<Double>) -> Double {
            let east = -sinLon * d.x + cosLon * d.y
            let north = -sinLat * cosLon * d.x - sinLat * sinLon * d.y + cosLat * d.z
            if east == 0 && north == 0 { return 0 }
            let deg = Geodesy.atan2Degrees(east, north)
            return deg < 0 ? deg + 360 : deg
        }
    }

    /// atan2(y, x) in degrees, within 1e-11° of libm's, at a quarter of its cost (a bearing per answer made it
    /// a tenth of a nearest query). The ratio is folded into [0, 1], then moved by a multiple of π/8 to
    /// |t| ≤ tan(π/16) ≈ 0.199 by the tangent subtraction formula, where the Taylor series to t¹⁹ leaves under
    /// 0.2²¹/21 ≈ 1e-16 rad.
    public static func atan2Degrees(_ y: Double, _ x: Double) -> Double {
        let ax = abs(x), ay = abs(y)
        let swap = ay > ax
        let r = swap ? ax / ay : ay / ax  // in [0, 1]
        // tan(kπ/8) for k = 0, 1, 2; boundaries at tan(π/16) and tan(3π/16).
        let k: Double, tk: Double
        if r <= 0.198_912_367_379_658 {
            (k, tk) = (0, 0)
        } else if r <= 0.668_178_637_919_298_9 {
            (k, tk) = (1, 0.414_213_562_373_095_03)
        } else {
            (k, tk) = (2, 1)
        }
        let t = (r - tk) / (1 + r * tk)
        let t2 = t * t
        var series = 1.0 / 19
        for n in stride(from: 17.0, through: 1, by: -2) { series = 1 / n - t2 * series }
        var angle = k * (.pi / 8) + t * series  // atan(r), in [0, π/4]
        if swap { angle = .pi / 2 - angle }
        if x < 0 { angle = .pi - angle }
        return (y < 0 ? -angle : angle) * (180 / .pi)
    }

    /// Vincenty's inverse formula (1975) on WGS84.
    public static func vincenty(_ p: Position, _ q: Position) -> (distance: Double, converged: Bool) {
        let l = (q.lon - p.lon) * .pi / 180
        let u1 = atan((1 - f) * tan(p.lat * .pi / 180)), u2 = atan((1 - f) * tan(q.lat * .pi / 180))
        let sinU1 = sin(u1), cosU1 = cos(u1), sinU2 = sin(u2), cosU2 = cos(u2)
        var lambda = l
        var sinSigma = 0.0, cosSigma = 0.0, sigma = 0.0, cos2Alpha = 0.0, cos2SigmaM = 0.0
        var converged = false
        for _ in 0..<200 {
            let sinLambda = sin(lambda), cosLambda = cos(lambda)
            let t1 = cosU2 * sinLambda, t2 = cosU1 * sinU2 - sinU1 * cosU2 * cosLambda
            sinSigma = (t1 * t1 + t2 * t2).squareRoot()
            if sinSigma == 0 { return (0, true) }  // coincident points
            cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda
            sigma = atan2(sinSigma, cosSigma)
            let sinAlpha = cosU1 * cosU2 * sinLambda / sinSigma
            cos2Alpha = 1 - sinAlpha * sinAlpha
            cos2SigmaM = cos2Alpha != 0 ? cosSigma - 2 * sinU1 * sinU2 / cos2Alpha : 0  // equatorial line
            let c = f / 16 * cos2Alpha * (4 + f * (4 - 3 * cos2Alpha))
            let previous = lambda
            lambda = l + (1 - c) * f * sinAlpha * (sigma + c * sinSigma * (cos2SigmaM + c * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)))
            if abs(lambda - previous) < 1e-12 {
                converged = true
                break
            }
        }
        let u2sq = cos2Alpha * (a * a - b * b) / (b * b)
        let bigA = 1 + u2sq / 16384 * (4096 + u2sq * (-768 + u2sq * (320 - 175 * u2sq)))
        let bigB = u2sq / 1024 * (256 + u2sq * (-128 + u2sq * (74 - 47 * u2sq)))
        let deltaSigma = bigB * sinSigma * (cos2SigmaM + bigB / 4 * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)
            - bigB / 6 * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)))
        return (b * bigA * (sigma - deltaSigma), converged)
    }

    /// Metres per degree of latitude and of longitude at a latitude (lower bounds over a cell use the
    /// smaller of the two ends).
    public static func metresPerDegree(atLatitude lat: Double) -> (lat: Double, lon: Double) {
        let phi = lat * .pi / 180
        let s = sin(phi)
        let w2 = 1 - e2 * s * s
        let w = w2.squareRoot()
        return (a * (1 - e2) / (w2 * w) * .pi / 180, a / w * cos(phi) * .pi / 180)
    }
}
