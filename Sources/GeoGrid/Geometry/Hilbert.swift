/// The position of a point along a Hilbert curve over a 2^16 × 2^16 grid: sorting boxes by the key of
/// their centres puts neighbours in space next to each other, which keeps R-tree loads and tile reads local.
public enum Hilbert {
    public static func key(x: UInt32, y: UInt32, order: Int = 16) -> UInt64 {
        var x = x, y = y
        var d: UInt64 = 0
        var s: UInt32 = 1 << (order - 1)
        while s > 0 {
            let rx: UInt32 = (x & s) > 0 ? 1 : 0
            let ry: UInt32 = (y & s) > 0 ? 1 : 0
            d += UInt64(s) * UInt64(s) * UInt64((3 * rx) ^ ry)
            // Rotate the quadrant so the curve stays continuous.
            if ry == 0 {
                if rx == 1 {
                    x = s &- 1 &- x
                    y = s &- 1 &- y
                }
                swap(&x, &y)
            }
            s >>= 1
        }
        return d
    }

    /// The key of `p` within `extent`, on a 2^16 grid.
    public static func key(_ p: Position, in extent: BBox) -> UInt64 {
        let w = max(extent.maxX - extent.minX, .leastNormalMagnitude), h = max(extent.maxY - extent.minY, .leastNormalMagnitude)
        let gx = UInt32(min(max((p.lon - extent.minX) / w * 65535, 0), 65535))
        let gy = UInt32(min(max((p.lat - extent.minY) / h * 65535, 0), 65535))
        return key(x: gx, y: gy)
    }
}
