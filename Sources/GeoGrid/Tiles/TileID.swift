import Foundation

/// A tile of the Web Mercator tiling (EPSG:3857, XYZ numbering: y grows southward), as web maps ask for it.
public struct TileID: Hashable, Sendable, CustomStringConvertible {
    public let z: Int, x: Int, y: Int
    public static let maxZoom = 24

    /// nil unless 0 ≤ z ≤ 24 and x, y lie within the 2^z tiles of that zoom.
    public init?(z: Int, x: Int, y: Int) {
        guard (0...Self.maxZoom).contains(z), x >= 0, y >= 0, x < 1 << z, y < 1 << z else { return nil }
        self.z = z
        self.x = x
        self.y = y
    }

    public var description: String { "\(z)/\(x)/\(y)" }

    /// The tile's bounds in longitude and latitude, widened by `buffer` of `extent` units on each side.
    public func bounds(buffer: Double = 0, extent: Double = 4096) -> BBox {
        let n = Double(1 << z)
        let b = buffer / extent
        func lon(_ tx: Double) -> Double { tx / n * 360 - 180 }
        func lat(_ ty: Double) -> Double { atan(sinh(.pi * (1 - 2 * ty / n))) * 180 / .pi }
        return BBox(minX: max(-180, lon(Double(x) - b)), minY: max(-85.051_128_78, lat(Double(y + 1) + b)),
            maxX: min(180, lon(Double(x + 1) + b)), maxY: min(85.051_128_78, lat(Double(y) - b)))
    }

    /// Web Mercator x and y of a position as fractions of the world (0…1 west to east, north to south).
    @inline(__always) public static func worldFraction(_ p: Position) -> (x: Double, y: Double) {
        let lat = min(85.051_128_78, max(-85.051_128_78, p.lat)) * .pi / 180
        return ((p.lon + 180) / 360, (1 - log(tan(lat) + 1 / cos(lat)) / .pi) / 2)
    }
}
