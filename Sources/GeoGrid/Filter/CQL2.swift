/// A CQL2 filter (OGC 21-065, Common Query Language) as a tree: what the cql2-text and cql2-json parsers make
/// and what `CQL2Evaluator` runs over features. Pure values, Sendable: a request parses once, and the reading
/// thread compiles and runs it.
public indirect enum CQL2: Sendable, Equatable {
    case and([CQL2])
    case or([CQL2])
    case not(CQL2)
    case literal(Bool)
    case compare(Comparison, Operand, Operand)
    case like(Operand, String)
    case between(Operand, Operand, Operand)
    case inList(Operand, [Operand])
    case isNull(Operand)
    case spatial(Spatial, Operand, Operand)
    case temporal(Temporal, Operand, Operand)

    public enum Comparison: String, Sendable, Equatable { case eq = "=", ne = "<>", lt = "<", gt = ">", le = "<=", ge = ">=" }

    /// CQL2's spatial functions: the DE-9IM named predicates of Simple Features.
    public enum Spatial: String, Sendable, CaseIterable, Equatable {
        case intersects, equals, disjoint, touches, within, overlaps, crosses, contains
    }

    /// CQL2's temporal functions (Allen's interval relations, T_INTERSECTS and T_DISJOINT).
    public enum Temporal: String, Sendable, CaseIterable, Equatable {
        case after, before, contains, disjoint, during, equals, finishedBy = "finishedby", finishes, intersects, meets, metBy = "metby"
        case overlappedBy = "overlappedby", overlaps, startedBy = "startedby", starts
    }

    /// An argument: a property (a field, an extra attribute, or `geometry`), or a literal.
    public enum Operand: Sendable, Equatable {
        case property(String)
        case string(String)
        case number(Double)
        case bool(Bool)
        case geometry(Geometry)
        /// A BBOX literal, minx > maxx crossing the antimeridian.
        case bbox(BBox)
        /// An instant or interval in seconds since 1970 (a date is its whole day): `lo`…`hi`, open ends infinite.
        case time(lo: Double, hi: Double)
    }

    /// The queryable that names a feature's geometry.
    public static let geometryProperty = "geometry"

    /// A box that every feature matching the filter meets, when the filter says so (a spatial function other
    /// than S_DISJOINT on the geometry and a literal, at its top level or in a top-level AND): the R*Tree then
    /// picks the candidates.
    public var boundingBox: BBox? {
        switch self {
        case .and(let parts):
            var box: BBox?
            for p in parts {
                guard let b = p.boundingBox else { continue }
                box = box.map { BBox(minX: max($0.minX, b.minX), minY: max($0.minY, b.minY), maxX: min($0.maxX, b.maxX), maxY: min($0.maxY, b.maxY)) } ?? b
            }
            return box
        case .spatial(let p, let a, let b) where p != .disjoint:
            func literalBox(_ o: Operand) -> BBox? {
                switch o {
                case .geometry(let g): return g.bbox
                case .bbox(let b): return b.minX <= b.maxX ? b : BBox(minX: -180, minY: b.minY, maxX: 180, maxY: b.maxY)
                default: return nil
                }
            }
            if case .property(Self.geometryProperty) = a { return literalBox(b) }
            if case .property(Self.geometryProperty) = b { return literalBox(a) }
            return nil
        default:
            return nil
        }
    }

    /// Every geometry literal mapped by `transform` (for `filter-crs`).
    public func mapGeometries(_ transform: (Geometry) throws -> Geometry) rethrows -> CQL2 {
        func op(_ o: Operand) throws -> Operand {
            switch o {
            case .geometry(let g): return .geometry(try transform(g))
            case .bbox(let b):
                let lo = try transform(.point(Position(b.minX, b.minY))), hi = try transform(.point(Position(b.maxX, b.maxY)))
                guard case .point(let a) = lo, case .point(let c) = hi else { return o }
                return .bbox(BBox(minX: a.lon, minY: a.lat, maxX: c.lon, maxY: c.lat))
            default: return o
            }
        }
        switch self {
        case .and(let ps): return .and(try ps.map { try $0.mapGeometries(transform) })
        case .or(let ps): return .or(try ps.map { try $0.mapGeometries(transform) })
        case .not(let p): return .not(try p.mapGeometries(transform))
        case .spatial(let p, let a, let b): return .spatial(p, try op(a), try op(b))
        default: return self
        }
    }

    /// What is wrong with the first geometry literal that is not a sound geometry (an open ring, a latitude past
    /// 90°), checked once literals are in lon/lat (after `filter-crs`); nil when all are sound.
    public var geometryProblem: String? {
        var found: String?
        _ = mapGeometries { g in
            if found == nil, let p = g.structuralProblem() { found = "\(g.kind.rawValue) literal: \(p)" }
            return g
        }
        return found
    }

    /// The property names the filter reads.
    public var properties: Set<String> {
        func names(_ os: [Operand]) -> Set<String> {
            Set(os.compactMap { if case .property(let n) = $0 { return n } else { return nil } })
        }
        switch self {
        case .and(let ps), .or(let ps): return ps.reduce(into: Set()) { $0.formUnion($1.properties) }
        case .not(let p): return p.properties
        case .literal: return []
        case .compare(_, let a, let b), .spatial(_, let a, let b), .temporal(_, let a, let b): return names([a, b])
        case .like(let a, _), .isNull(let a): return names([a])
        case .between(let a, let b, let c): return names([a, b, c])
        case .inList(let a, let list): return names([a] + list)
        }
    }
}

/// A CQL2 filter that cannot be read, or names what the layer does not have.
public struct CQL2Error: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a filter over the features of one layer: compiled once into closures (literal geometries made into
/// GEOS geometries then), run per feature. Owns a GEOS context, so one is made per request on the thread that
/// reads the features; not Sendable.
public final class CQL2Evaluator {
    let layer: Layer
    let geos = GEOSContext()
    private var test: ((Feature) -> Bool?)!

    public init(_ filter: CQL2, layer: Layer) {
        self.layer = layer
        test = compile(filter)
    }

    /// Whether `feature` matches: unknown (a comparison with null) counts as no, as in SQL.
    public func matches(_ feature: Feature) -> Bool { test(feature) == true }

    /// Three-valued: nil is unknown (null involved).
    func compile(_ e: CQL2) -> (Feature) -> Bool? {
        switch e {
        case .literal(let b): return { _ in b }
        case .and(let ps): return Self.combine(ps.map(compile), decisive: false)
        case .or(let ps): return Self.combine(ps.map(compile), decisive: true)
        case .not(let p):
            let inner = compile(p)
            return { f in inner(f).map { !$0 } }
        case .isNull(let a):
            return { [unowned self] f in
                if case .null = value(a, f) { return true }
                return false
            }
        case .compare(let op, let a, let b): return { [unowned self] f in compare(value(a, f), value(b, f)).map { Self.holds(op, $0) } }
        case .between(let a, let lo, let hi):
            return { [unowned self] f in
                let v = value(a, f)
                guard let l = compare(v, value(lo, f)), let h = compare(v, value(hi, f)) else { return nil }
                return l >= 0 && h <= 0
            }
        case .inList(let a, let list):
            return { [unowned self] f in
                let v = value(a, f)
                var unknown = false
                for o in list {
                    switch compare(v, value(o, f)) {
                    case 0?: return true
                    case nil: unknown = true
                    default: break
                    }
                }
                return unknown ? nil : false
            }
        case .like(let a, let pattern):
            let p = Array(pattern.unicodeScalars)
            return { [unowned self] f in
                guard case .string(let s) = value(a, f) else { return nil }
                return Self.like(Array(s.unicodeScalars), p)
            }
        case .spatial(let op, let a, let b):
            // S_INTERSECTS / S_DISJOINT of the geometry and a box: the exact box test of export and tiles, no GEOS.
            if op == .intersects || op == .disjoint, let box = Self.plainBox(a, b) {
                let wanted = op == .intersects
                return { f in f.geometry.intersects(box) == wanted }
            }
            let predicate = GEOSContext.Predicate(rawValue: op.rawValue)!
            let la = literal(a), lb = literal(b)
            return { [unowned self] f in
                guard let ga = la ?? geometry(a, f), let gb = lb ?? geometry(b, f) else { return nil }
                return geos.holds(predicate, ga, gb)
            }
        case .temporal(let t, let a, let b):
            return { [unowned self] f in
                guard let x = interval(value(a, f)), let y = interval(value(b, f)) else { return nil }
                return Self.relates(t, x, y)
            }
        }
    }

    /// AND (a false part decides) or OR (a true part decides), in three values: unknown unless decided, when
    /// any part is unknown.
    static func combine(_ parts: [(Feature) -> Bool?], decisive: Bool) -> (Feature) -> Bool? {
        { f in
            var unknown = false
            for p in parts {
                switch p(f) {
                case decisive?: return decisive
                case nil: unknown = true
                default: break
                }
            }
            return unknown ? nil : !decisive
        }
    }

    /// The box when one side is the feature's geometry and the other a BBOX not crossing the antimeridian.
    static func plainBox(_ a: CQL2.Operand, _ b: CQL2.Operand) -> BBox? {
        switch (a, b) {
        case (.property(CQL2.geometryProperty), .bbox(let box)), (.bbox(let box), .property(CQL2.geometryProperty)):
            box.minX <= box.maxX ? box : nil
        default: nil
        }
    }

    /// A geometry literal as a GEOS geometry, made once at compile time; nil for a property.
    func literal(_ o: CQL2.Operand) -> GEOSGeometry? {
        switch o {
        case .geometry(let g): geos.geometry(g)
        case .bbox(let b): geos.geometry(Self.box(b))
        default: nil
        }
    }

    /// The feature's geometry (or a property holding one) as a GEOS geometry.
    func geometry(_ o: CQL2.Operand, _ f: Feature) -> GEOSGeometry? {
        guard case .geometry(let g) = value(o, f) else { return nil }
        return geos.geometry(g)
    }

    enum Value {
        case null, bool(Bool), number(Double), string(String), geometry(Geometry), time(Double, Double)
    }

    func value(_ o: CQL2.Operand, _ f: Feature) -> Value {
        switch o {
        case .string(let s): return .string(s)
        case .number(let n): return .number(n)
        case .bool(let b): return .bool(b)
        case .geometry(let g): return .geometry(g)
        case .bbox(let b): return .geometry(Self.box(b))
        case .time(let lo, let hi): return .time(lo, hi)
        case .property(let name):
            if name == CQL2.geometryProperty && layer.field(named: name) == nil { return .geometry(f.geometry) }
            guard let v = f[property: name] else { return .null }
            let type = layer.field(named: name)?.type
            switch v {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .number(let n): return .number(n)
            case .string(let s):
                if type == .date, let t = Timestamp(iso8601: s) { return .time(t.seconds, t.seconds + 86_400 - 1e-6) }
                if type == .timestamp, let t = Timestamp(iso8601: s) { return .time(t.seconds, t.seconds) }
                return .string(s)
            default: return .null  // arrays and objects compare with nothing
            }
        }
    }

    /// -1, 0 or 1; nil when either side is null or they are of kinds that do not compare.
    func compare(_ a: Value, _ b: Value) -> Int? {
        func order<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : x > y ? 1 : 0 }
        switch (a, b) {
        case (.number(let x), .number(let y)): return order(x, y)
        case (.string(let x), .string(let y)): return order(x, y)
        case (.bool(let x), .bool(let y)): return order(x ? 1 : 0, y ? 1 : 0)
        case (.time(let x, _), .time(let y, _)): return order(x, y)
        // A date or timestamp given as a string literal compares as one.
        case (.time, .string(let s)): return Timestamp(iso8601: s).flatMap { compare(a, .time($0.seconds, $0.seconds)) }
        case (.string(let s), .time): return Timestamp(iso8601: s).flatMap { compare(.time($0.seconds, $0.seconds), b) }
        default: return nil
        }
    }

    static func holds(_ op: CQL2.Comparison, _ c: Int) -> Bool {
        switch op {
        case .eq: c == 0
        case .ne: c != 0
        case .lt: c < 0
        case .gt: c > 0
        case .le: c <= 0
        case .ge: c >= 0
        }
    }

    func interval(_ v: Value) -> (Double, Double)? {
        switch v {
        case .time(let lo, let hi): return (lo, hi)
        case .string(let s): return Timestamp(iso8601: s).map { ($0.seconds, $0.seconds) }
        default: return nil
        }
    }

    /// CQL2 §6.3.4 (Allen's relations on [lo, hi]).
    static func relates(_ t: CQL2.Temporal, _ a: (Double, Double), _ b: (Double, Double)) -> Bool {
        let (al, ah) = a, (bl, bh) = b
        switch t {
        case .after: return al > bh
        case .before: return ah < bl
        case .contains: return al < bl && ah > bh
        case .disjoint: return ah < bl || al > bh
        case .during: return al > bl && ah < bh
        case .equals: return al == bl && ah == bh
        case .finishedBy: return al < bl && ah == bh
        case .finishes: return al > bl && ah == bh
        case .intersects: return !(ah < bl || al > bh)
        case .meets: return ah == bl
        case .metBy: return al == bh
        case .overlappedBy: return al > bl && al < bh && ah > bh
        case .overlaps: return al < bl && ah > bl && ah < bh
        case .startedBy: return al == bl && ah > bh
        case .starts: return al == bl && ah < bh
        }
    }

    /// A BBOX as a polygon; across the antimeridian (minx > maxx), two.
    static func box(_ b: BBox) -> Geometry {
        func rect(_ x0: Double, _ x1: Double) -> PolygonRings {
            [[Position(x0, b.minY), Position(x1, b.minY), Position(x1, b.maxY), Position(x0, b.maxY), Position(x0, b.minY)]]
        }
        return b.minX <= b.maxX ? .polygon(rect(b.minX, b.maxX)) : .multiPolygon([rect(b.minX, 180), rect(-180, b.maxX)])
    }

    /// LIKE: `%` any run, `_` one character, `\` escapes; case-sensitive, as CQL2 says without CASEI.
    static func like(_ s: [Unicode.Scalar], _ p: [Unicode.Scalar]) -> Bool {
        // Iterative matching with backtracking to the last %.
        var i = 0, j = 0, star = -1, mark = 0
        while i < s.count {
            if j < p.count, p[j] == "\\", j + 1 < p.count, p[j + 1] == s[i] {
                i += 1
                j += 2
            } else if j < p.count, p[j] == "_" || (p[j] != "%" && p[j] != "\\" && p[j] == s[i]) {
                i += 1
                j += 1
            } else if j < p.count, p[j] == "%" {
                star = j
                mark = i
                j += 1
            } else if star >= 0 {
                j = star + 1
                mark += 1
                i = mark
            } else {
                return false
            }
        }
        while j < p.count, p[j] == "%" { j += 1 }
        return j == p.count
    }
}
