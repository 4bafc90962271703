/// Reads cql2-json (OGC 21-065 §9): `{"op": "and", "args": [...]}`, `{"property": "floors"}`, GeoJSON geometries,
/// `{"bbox": [...]}`, `{"date": "…"}`, `{"timestamp": "…"}`, `{"interval": ["…", ".."]}`.
public enum CQL2JSONParser {
    public static func parse(_ text: String) throws -> CQL2 {
        let json: JSONValue
        do { json = try JSONParser.parse(text) } catch { throw CQL2Error("filter: not JSON: \(error)") }
        return try expression(json)
    }

    static func expression(_ j: JSONValue) throws -> CQL2 {
        if case .bool(let b) = j { return .literal(b) }
        guard let op = j["op"]?.stringValue?.lowercased(), let args = j["args"]?.arrayValue else {
            throw CQL2Error("filter: a cql2-json expression is {\"op\": …, \"args\": […]}")
        }
        func count(_ n: Int) throws {
            guard args.count == n else { throw CQL2Error("filter: \(op) takes \(n) arguments, not \(args.count)") }
        }
        switch op {
        case "and", "or":
            guard args.count >= 2 else { throw CQL2Error("filter: \(op) takes two or more arguments") }
            let parts = try args.map(expression)
            return op == "and" ? .and(parts) : .or(parts)
        case "not":
            try count(1)
            return .not(try expression(args[0]))
        case "isnull":
            try count(1)
            return .isNull(try operand(args[0]))
        case "like":
            try count(2)
            guard case .string(let pattern) = try operand(args[1]) else { throw CQL2Error("filter: like takes a string pattern") }
            return .like(try operand(args[0]), pattern)
        case "between":
            try count(3)
            return .between(try operand(args[0]), try operand(args[1]), try operand(args[2]))
        case "in":
            try count(2)
            guard let list = args[1].arrayValue else { throw CQL2Error("filter: in takes a value and a list") }
            return .inList(try operand(args[0]), try list.map(operand))
        default:
            if let c = CQL2.Comparison(rawValue: op) {
                try count(2)
                return .compare(c, try operand(args[0]), try operand(args[1]))
            }
            if op.hasPrefix("s_"), let s = CQL2.Spatial(rawValue: String(op.dropFirst(2))) {
                try count(2)
                return .spatial(s, try operand(args[0]), try operand(args[1]))
            }
            if op.hasPrefix("t_"), let t = CQL2.Temporal(rawValue: String(op.dropFirst(2))) {
                try count(2)
                return .temporal(t, try operand(args[0]), try operand(args[1]))
            }
            throw CQL2Error("filter: unknown operator \(op)")
        }
    }

    static func operand(_ j: JSONValue) throws -> CQL2.Operand {
        switch j {
        case .string(let s): return .string(s)
        case .number(let n): return .number(n)
        case .bool(let b): return .bool(b)
        case .object:
            if let p = j["property"]?.stringValue { return .property(p) }
            if let d = j["date"]?.stringValue { return try CQL2TextParser(text: []).instant(d, date: true) }
            if let t = j["timestamp"]?.stringValue { return try CQL2TextParser(text: []).instant(t, date: false) }
            if let ends = j["interval"]?.arrayValue, ends.count == 2 {
                func end(_ v: JSONValue, start: Bool) throws -> Double {
                    let s = v.stringValue ?? v["date"]?.stringValue ?? v["timestamp"]?.stringValue
                    guard let s else { throw CQL2Error("filter: an interval's ends are dates, timestamps or \"..\"") }
                    if s == ".." { return start ? -.infinity : .infinity }
                    guard case .time(let lo, let hi) = try CQL2TextParser(text: []).instant(s, date: Layer.isISODate(s)) else { return 0 }
                    return start ? lo : hi
                }
                return .time(lo: try end(ends[0], start: true), hi: try end(ends[1], start: false))
            }
            if let b = j["bbox"]?.arrayValue?.compactMap(\.numberValue) {
                guard b.count == 4 || b.count == 6 else { throw CQL2Error("filter: bbox takes 4 (or 6) numbers") }
                return .bbox(b.count == 4 ? BBox(minX: b[0], minY: b[1], maxX: b[2], maxY: b[3]) : BBox(minX: b[0], minY: b[1], maxX: b[3], maxY: b[4]))
            }
            if j["type"] != nil {
                let g: Geometry
                do { g = try GeoJSON.geometry(from: j) } catch { throw CQL2Error("filter: geometry: \(error)") }
                return .geometry(g)
            }
            throw CQL2Error("filter: an argument object must be a property, a geometry, a bbox, a date, a timestamp or an interval")
        default:
            throw CQL2Error("filter: arguments cannot be \(j.typeDescription)")
        }
    }
}
