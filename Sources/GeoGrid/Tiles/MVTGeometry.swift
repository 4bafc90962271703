/// A geometry in integer tile coordinates, ready for MVT's command encoding.
public enum MVTGeometry: Sendable, Equatable {
    case points([SIMD2<Int32>])
    /// Line parts, each of at least two distinct consecutive points.
    case lines([[SIMD2<Int32>]])
    /// Polygons, each an exterior ring (positive area in tile coordinates, y down) and its holes (negative);
    /// rings are not closed by a repeated point (ClosePath does that).
    case polygons([[[SIMD2<Int32>]]])

    /// MVT 2.1 commands: MoveTo (1), LineTo (2), ClosePath (7), each `id | count << 3`, then zig-zag deltas.
    /// nil for an empty geometry.
    func commands() -> (MVTLayer.GeomType, [UInt32])? {
        var out: [UInt32] = []
        var cursor = SIMD2<Int32>(0, 0)
        func command(_ id: UInt32, _ count: Int) { out.append(id | UInt32(count) << 3) }
        func move(to p: SIMD2<Int32>) {
            let d = p &- cursor
            out.append(Self.zigzag(d.x))
            out.append(Self.zigzag(d.y))
            cursor = p
        }
        switch self {
        case .points(let ps):
            guard !ps.isEmpty else { return nil }
            command(1, ps.count)
            for p in ps { move(to: p) }
            return (.point, out)
        case .lines(let parts):
            guard !parts.isEmpty else { return nil }
            for part in parts {
                command(1, 1)
                move(to: part[0])
                command(2, part.count - 1)
                for p in part.dropFirst() { move(to: p) }
            }
            return (.lineString, out)
        case .polygons(let polygons):
            guard !polygons.isEmpty else { return nil }
            for rings in polygons {
                for ring in rings {
                    command(1, 1)
                    move(to: ring[0])
                    command(2, ring.count - 1)
                    for p in ring.dropFirst() { move(to: p) }
                    command(7, 1)
                }
            }
            return (.polygon, out)
        }
    }

    @inline(__always) static func zigzag(_ v: Int32) -> UInt32 { UInt32(bitPattern: (v << 1) ^ (v >> 31)) }

    /// Twice the signed area of a ring by the surveyor's formula, in tile units (y down: positive is clockwise
    /// on screen, the spec's exterior).
    static func doubleArea(_ ring: [SIMD2<Int32>]) -> Int64 {
        var sum: Int64 = 0
        for i in ring.indices {
            let a = ring[i], b = ring[(i + 1) % ring.count]
            sum += Int64(a.x) * Int64(b.y) - Int64(b.x) * Int64(a.y)
        }
        return sum
    }
}
