import Foundation

/// Where and why JSON text could not be read.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    public var offset: Int
    public var message: String
    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

/// A strict RFC 8259 parser over bytes. It is written for GeoJSON's shape (many small objects, long
/// arrays of numbers), is about an order of magnitude faster than JSONSerialization on Linux, and
/// exposes the low-level steps the streaming GeoJSON reader needs to walk a FeatureCollection one
/// feature at a time.
public struct JSONParser: ~Copyable {
    let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var offset: Int
    private let maxDepth = 256

    public init(_ bytes: UnsafeBufferPointer<UInt8>, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Parses one complete document: a value and nothing but white space after it.
    public static func parse(_ text: some Collection<UInt8>) throws -> JSONValue {
        let array = Array(text)
        return try array.withUnsafeBufferPointer { buf in
            var p = JSONParser(buf)
            let v = try p.parseValue()
            p.skipWhitespace()
            guard p.atEnd else { throw p.error("unexpected text after the value") }
            return v
        }
    }

    public static func parse(_ text: String) throws -> JSONValue { try parse(Array(text.utf8)) }

    public var atEnd: Bool { offset >= bytes.count }

    public func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(offset: offset, message: message) }

    @inline(__always) public mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// The next non-space byte, not consumed; nil at the end.
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return offset < bytes.count ? bytes[offset] : nil
    }

    /// Consumes `byte` after optional white space, or throws naming what was expected.
    public mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard peek() == byte else {
            throw error(atEnd ? "unexpected end, expected \(what)" : "expected \(what)")
        }
        offset += 1
    }

    /// Consumes `byte` if it is next.
    public mutating func consume(_ byte: UInt8) -> Bool {
        if peek() == byte {
            offset += 1
            return true
        }
        return false
    }

    public mutating func parseValue() throws -> JSONValue { try parseValue(depth: 0) }

    private mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        guard let c = peek() else { throw error("unexpected end, expected a value") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(Character(Unicode.Scalar(c)))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard offset + n <= bytes.count else { throw error("unexpected end in a literal") }
        let w = word.utf8Start
        for i in 0..<n where bytes[offset + i] != w[i] { throw error("invalid literal") }
        offset += n
    }

    private mutating func parseObject(depth: Int) throws -> JSONValue {
        offset += 1  // {
        var members: [(String, JSONValue)] = []
        if consume(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try parseString()
            try expect(UInt8(ascii: ":"), "':'")
            members.append((key, try parseValue(depth: depth + 1)))
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"), "',' or '}'")
        return .object(members)
    }

    private mutating func parseArray(depth: Int) throws -> JSONValue {
        offset += 1  // [
        if consume(UInt8(ascii: "]")) { return .array([]) }
        // Packed fast path: arrays of numbers (GeoJSON positions).
        if let c = peek(), c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) {
            var numbers: [Double] = []
            numbers.reserveCapacity(2)
            repeat {
                guard let c = peek() else { throw error("unexpected end in an array") }
                guard c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) else {
                    // Mixed array: continue generically with what was read so far.
                    var items = numbers.map(JSONValue.number)
                    items.append(try parseValue(depth: depth + 1))
                    while consume(UInt8(ascii: ",")) { items.append(try parseValue(depth: depth + 1)) }
                    try expect(UInt8(ascii: "]"), "',' or ']'")
                    return .array(items)
                }
                numbers.append(try parseNumber())
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"), "',' or ']'")
            return .numbers(numbers)
        }
        var items: [JSONValue] = []
        repeat { items.append(try parseValue(depth: depth + 1)) } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"), "',' or ']'")
        return .array(items)
    }

    public mutating func parseString() throws -> String {
        offset += 1  // opening quote
        let start = offset
        // Fast path: no escapes.
        while offset < bytes.count {
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
                offset += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("control character in a string") }
            offset += 1
        }
        var out = Array(bytes[start..<offset])
        while offset < bytes.count {
            let b = bytes[offset]
            offset += 1
            switch b {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { break }
                let e = bytes[offset]
                offset += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                            bytes[offset + 1] == UInt8(ascii: "u")
                        else { throw error("unpaired surrogate in a string") }
                        offset += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired surrogate in a string")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default: throw error("invalid escape in a string")
                }
            default:
                if b < 0x20 { throw error("control character in a string") }
                out.append(b)
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[offset]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | d
            offset += 1
        }
        return v
    }

    private static let exactPowers: [Double] = (0...22).map { pow(10.0, Double($0)) }

    /// Numbers per RFC 8259 §6. Up to 15 significant digits and a decimal exponent within ±22 are
    /// converted exactly with one multiplication or division (both operands are exact doubles, so the
    /// result is correctly rounded); anything else goes to strtod.
    public mutating func parseNumber() throws -> Double {
        let start = offset
        var negative = false
        if bytes[offset] == UInt8(ascii: "-") {
            negative = true
            offset += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        guard offset < bytes.count, isDigit(bytes[offset]) else { throw error("invalid number") }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
            if offset < bytes.count, isDigit(bytes[offset]) { throw error("leading zero in a number") }
        } else {
            while offset < bytes.count, isDigit(bytes[offset]) {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[offset] - 48) } else { exponent += 1 }
                if mantissa != 0 { digits += 1 }
                offset += 1
            }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard offset < bytes.count, isDigit(bytes[offset]) else { throw error("invalid number") }
            while offset < bytes.count, isDigit(bytes[offset]) {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[offset] - 48)
                    exponent -= 1
                    if mantissa != 0 { digits += 1 }
                }
                offset += 1
            }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            var expNegative = false
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") {
                expNegative = bytes[offset] == UInt8(ascii: "-")
                offset += 1
            }
            guard offset < bytes.count, isDigit(bytes[offset]) else { throw error("invalid number exponent") }
            var e = 0
            while offset < bytes.count, isDigit(bytes[offset]) {
                if e < 100_000 { e = e * 10 + Int(bytes[offset] - 48) }
                offset += 1
            }
            exponent += expNegative ? -e : e
        }
        if digits <= 15 && exponent >= -22 && exponent <= 22 {
            var v = Double(mantissa)
            v = exponent < 0 ? v / Self.exactPowers[-exponent] : v * Self.exactPowers[exponent]
            return negative ? -v : v
        }
        var token = Array(bytes[start..<offset])
        token.append(0)
        let v = token.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { strtod($0, nil) }
        }
        guard v.isFinite else { throw JSONSyntaxError(offset: start, message: "number out of range") }
        return v
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
}
