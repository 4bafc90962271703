/// SpatiaLite's internal BLOB geometry format (SpatiaLite "BLOB-Geometry" documentation): a start
/// byte 0x00, an endianness byte, the SRID, the MBR as four doubles, 0x7C, the class type, the
/// coordinates, and an end byte 0xFE; collections mark each entity with 0x69. Written and read here
/// in pure Swift so loading and exporting need no SQL function call per row; only the uncompressed
/// XY classes (1–6) are handled, which are what GeoGrid and GDAL write.
public enum SpatiaLiteBlob {
    public struct DecodeError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func encode(_ g: Geometry, srid: Int32 = 4326) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + 16 * pointCount(g))
        let box = g.bbox ?? BBox(minX: 0, minY: 0, maxX: 0, maxY: 0)
        out.append(0x00)
        out.append(0x01)  // little endian
        put(&out, UInt32(bitPattern: srid))
        for v in [box.minX, box.minY, box.maxX, box.maxY] { put(&out, v) }
        out.append(0x7C)
        switch g {
        case .point(let p):
            put(&out, UInt32(1))
            put(&out, p)
        case .lineString(let ps):
            put(&out, UInt32(2))
            putLine(&out, ps)
        case .polygon(let rings):
            put(&out, UInt32(3))
            putPolygon(&out, rings)
        case .multiPoint(let ps):
            put(&out, UInt32(4))
            put(&out, UInt32(ps.count))
            for p in ps {
                out.append(0x69)
                put(&out, UInt32(1))
                put(&out, p)
            }
        case .multiLineString(let lines):
            put(&out, UInt32(5))
            put(&out, UInt32(lines.count))
            for l in lines {
                out.append(0x69)
                put(&out, UInt32(2))
                putLine(&out, l)
            }
        case .multiPolygon(let polys):
            put(&out, UInt32(6))
            put(&out, UInt32(polys.count))
            for rings in polys {
                out.append(0x69)
                put(&out, UInt32(3))
                putPolygon(&out, rings)
            }
        }
        out.append(0xFE)
        return out
    }

    private static func pointCount(_ g: Geometry) -> Int {
        var n = 0
        g.forEachPosition { _ in n += 1 }
        return n
    }

    @inline(__always) private static func put(_ out: inout [UInt8], _ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    @inline(__always) private static func put(_ out: inout [UInt8], _ v: Double) {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }

    @inline(__always) private static func put(_ out: inout [UInt8], _ p: Position) {
        put(&out, p.lon)
        put(&out, p.lat)
    }

    private static func putLine(_ out: inout [UInt8], _ ps: [Position]) {
        put(&out, UInt32(ps.count))
        for p in ps { put(&out, p) }
    }

    private static func putPolygon(_ out: inout [UInt8], _ rings: PolygonRings) {
        put(&out, UInt32(rings.count))
        for r in rings { putLine(&out, r) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> (geometry: Geometry, srid: Int32) {
        var r = Reader(bytes: bytes)
        guard bytes.count >= 44, bytes[0] == 0x00, bytes[38] == 0x7C, bytes[bytes.count - 1] == 0xFE,
            bytes[1] == 0x01 || bytes[1] == 0x00
        else { throw DecodeError(description: "not a SpatiaLite geometry BLOB") }
        r.little = bytes[1] == 0x01
        r.at = 2
        let srid = Int32(bitPattern: try r.u32())
        r.at = 39
        let type = try r.u32()
        let g: Geometry
        switch type {
        case 1: g = .point(try r.position())
        case 2: g = .lineString(try r.line())
        case 3: g = .polygon(try r.polygon())
        case 4: g = .multiPoint(try r.entities(1) { (r: inout Reader) throws(DecodeError) in try r.position() })
        case 5: g = .multiLineString(try r.entities(2) { (r: inout Reader) throws(DecodeError) in try r.line() })
        case 6: g = .multiPolygon(try r.entities(3) { (r: inout Reader) throws(DecodeError) in try r.polygon() })
        default: throw DecodeError(description: "SpatiaLite geometry class \(type) (Z, M, compressed or collection) is not supported")
        }
        guard r.at == bytes.count - 1 else { throw DecodeError(description: "trailing bytes in a SpatiaLite geometry BLOB") }
        return (g, srid)
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 0
        var little = true

        mutating func u32() throws(DecodeError) -> UInt32 {
            guard at + 4 <= bytes.count else { throw DecodeError(description: "truncated SpatiaLite geometry BLOB") }
            let v = bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)
            at += 4
            return little ? UInt32(littleEndian: v) : UInt32(bigEndian: v)
        }

        mutating func double() throws(DecodeError) -> Double {
            guard at + 8 <= bytes.count else { throw DecodeError(description: "truncated SpatiaLite geometry BLOB") }
            let v = bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)
            at += 8
            return Double(bitPattern: little ? UInt64(littleEndian: v) : UInt64(bigEndian: v))
        }

        mutating func position() throws(DecodeError) -> Position {
            let x = try double(), y = try double()
            // NaN or infinity is no coordinate (found by fuzzing, Fuzz/Regressions/spatialite-blob).
            guard x.isFinite, y.isFinite else { throw DecodeError(description: "a SpatiaLite geometry BLOB with a coordinate that is not a number") }
            return Position(x, y)
        }

        mutating func count(_ size: Int) throws(DecodeError) -> Int {
            let n = Int(try u32())
            guard n * size <= bytes.count - at else { throw DecodeError(description: "corrupt count in a SpatiaLite geometry BLOB") }
            return n
        }

        mutating func line() throws(DecodeError) -> [Position] {
            let n = try count(16)
            var ps: [Position] = []
            ps.reserveCapacity(n)
            for _ in 0..<n { ps.append(try position()) }
            return ps
        }

        mutating func polygon() throws(DecodeError) -> PolygonRings {
            let n = try count(4)
            var rings: PolygonRings = []
            for _ in 0..<n { rings.append(try line()) }
            return rings
        }

        mutating func entities<T>(_ type: UInt32, _ item: (inout Reader) throws(DecodeError) -> T) throws(DecodeError) -> [T] {
            let n = try count(5)
            var out: [T] = []
            for _ in 0..<n {
                guard at < bytes.count, bytes[at] == 0x69 else { throw DecodeError(description: "missing entity marker in a SpatiaLite geometry BLOB") }
                at += 1
                guard try u32() == type else { throw DecodeError(description: "mixed entity types in a SpatiaLite geometry BLOB") }
                out.append(try item(&self))
            }
            return out
        }
    }
}
