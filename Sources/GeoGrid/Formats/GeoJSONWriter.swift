/// Writes RFC 7946 text into a byte buffer. Coordinates are rounded to `precision` decimals (7 by
/// default: about 1 cm) and printed in the shortest form that reads back to the same double, so
/// there is never `%f` noise such as 24.935176600000001.
public struct GeoJSONWriter {
    public var precision: Int
    private let scale: Double

    public init(precision: Int = 7) {
        self.precision = precision
        var s = 1.0
        for _ in 0..<precision { s *= 10 }
        scale = s
    }

    public func coordinate(_ v: Double, into out: inout [UInt8]) {
        Self.number((v * scale).rounded() / scale, into: &out)
    }

    /// A JSON number: whole values without a fraction, others in Swift's shortest round-trip form.
    public static func number(_ v: Double, into out: inout [UInt8]) {
        if v == v.rounded(), abs(v) < 1e15 {
            out.append(contentsOf: String(Int64(v)).utf8)
        } else if v.isFinite {
            out.append(contentsOf: v.description.utf8)
        } else {
            out.append(contentsOf: "null".utf8)  // JSON has no NaN or infinity
        }
    }

    public static func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most text needs no escape: copied whole.
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0x0A: out.append(contentsOf: [92, 110])
            case 0x0D: out.append(contentsOf: [92, 114])
            case 0x09: out.append(contentsOf: [92, 116])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func value(_ v: JSONValue, into out: inout [UInt8]) {
        switch v {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): number(n, into: &out)
        case .string(let s): string(s, into: &out)
        case .numbers(let ns):
            out.append(UInt8(ascii: "["))
            for (i, n) in ns.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                number(n, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                value(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (k, item)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                string(k, into: &out)
                out.append(UInt8(ascii: ":"))
                value(item, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public func geometry(_ g: Geometry, into out: inout [UInt8]) {
        out.append(contentsOf: "{\"type\":\"".utf8)
        out.append(contentsOf: g.kind.rawValue.utf8)
        out.append(contentsOf: "\",\"coordinates\":".utf8)
        switch g {
        case .point(let p): position(p, into: &out)
        case .multiPoint(let ps), .lineString(let ps): positions(ps, into: &out)
        case .multiLineString(let ls): list(ls, into: &out) { positions($0, into: &$1) }
        case .polygon(let rs): list(rs, into: &out) { positions($0, into: &$1) }
        case .multiPolygon(let ps): list(ps, into: &out) { rs, o in list(rs, into: &o) { positions($0, into: &$1) } }
        }
        out.append(UInt8(ascii: "}"))
    }

    public func feature(_ f: Feature, into out: inout [UInt8]) {
        out.append(contentsOf: "{\"type\":\"Feature\"".utf8)
        switch f.id {
        case .int(let i)?: out.append(contentsOf: ",\"id\":\(i)".utf8)
        case .string(let s)?:
            out.append(contentsOf: ",\"id\":".utf8)
            Self.string(s, into: &out)
        case nil: break
        }
        out.append(contentsOf: ",\"geometry\":".utf8)
        geometry(f.geometry, into: &out)
        out.append(contentsOf: ",\"properties\":".utf8)
        Self.value(.object(f.properties), into: &out)
        out.append(UInt8(ascii: "}"))
    }

    private func position(_ p: Position, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        coordinate(p.lon, into: &out)
        out.append(UInt8(ascii: ","))
        coordinate(p.lat, into: &out)
        out.append(UInt8(ascii: "]"))
    }

    private func positions(_ ps: [Position], into out: inout [UInt8]) {
        list(ps, into: &out) { position($0, into: &$1) }
    }

    private func list<T>(_ items: [T], into out: inout [UInt8], _ each: (T, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            each(item, &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}
