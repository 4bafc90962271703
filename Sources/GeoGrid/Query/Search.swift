import Foundation
import Synchronization

/// One place found by what a dispatcher typed: a case by its number, a grid or an area by its code or name, a
/// building by its address or name, a road by its name. `point` lies on the feature (inside a polygon), so the
/// situation there is the feature's own; `bbox` is what a map fits to.
public struct SearchHit: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case incident, grid, area, building, road
    }
    public var kind: Kind
    public var id: Int64
    /// What matched, as stored: the case number, the code, the address, the road's name.
    public var label: String
    /// A second line: the grid's or area's name, the building's name or address, the road's class, the case's category.
    public var detail: String?
    /// The grid the hit is in, where the store records it (buildings, cases) or it is one.
    public var gridCode: String?
    public var point: Position
    public var bbox: BBox
    /// How well it matched: 0 the whole text, 1 its start, 2 the start of a word, 3 inside.
    public var match: Int

    public init(kind: Kind, id: Int64, label: String, detail: String?, gridCode: String?, point: Position, bbox: BBox, match: Int) {
        self.kind = kind
        self.id = id
        self.label = label
        self.detail = detail
        self.gridCode = gridCode
        self.point = point
        self.bbox = bbox
        self.match = match
    }
}

/// Text as search compares it: canonical decomposition with the combining marks dropped (Töölö → toolo),
/// lower case, runs of white space as one space, trimmed. Chinese is unchanged.
public enum SearchText {
    public static func fold(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var space = false
        for u in s.decomposedStringWithCanonicalMapping.unicodeScalars {
            if u.properties.isWhitespace {
                space = !out.isEmpty
                continue
            }
            if u.properties.generalCategory == .nonspacingMark { continue }
            if space { out.append(" "); space = false }
            for l in u.properties.lowercaseMapping.unicodeScalars { out.append(l) }
        }
        return String(out)
    }

    /// How `text` (folded) holds `query` (folded, not empty): 0 equal, 1 a prefix, 2 at a word's start, 3 inside; nil not at all.
    public static func match(_ text: String, _ query: String) -> Int? {
        if text == query { return 0 }
        if text.hasPrefix(query) { return 1 }
        guard let r = text.range(of: query) else { return nil }
        var at = r.lowerBound
        var wordStart = false
        repeat {
            let before = text[text.index(before: at)]
            if before == " " || before == "-" || before == "," || before == "/" { wordStart = true; break }
            guard let next = text[text.index(after: at)...].range(of: query) else { break }
            at = next.lowerBound
        } while true
        return wordStart ? 2 : 3
    }
}

/// The folded texts of one layer's features, made from one version of its index and kept while that version
/// is current (a write to the layer makes a new index, and the next search folds it anew).
final class SearchTexts: Sendable {
    struct Row: Sendable {
        var entry: Int32
        var fromDelta: Bool
        var texts: [String]
    }
    let source: LayerIndex
    let rows: [Row]

    init(_ source: LayerIndex, fields: [Int]) {
        self.source = source
        var rows: [Row] = []
        rows.reserveCapacity(source.count)
        source.forEachIndexed { entry, fromDelta, e in
            let texts = fields.map { e.values[$0].text.map(SearchText.fold) ?? "" }
            if texts.contains(where: { !$0.isEmpty }) { rows.append(Row(entry: entry, fromDelta: fromDelta, texts: texts)) }
        }
        self.rows = rows
    }
}

final class SearchCache: Sendable {
    private let texts = Mutex<[String: SearchTexts]>([:])

    func texts(_ index: LayerIndex, fields: [Int]) -> SearchTexts {
        if let found = texts.withLock({ $0[index.layer.name] }), found.source === index { return found }
        let made = SearchTexts(index, fields: fields)
        texts.withLock { $0[index.layer.name] = made }
        return made
    }
}

extension GeoStore {
    /// The places whose code, name, address or case number holds `text`, best matches first (the whole text,
    /// then its start, a word's start, anywhere; cases, then grids, areas, buildings and roads; shorter labels
    /// first), at most `limit`. Grids are those in force today; a road's pieces of one name are one hit.
    public func search(_ text: String, kinds: Set<SearchHit.Kind> = Set(SearchHit.Kind.allCases), limit: Int = 10) throws -> [SearchHit] {
        let query = SearchText.fold(text)
        guard !query.isEmpty, limit > 0 else { return [] }
        var hits: [SearchHit] = []
        let geos = GEOSContext()
        func point(_ g: Geometry, _ box: BBox) -> Position {
            geos.representativePoint(g) ?? Position((box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2)
        }
        // Candidates are ranked first and only the kept ones get a point on their surface (GEOS).
        struct Candidate {
            var kind: SearchHit.Kind
            var entry: ShapeIndex.Entry
            var label: String
            var detail: String?
            var grid: String?
            var match: Int
            var box: BBox
        }
        var candidates: [Candidate] = []

        func scan(_ layer: Layer, _ kind: SearchHit.Kind, fields names: [String], label: @escaping (ShapeIndex.Entry, Int) -> String,
                  detail: @escaping (ShapeIndex.Entry, Int) -> String?, grid: String? = nil, keep: ((ShapeIndex.Entry) -> Bool)? = nil) throws {
            guard kinds.contains(kind), let layer = layers.first(where: { $0.name == layer.name }) else { return }
            let fields = names.compactMap { n in layer.fields.firstIndex { $0.name == n } }
            guard fields.count == names.count else { return }
            let index = try shapeIndex(layer)
            let texts = searchCache.texts(index, fields: fields)
            let gridField = grid.flatMap { g in layer.fields.firstIndex { $0.name == g } }
            for row in texts.rows {
                var best: (match: Int, field: Int)?
                for (i, t) in row.texts.enumerated() where !t.isEmpty {
                    if let m = SearchText.match(t, query), best == nil || m < best!.match { best = (m, i) }
                }
                guard let best else { continue }
                let e = index.entry(at: row.entry, fromDelta: row.fromDelta)
                if let keep, !keep(e) { continue }
                candidates.append(Candidate(kind: kind, entry: e, label: label(e, best.field), detail: detail(e, best.field),
                    grid: gridField.flatMap { e.values[$0].text }, match: best.match, box: e.box))
            }
        }
        func field(_ e: ShapeIndex.Entry, _ layer: Layer, _ name: String) -> String? {
            layer.fields.firstIndex { $0.name == name }.flatMap { e.values[$0].text }
        }

        let gridLayer = layers.first { $0.name == Layer.grids.name } ?? .grids
        let inForce = gridLayer.inForce(on: today)
        try scan(.grids, .grid, fields: ["code", "name"], label: { e, _ in field(e, gridLayer, "code") ?? "" },
                 detail: { e, _ in field(e, gridLayer, "name") }, grid: "code", keep: { inForce($0.values) })
        let areas = layers.first { $0.name == Layer.communities.name } ?? .communities
        try scan(.communities, .area, fields: ["code", "name"], label: { e, _ in field(e, areas, "code") ?? "" }, detail: { e, _ in field(e, areas, "name") })
        let buildings = layers.first { $0.name == Layer.buildings.name } ?? .buildings
        try scan(.buildings, .building, fields: ["address", "name"],
                 label: { e, f in (f == 0 ? field(e, buildings, "address") : field(e, buildings, "name")) ?? "" },
                 detail: { e, f in f == 0 ? field(e, buildings, "name") : field(e, buildings, "address") }, grid: "grid_code")

        // Roads: every piece of a name is one hit, its box the union of the pieces and its point on the first.
        if kinds.contains(.road), let roads = layers.first(where: { $0.name == Layer.roads.name }) {
            var byName: [String: Int] = [:]
            let before = candidates.count
            try scan(roads, .road, fields: ["name"], label: { e, _ in field(e, roads, "name") ?? "" }, detail: { e, _ in field(e, roads, "class") })
            var merged: [Candidate] = []
            for c in candidates[before...] {
                if let i = byName[c.label] {
                    merged[i].box.extend(c.box)
                } else {
                    byName[c.label] = merged.count
                    merged.append(c)
                }
            }
            candidates.replaceSubrange(before..., with: merged)
        }

        func order(_ k: SearchHit.Kind) -> Int { SearchHit.Kind.allCases.firstIndex(of: k)! }
        // Cases by number: the stored number is unique and indexed; the typed text may be the number or its start.
        if kinds.contains(.incident), text.trimmingCharacters(in: .whitespaces).allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) {
            let typed = text.trimmingCharacters(in: .whitespaces)
            hits += try read { db in
                var out: [SearchHit] = []
                let s = try db.prepare("""
                    SELECT id, case_number, category, grid_code, ST_X(geom), ST_Y(geom) FROM incidents
                    WHERE case_number >= ? AND case_number < ? ORDER BY case_number LIMIT ?
                    """)
                try s.bind([.text(typed), .text(typed + "\u{7F}"), .integer(Int64(limit))])
                while try s.step() {
                    let number = s.text(1) ?? ""
                    let p = Position(s.double(4), s.double(5))
                    out.append(SearchHit(kind: .incident, id: s.int64(0), label: number, detail: s.text(2), gridCode: s.text(3), point: p,
                        bbox: BBox(minX: p.lon, minY: p.lat, maxX: p.lon, maxY: p.lat), match: number == typed ? 0 : 1))
                }
                return out
            }
        }
        candidates.sort {
            ($0.match, order($0.kind), $0.label.count, $0.label, $0.entry.id) < ($1.match, order($1.kind), $1.label.count, $1.label, $1.entry.id)
        }
        for c in candidates.prefix(limit) {
            hits.append(SearchHit(kind: c.kind, id: c.entry.id, label: c.label, detail: c.detail, gridCode: c.grid, point: point(c.entry.geometry, c.entry.box),
                bbox: c.box, match: c.match))
        }
        hits.sort { ($0.match, order($0.kind), $0.label.count, $0.label, $0.id) < ($1.match, order($1.kind), $1.label.count, $1.label, $1.id) }
        return Array(hits.prefix(limit))
    }
}
