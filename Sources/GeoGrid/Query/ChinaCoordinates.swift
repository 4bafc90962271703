import Foundation

/// The coordinate systems of Chinese web maps. GCJ-02 ("Mars coordinates", Amap, Tencent) is WGS84 with a
/// published obfuscating offset of up to a few hundred metres, applied inside China only; BD-09 (Baidu) is a
/// further transformation of GCJ-02. Forward conversions are closed formulas; inverses are found by
/// iterating the forward one until it reproduces the input to 1e-10° (about 0.01 mm).
public enum MapCRS: String, Sendable, CaseIterable {
    case wgs84, gcj02, bd09

    /// A point given in this system, in WGS84.
    public func toWGS84(_ p: Position) -> Position {
        switch self {
        case .wgs84: p
        case .gcj02: ChinaCoordinates.isInChina(p) ? ChinaCoordinates.gcjToWGS(p) : p
        case .bd09: ChinaCoordinates.isInChina(p) ? ChinaCoordinates.gcjToWGS(ChinaCoordinates.bdToGCJ(p)) : p
        }
    }

    /// A WGS84 point in this system.
    public func fromWGS84(_ p: Position) -> Position {
        switch self {
        case .wgs84: p
        case .gcj02: ChinaCoordinates.isInChina(p) ? ChinaCoordinates.wgsToGCJ(p) : p
        case .bd09: ChinaCoordinates.isInChina(p) ? ChinaCoordinates.gcjToBD(ChinaCoordinates.wgsToGCJ(p)) : p
        }
    }
}

public enum ChinaCoordinates {
    private static let outline = PolygonIndex(polygons: [ChinaOutline.rings])

    /// Inside the outline where GCJ-02 applies (Natural Earth 1:110m China with a sea margin: see
    /// scripts/make-china-outline.py); Manila, Seoul, Taipei and Hanoi are not, as a rectangle would have them.
    public static func isInChina(_ p: Position) -> Bool { outline.firstContaining(p) != nil }

    // The Krasovsky 1940 ellipsoid the GCJ-02 offset is defined on.
    private static let a = 6_378_245.0
    private static let ee = 0.006_693_421_622_965_943_23

    /// WGS84 → GCJ-02, wherever the point is (callers decide whether it is in China).
    public static func wgsToGCJ(_ p: Position) -> Position {
        let x = p.lon - 105, y = p.lat - 35
        var dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * abs(x).squareRoot()
        var dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * abs(x).squareRoot()
        let common = (20 * sin(6 * x * .pi) + 20 * sin(2 * x * .pi)) * 2 / 3
        dLat += common + (20 * sin(y * .pi) + 40 * sin(y / 3 * .pi)) * 2 / 3 + (160 * sin(y / 12 * .pi) + 320 * sin(y * .pi / 30)) * 2 / 3
        dLon += common + (20 * sin(x * .pi) + 40 * sin(x / 3 * .pi)) * 2 / 3 + (150 * sin(x / 12 * .pi) + 300 * sin(x / 30 * .pi)) * 2 / 3
        let radLat = p.lat / 180 * .pi
        var magic = sin(radLat)
        magic = 1 - ee * magic * magic
        let sqrtMagic = magic.squareRoot()
        dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sqrtMagic) * .pi)
        dLon = (dLon * 180) / (a / sqrtMagic * cos(radLat) * .pi)
        return Position(p.lon + dLon, p.lat + dLat)
    }

    /// GCJ-02 → WGS84 by fixed-point iteration on the forward formula.
    public static func gcjToWGS(_ g: Position) -> Position { invert(g, wgsToGCJ) }

    private static let xPi = Double.pi * 3000 / 180

    public static func gcjToBD(_ g: Position) -> Position {
        let x = g.lon, y = g.lat
        let z = (x * x + y * y).squareRoot() + 0.00002 * sin(y * xPi)
        let theta = atan2(y, x) + 0.000003 * cos(x * xPi)
        return Position(z * cos(theta) + 0.0065, z * sin(theta) + 0.006)
    }

    /// BD-09 → GCJ-02: Baidu's closed approximate inverse, refined by iterating the forward formula.
    public static func bdToGCJ(_ b: Position) -> Position { invert(b, gcjToBD) }

    /// The point whose image under `forward` is `target`, starting from `target` itself: each offset changes
    /// slowly with position, so subtracting the residual converges in a few steps.
    static func invert(_ target: Position, _ forward: (Position) -> Position) -> Position {
        var p = target
        for _ in 0..<30 {
            let image = forward(p)
            let dx = image.lon - target.lon, dy = image.lat - target.lat
            p = Position(p.lon - dx, p.lat - dy)
            if abs(dx) < 1e-10 && abs(dy) < 1e-10 { break }
        }
        return p
    }
}
