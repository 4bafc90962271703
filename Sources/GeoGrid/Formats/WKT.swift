/// A reader for OGC Well-Known Text (Simple Features 1.2.1 §7) of the six geometry types GeoGrid
/// stores. EWKT's `SRID=n;` prefix is accepted (and returned); Z and M values are read and dropped.
public enum WKT {
    public static func parse(_ text: String) throws(FeatureProblem) -> (geometry: Geometry, srid: Int?) {
        var s = Scanner(Array(text.utf8))
        var srid: Int?
        if s.consumeWord("SRID") {
            guard s.consume(UInt8(ascii: "=")), let n = s.integer(), s.consume(UInt8(ascii: ";")) else {
                throw FeatureProblem("WKT: malformed SRID prefix")
            }
            srid = n
        }
        guard let word = s.word() else { throw FeatureProblem("WKT: expected a geometry type") }
        let known: Set<String> = ["POINT", "MULTIPOINT", "LINESTRING", "MULTILINESTRING", "POLYGON", "MULTIPOLYGON", "GEOMETRYCOLLECTION"]
        var base = word
        var dims = 2
        if !known.contains(word) {
            for suffix in ["ZM", "Z", "M"] where word.hasSuffix(suffix) && known.contains(String(word.dropLast(suffix.count))) {
                base = String(word.dropLast(suffix.count))
                dims = suffix == "ZM" ? 4 : 3
                break
            }
        } else if let next = s.peekWord(), ["Z", "M", "ZM"].contains(next) {
            _ = s.word()
            dims = next == "ZM" ? 4 : 3
        }
        let kind: GeometryKind
        switch base {
        case "POINT": kind = .point
        case "MULTIPOINT": kind = .multiPoint
        case "LINESTRING": kind = .lineString
        case "MULTILINESTRING": kind = .multiLineString
        case "POLYGON": kind = .polygon
        case "MULTIPOLYGON": kind = .multiPolygon
        case "GEOMETRYCOLLECTION": throw FeatureProblem("WKT: GEOMETRYCOLLECTION is not supported")
        default: throw FeatureProblem("WKT: unknown geometry type '\(word)'")
        }
        if s.consumeWord("EMPTY") { throw FeatureProblem("WKT: \(base) EMPTY has no coordinates") }
        let g: Geometry
        switch kind {
        case .point:
            try s.open()
            g = .point(try s.position(dims))
            try s.close()
        case .multiPoint:
            // Both MULTIPOINT (1 2, 3 4) and MULTIPOINT ((1 2), (3 4)) are in use.
            try s.open()
            var ps: [Position] = []
            repeat {
                if s.consume(UInt8(ascii: "(")) {
                    ps.append(try s.position(dims))
                    try s.close()
                } else {
                    ps.append(try s.position(dims))
                }
            } while s.consume(UInt8(ascii: ","))
            try s.close()
            g = .multiPoint(ps)
        case .lineString: g = .lineString(try s.positionList(dims))
        case .multiLineString: g = .multiLineString(try s.list { (s: inout Scanner) throws(FeatureProblem) in try s.positionList(dims) })
        case .polygon: g = .polygon(try s.list { (s: inout Scanner) throws(FeatureProblem) in try s.positionList(dims) })
        case .multiPolygon:
            g = .multiPolygon(
                try s.list { (s: inout Scanner) throws(FeatureProblem) in
                    try s.list { (s: inout Scanner) throws(FeatureProblem) in try s.positionList(dims) }
                })
        }
        s.skipSpace()
        guard s.atEnd else { throw FeatureProblem("WKT: unexpected text after the geometry") }
        return (g, srid)
    }

    struct Scanner {
        let b: [UInt8]
        var i = 0
        init(_ b: [UInt8]) { self.b = b }
        var atEnd: Bool { i >= b.count }

        mutating func skipSpace() { while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 } }

        mutating func consume(_ c: UInt8) -> Bool {
            skipSpace()
            if i < b.count, b[i] == c {
                i += 1
                return true
            }
            return false
        }

        mutating func open() throws(FeatureProblem) { guard consume(UInt8(ascii: "(")) else { throw FeatureProblem("WKT: expected '(' at character \(i + 1)") } }
        mutating func close() throws(FeatureProblem) { guard consume(UInt8(ascii: ")")) else { throw FeatureProblem("WKT: expected ')' at character \(i + 1)") } }

        mutating func word() -> String? {
            skipSpace()
            let start = i
            while i < b.count, (b[i] | 0x20) >= 97 && (b[i] | 0x20) <= 122 { i += 1 }
            return i > start ? String(decoding: b[start..<i], as: UTF8.self).uppercased() : nil
        }

        mutating func peekWord() -> String? {
            let save = i
            defer { i = save }
            return word()
        }

        mutating func consumeWord(_ w: String) -> Bool {
            if peekWord() == w {
                _ = word()
                return true
            }
            return false
        }

        mutating func integer() -> Int? {
            skipSpace()
            let start = i
            while i < b.count, b[i] >= 48 && b[i] <= 57 { i += 1 }
            return Int(String(decoding: b[start..<i], as: UTF8.self))
        }

        mutating func number() throws(FeatureProblem) -> Double {
            skipSpace()
            let start = i
            while i < b.count, (b[i] >= 48 && b[i] <= 57) || b[i] == 46 || b[i] == 45 || b[i] == 43 || b[i] == 101 || b[i] == 69 { i += 1 }
            let text = String(decoding: b[start..<i], as: UTF8.self)
            guard let d = Double(text) else {
                // Text such as NaN or inf: a clear message rather than a parse error later.
                if let w = word() { throw FeatureProblem("WKT: '\(w)' is not a coordinate") }
                throw FeatureProblem("WKT: expected a number at character \(start + 1)")
            }
            // 1e999 reads as infinity: no coordinate (found by fuzzing, Fuzz/Regressions/wkt).
            guard d.isFinite else { throw FeatureProblem("WKT: \(text) at character \(start + 1) is beyond any coordinate") }
            return d
        }

        mutating func position(_ dims: Int) throws(FeatureProblem) -> Position {
            let x = try number(), y = try number()
            for _ in 2..<max(dims, 2) { _ = try number() }
            return Position(x, y)
        }

        mutating func positionList(_ dims: Int) throws(FeatureProblem) -> [Position] {
            try open()
            var ps: [Position] = []
            repeat { ps.append(try position(dims)) } while consume(UInt8(ascii: ","))
            try close()
            return ps
        }

        mutating func list<T>(_ item: (inout Scanner) throws(FeatureProblem) -> T) throws(FeatureProblem) -> [T] {
            try open()
            var out: [T] = []
            repeat { out.append(try item(&self)) } while consume(UInt8(ascii: ","))
            try close()
            return out
        }
    }
}
