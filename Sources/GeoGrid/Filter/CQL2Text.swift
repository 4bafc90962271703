/// Reads cql2-text (OGC 21-065 §8, its BNF): basic CQL2 (comparisons, AND/OR/NOT, IS NULL), advanced
/// comparison (LIKE, BETWEEN, IN), the eight spatial functions with WKT and BBOX literals, and the temporal
/// functions with DATE, TIMESTAMP and INTERVAL literals. Keywords are case-insensitive; property names are
/// identifiers or double-quoted.
public struct CQL2TextParser {
    let text: [UInt8]
    var i = 0

    public static func parse(_ text: String) throws -> CQL2 {
        var p = CQL2TextParser(text: Array(text.utf8))
        let e = try p.orExpression()
        p.skipSpace()
        guard p.i == p.text.count else { throw p.error("unexpected text") }
        return e
    }

    func error(_ what: String) -> CQL2Error {
        let near = String(decoding: text[min(i, text.count)..<min(text.count, i + 24)], as: UTF8.self)
        return CQL2Error("filter: \(what) at character \(i + 1)\(near.isEmpty ? " (the end)" : " (near '\(near)')")")
    }

    mutating func skipSpace() { while i < text.count, text[i] == 32 || text[i] == 9 || text[i] == 10 || text[i] == 13 { i += 1 } }

    /// The next word (letters, digits, `_`, `.`, `:`), upper-cased, without consuming it.
    mutating func peekWord() -> String? {
        skipSpace()
        var j = i
        while j < text.count, Self.isWordByte(text[j]) { j += 1 }
        guard j > i, !(text[i] >= 48 && text[i] <= 57) else { return nil }
        // Keywords are ASCII: only a–z are raised, so the word keeps its length in bytes (a property named in
        // another script, where uppercasing may change the length, is then skipped by exactly its bytes).
        return String(decoding: text[i..<j].map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self)
    }

    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 95 || b == 46 || b == 58 || b >= 128
    }

    mutating func keyword(_ k: String) -> Bool {
        guard peekWord() == k else { return false }
        i += k.utf8.count
        return true
    }

    mutating func symbol(_ s: String) -> Bool {
        skipSpace()
        let b = Array(s.utf8)
        guard i + b.count <= text.count, Array(text[i..<(i + b.count)]) == b else { return false }
        i += b.count
        return true
    }

    mutating func expect(_ s: String) throws {
        guard symbol(s) else { throw error("expected '\(s)'") }
    }

    mutating func orExpression() throws -> CQL2 {
        var parts = [try andExpression()]
        while keyword("OR") { parts.append(try andExpression()) }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    mutating func andExpression() throws -> CQL2 {
        var parts = [try notExpression()]
        while keyword("AND") { parts.append(try notExpression()) }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    mutating func notExpression() throws -> CQL2 {
        if keyword("NOT") { return .not(try notExpression()) }
        return try primary()
    }

    mutating func primary() throws -> CQL2 {
        skipSpace()
        let save = i
        if symbol("(") {
            // A parenthesised boolean expression (a parenthesised scalar cannot start a predicate here).
            let e = try orExpression()
            try expect(")")
            return e
        }
        if let w = peekWord() {
            if w.hasPrefix("S_"), let op = CQL2.Spatial(rawValue: String(w.dropFirst(2)).lowercased()) {
                i += w.utf8.count
                let (a, b) = try arguments()
                return .spatial(op, a, b)
            }
            if w.hasPrefix("T_"), let op = CQL2.Temporal(rawValue: String(w.dropFirst(2)).lowercased()) {
                i += w.utf8.count
                let (a, b) = try arguments()
                return .temporal(op, a, b)
            }
            if w == "TRUE" || w == "FALSE" {
                // A bare boolean literal, unless a comparison follows it.
                i += w.utf8.count
                skipSpace()
                if i >= text.count || text[i] == 41 || peekWord() == "AND" || peekWord() == "OR" { return .literal(w == "TRUE") }
                i = save
            }
        }
        let lhs = try scalar()
        if keyword("IS") {
            let negated = keyword("NOT")
            guard keyword("NULL") else { throw error("expected NULL") }
            return negated ? .not(.isNull(lhs)) : .isNull(lhs)
        }
        let negated = keyword("NOT")
        if keyword("LIKE") {
            guard case .string(let pattern) = try scalar() else { throw error("LIKE takes a string pattern") }
            return negated ? .not(.like(lhs, pattern)) : .like(lhs, pattern)
        }
        if keyword("BETWEEN") {
            let lo = try scalar()
            guard keyword("AND") else { throw error("expected AND in BETWEEN") }
            let hi = try scalar()
            return negated ? .not(.between(lhs, lo, hi)) : .between(lhs, lo, hi)
        }
        if keyword("IN") {
            try expect("(")
            var list = [try scalar()]
            while symbol(",") { list.append(try scalar()) }
            try expect(")")
            return negated ? .not(.inList(lhs, list)) : .inList(lhs, list)
        }
        if negated { throw error("expected LIKE, BETWEEN or IN after NOT") }
        for op in [CQL2.Comparison.le, .ge, .ne, .eq, .lt, .gt] where symbol(op.rawValue) {
            return .compare(op, lhs, try scalar())
        }
        throw error("expected a comparison (=, <>, <, >, <=, >=, LIKE, BETWEEN, IN, IS NULL)")
    }

    mutating func arguments() throws -> (CQL2.Operand, CQL2.Operand) {
        try expect("(")
        let a = try scalar()
        try expect(",")
        let b = try scalar()
        try expect(")")
        return (a, b)
    }

    /// A property, a string, a number, a boolean, a geometry (WKT or BBOX), a DATE, TIMESTAMP or INTERVAL.
    mutating func scalar() throws -> CQL2.Operand {
        skipSpace()
        guard i < text.count else { throw error("expected a value") }
        let c = text[i]
        if c == 39 { return .string(try quoted(39)) }
        if c == 34 { return .property(try quoted(34)) }
        if c == 45 || c == 43 || (c >= 48 && c <= 57) || c == 46 { return .number(try number()) }
        guard let w = peekWord() else { throw error("expected a value") }
        switch w {
        case "TRUE", "FALSE":
            i += w.utf8.count
            return .bool(w == "TRUE")
        case "DATE", "TIMESTAMP":
            i += w.utf8.count
            try expect("(")
            let t = try instant(try quoted(39), date: w == "DATE")
            try expect(")")
            return t
        case "INTERVAL":
            i += w.utf8.count
            try expect("(")
            let a = try intervalEnd(start: true)
            try expect(",")
            let b = try intervalEnd(start: false)
            try expect(")")
            return .time(lo: a, hi: b)
        case "BBOX":
            i += w.utf8.count
            try expect("(")
            var n = [try number()]
            while symbol(",") { n.append(try number()) }
            try expect(")")
            // 2D: minx, miny, maxx, maxy; 3D boxes give minz and maxz too, which are dropped.
            guard n.count == 4 || n.count == 6 else { throw error("BBOX takes 4 (or 6) numbers") }
            let b = n.count == 4 ? BBox(minX: n[0], minY: n[1], maxX: n[2], maxY: n[3]) : BBox(minX: n[0], minY: n[1], maxX: n[3], maxY: n[4])
            guard b.minY <= b.maxY else { throw error("BBOX has its south above its north") }
            return .bbox(b)
        case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON":
            // The WKT reader takes the literal up to its closing parenthesis.
            let start = i
            i += w.utf8.count
            skipSpace()
            guard i < text.count, text[i] == 40 else { throw error("expected '(' after \(w)") }
            var depth = 0
            repeat {
                if text[i] == 40 { depth += 1 } else if text[i] == 41 { depth -= 1 }
                i += 1
            } while depth > 0 && i < text.count
            guard depth == 0 else { throw error("unclosed \(w)") }
            let g: Geometry
            do { g = try WKT.parse(String(decoding: text[start..<i], as: UTF8.self)).geometry } catch { throw CQL2Error("filter: \(w) literal: \(error)") }
            return .geometry(g)
        default:
            i += w.utf8.count
            return .property(String(decoding: text[(i - w.utf8.count)..<i], as: UTF8.self))
        }
    }

    mutating func quoted(_ q: UInt8) throws -> String {
        i += 1
        var out: [UInt8] = []
        while i < text.count {
            if text[i] == q {
                if i + 1 < text.count, text[i + 1] == q {
                    out.append(q)
                    i += 2
                    continue
                }
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            out.append(text[i])
            i += 1
        }
        throw error("unclosed quote")
    }

    mutating func number() throws -> Double {
        skipSpace()
        let start = i
        if i < text.count, text[i] == 45 || text[i] == 43 { i += 1 }
        while i < text.count, (text[i] >= 48 && text[i] <= 57) || text[i] == 46 || text[i] == 101 || text[i] == 69
            || ((text[i] == 45 || text[i] == 43) && (text[i - 1] == 101 || text[i - 1] == 69))
        { i += 1 }
        guard let d = Double(String(decoding: text[start..<i], as: UTF8.self)), d.isFinite else {
            i = start
            throw error("expected a number")
        }
        return d
    }

    func instant(_ s: String, date: Bool) throws -> CQL2.Operand {
        if date {
            guard Layer.isISODate(s), let t = Timestamp(iso8601: s) else { throw error("DATE takes 'YYYY-MM-DD', not '\(s)'") }
            return .time(lo: t.seconds, hi: t.seconds + 86_400 - 1e-6)
        }
        guard s.count > 10, let t = Timestamp(iso8601: s) else { throw error("TIMESTAMP takes an RFC 3339 time, not '\(s)'") }
        return .time(lo: t.seconds, hi: t.seconds)
    }

    /// One end of an INTERVAL: a date (its first or last moment), a timestamp, or '..' for open.
    mutating func intervalEnd(start: Bool) throws -> Double {
        skipSpace()
        var s: String
        if i < text.count, text[i] == 39 {
            s = try quoted(39)
        } else if let w = peekWord(), w == "DATE" || w == "TIMESTAMP" {
            guard case .time(let lo, let hi) = try scalar() else { throw error("expected a time") }
            return start ? lo : hi
        } else {
            throw error("INTERVAL takes dates, timestamps or '..'")
        }
        if s == ".." || s.isEmpty { return start ? -.infinity : .infinity }
        s = s.trimmingCharacters(in: .whitespaces)
        guard case .time(let lo, let hi) = try instant(s, date: Layer.isISODate(s)) else { throw error("expected a time") }
        return start ? lo : hi
    }
}
