import CSupport
import Foundation

/// Distances and bearings on the WGS84 ellipsoid.
///
/// Up to 40 km (every dispatch question) the distance comes from the straight 3D chord between the two
/// points (exact, from their ECEF coordinates) lengthened to the arc over the ellipsoid's normal-section radius
/// of curvature in the line's direction at the first point (Euler's formula): s = c + c³ / (24 R²). Against
/// Karney's algorithm (pyproj's Geod) over 20,000 random lines at every latitude up to ±80° (`GeodesyTests`,
/// which holds it to these bounds): under 0.001 mm up to 10 km and 0.01 mm up to 40 km. Longer lines use
/// Vincenty's inverse formula (under 0.1 mm at 40–50 km in the same test; it may not converge for nearly
/// antipodal points, when its last iterate is returned).
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

    /// A point with everything distances and bearings from it need, from one sine and cosine each of its
    /// latitude and longitude: its ECEF coordinates, its local east and north directions, and the ellipsoid's
    /// radii of curvature there.
    public struct Origin: Sendable {
        public let position: Position
        public let ecef: SIMD3<Double>
        let sinLat: Double, cosLat: Double, sinLon: Double, cosLon: Double
        /// 1 / M and 1 / N: the meridian and prime-vertical radii of curvature, inverted.
        let inverseM: Double, inverseN: Double

        public init(_ p: Position) {
            position = p
            (sinLat, cosLat) = Geodesy.sinCos(p.lat * .pi / 180)
            (sinLon, cosLon) = Geodesy.sinCos(p.lon * .pi / 180)
            let w2 = 1 - e2 * sinLat * sinLat
            let w = w2.squareRoot()
            let n = a / w
            ecef = SIMD3(n * cosLat * cosLon, n * cosLat * sinLon, n * (1 - e2) * sinLat)
            inverseN = w / a
            inverseM = w2 * w / (a * (1 - e2))
        }

        /// The east and north components of the ECEF vector `d` in the plane tangent here.
        @inline(__always) func eastNorth(_ d: SIMD3<Double>) -> (east: Double, north: Double) {
            (-sinLon * d.x + cosLon * d.y, -sinLat * cosLon * d.x - sinLat * sinLon * d.y + cosLat * d.z)
        }

        /// The geodesic distance to the point at ECEF `qe` when it is within `chordLimit` (nil beyond):
        /// the chord lengthened by c³/(24R²), R the normal section's radius of curvature in the chord's
        /// direction as seen here (Euler: 1/R = cos²α/M + sin²α/N). Taking M, N and α here rather than at
        /// the line's middle changes the 6.6 cm term of a 40 km line by under 0.01 mm.
        @inline(__always) public func chordDistance(to qe: SIMD3<Double>) -> Double? {
            let d = qe - ecef
            let c2 = (d * d).sum()
            if c2 > chordLimit * chordLimit { return nil }
            let c = c2.squareRoot()
            let (east, north) = eastNorth(d)
            let hh = east * east + north * north
            guard hh > 0 else { return c }
            let inverseR = (north * north * inverseM + east * east * inverseN) / hh
            return c + c * c2 * inverseR * inverseR / 24
        }

        /// The geodesic distance in metres to `q`, whose ECEF coordinates are `qe`.
        @inline(__always) public func distance(to q: Position, _ qe: SIMD3<Double>) -> Double {
            chordDistance(to: qe) ?? vincenty(position, q).distance
        }

        /// Degrees clockwise from north of the ECEF vector `d` seen in the local east-north plane; 0 for none.
        public func bearing(to d: SIMD3<Double>) -> Double {
            let (east, north) = eastNorth(d)
            return Geodesy.bearing(east: east, north: north)
        }
    }

    /// The geodesic distance in metres.
    public static func distance(_ p: Position, _ q: Position) -> Double {
        Origin(p).distance(to: q, ecef(q))
    }

    /// The initial bearing from `p` to `q`, degrees clockwise from north in [0, 360): the direction of the
    /// chord seen in the local east-north plane at `p` (within arc-seconds of the geodesic's for city distances).
    public static func bearing(_ p: Position, _ q: Position) -> Double {
        let o = Origin(p)
        return o.bearing(to: ecef(q) - o.ecef)
    }

    /// Degrees clockwise from north, in [0, 360), of a direction given by its east and north parts; 0 for none.
    public static func bearing(east: Double, north: Double) -> Double {
        if east == 0 && north == 0 { return 0 }
        let deg = atan2Degrees(east, north)
        return deg < 0 ? deg + 360 : deg
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
        // Horner's rule, coefficients 1/19, 1/17, …, 1 folded at compile time (a loop dividing by n cost
        // ten divisions a call).
        var series = 1.0 / 19
        series = 1.0 / 17 - t2 * series
        series = 1.0 / 15 - t2 * series
        series = 1.0 / 13 - t2 * series
        series = 1.0 / 11 - t2 * series
        series = 1.0 / 9 - t2 * series
        series = 1.0 / 7 - t2 * series
        series = 1.0 / 5 - t2 * series
        series = 1.0 / 3 - t2 * series
        series = 1 - t2 * series
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
