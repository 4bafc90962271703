/// An area above the grids: a district, street or community.
public struct AreaInfo: Sendable, Hashable {
    public var code: String
    public var name: String?
    public var level: AreaLevel
}

/// A unit grid and who answers for it.
public struct GridInfo: Sendable, Hashable {
    public var id: Int64
    public var code: String
    public var name: String?
    public var workerName: String?
    public var workerPhone: String?
    public var households: Int64?
    public var population: Int64?
    public var communityCode: String
}

/// Who owns a point. A class: answers are made once per grid and shared, so handing one out costs a
/// single reference count rather than one per string inside it.
public final class LocateResult: Sendable, Hashable {
    public enum Owner: String, Sendable {
        /// A grid owns the point.
        case grid
        /// The point lies in a community but in none of its grids (a gap): the community answers (属地兜底).
        case communityFallback = "community_fallback"
        /// The point lies in no grid and no community, but in a street (a store with streets drawn and
        /// communities not yet): the street answers.
        case streetFallback = "street_fallback"
        /// The point lies only in a district (a store of county-level districts alone): the district answers.
        case districtFallback = "district_fallback"
        /// The point lies outside every area of the store.
        case outside
    }

    public let owner: Owner
    public let grid: GridInfo?
    public let community: AreaInfo?
    public let street: AreaInfo?
    public let district: AreaInfo?

    public init(owner: Owner, grid: GridInfo? = nil, community: AreaInfo? = nil, street: AreaInfo? = nil, district: AreaInfo? = nil) {
        self.owner = owner
        self.grid = grid
        self.community = community
        self.street = street
        self.district = district
    }

    public static func == (a: LocateResult, b: LocateResult) -> Bool {
        a.owner == b.owner && a.grid == b.grid && a.community == b.community && a.street == b.street && a.district == b.district
    }

    public func hash(into h: inout Hasher) {
        h.combine(owner)
        h.combine(grid)
        h.combine(community)
    }

    static let outside = LocateResult(owner: .outside)

    /// The codes of the areas owning the point, finest first (the grid, its community, then community, street and
    /// district as far as the store holds them): what a token's scope is compared with.
    public var areaCodes: [String] { [grid?.code, grid?.communityCode, community?.code, street?.code, district?.code].compactMap { $0 } }
}

/// Answers which grid and community own a point, from memory. Immutable and Sendable: one is shared by every
/// thread and replaced whole when the grids or communities change.
///
/// After a write that changes a few grids (a plan, an edit) the next locator is not built over again: it
/// shares the indexed grids of the one before (`base`), hides the rows the write changed or closed
/// (`removed`), and indexes only the grids written since (`overlay`). Where grids overlap the lowest id wins,
/// in either part, exactly as in a locator built afresh. When the overlay and the hidden rows pass an eighth
/// of the base the grids are indexed whole again.
public struct Locator: Sendable {
    /// Grids in id order with their polygon index and answers, made once and shared.
    final class GridSet: Sendable {
        let grids: [GridInfo]
        let sources: [(GridInfo, Geometry)]
        let index: PolygonIndex
        let answers: [LocateResult]

        init(_ sources: [(GridInfo, Geometry)], areasByCode: [String: AreaInfo]) {
            self.sources = sources
            grids = sources.map(\.0)
            index = PolygonIndex(polygons: sources.map { Locator.rings($0.1) })
            answers = grids.map { Locator.chain(areasByCode, .grid, $0, $0.communityCode, .community) }
        }

        /// The position of grid row `id`, by binary search over the ids in order.
        func position(of id: Int64) -> Int? {
            var lo = 0, hi = grids.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if grids[mid].id < id { lo = mid + 1 } else { hi = mid }
            }
            return lo < grids.count && grids[lo].id == id ? lo : nil
        }
    }

    let base: GridSet
    /// Positions in `base` of rows changed or gone since it was indexed.
    let removed: Set<Int32>
    let overlay: GridSet
    public var gridCount: Int { base.grids.count - removed.count + overlay.grids.count }
    /// The areas by level, finest first (community, street, district): where no grid owns a point, the first
    /// level with an area containing it answers, so a store with only streets or districts drawn still answers.
    let fallbacks: [(index: PolygonIndex, answers: [LocateResult])]
    /// The day (YYYY-MM-DD) whose grids in force it holds, when built from a store.
    public internal(set) var day: String?
    let areasByCode: [String: AreaInfo]

    public init(grids: [(GridInfo, Geometry)], areas: [(AreaInfo, Geometry)]) {
        var byCode: [String: AreaInfo] = [:]
        for (a, _) in areas { byCode[a.code] = a }
        let fallbacks = [(AreaLevel.community, LocateResult.Owner.communityFallback), (.street, .streetFallback), (.district, .districtFallback)].map {
            level, owner in
            let these = areas.filter { $0.0.level == level }
            return (PolygonIndex(polygons: these.map { Self.rings($0.1) }), these.map { Self.chain(byCode, owner, nil, $0.0.code, level) })
        }
        self.init(base: GridSet(grids, areasByCode: byCode), removed: [], overlay: GridSet([], areasByCode: byCode), areasByCode: byCode, fallbacks: fallbacks)
    }

    private init(base: GridSet, removed: Set<Int32>, overlay: GridSet, areasByCode: [String: AreaInfo],
        fallbacks: [(index: PolygonIndex, answers: [LocateResult])])
    {
        self.base = base
        self.removed = removed
        self.overlay = overlay
        self.areasByCode = areasByCode
        self.fallbacks = fallbacks
    }

    /// The locator after a write to the grid rows `ids` (written, closed or deleted), whose rows still in
    /// force are `rows` (ordered or not); the areas are as they were.
    func applying(ids: Set<Int64>, rows: [(GridInfo, Geometry)]) -> Locator {
        var removed = self.removed
        for id in ids { if let i = base.position(of: id) { removed.insert(Int32(i)) } }
        var written = overlay.sources.filter { !ids.contains($0.0.id) } + rows
        written.sort { $0.0.id < $1.0.id }
        if written.count + removed.count > max(64, base.grids.count / 8) {
            var all = base.sources.enumerated().filter { !removed.contains(Int32($0.offset)) }.map(\.element) + written
            all.sort { $0.0.id < $1.0.id }
            var next = Locator(base: GridSet(all, areasByCode: areasByCode), removed: [], overlay: GridSet([], areasByCode: areasByCode),
                areasByCode: areasByCode, fallbacks: fallbacks)
            next.day = day
            return next
        }
        var next = Locator(base: base, removed: removed, overlay: GridSet(written, areasByCode: areasByCode), areasByCode: areasByCode, fallbacks: fallbacks)
        next.day = day
        return next
    }

    /// The answer for an area of `level` coded `code` (a grid's community, or the area itself), with the areas
    /// above it that the store holds.
    static func chain(_ byCode: [String: AreaInfo], _ owner: LocateResult.Owner, _ grid: GridInfo?, _ code: String, _ level: AreaLevel) -> LocateResult {
        func area(_ l: AreaLevel) -> AreaInfo? {
            guard l.codeLength <= level.codeLength else { return nil }
            let c = String(code.prefix(l.codeLength))
            return byCode[c] ?? (l == level && l == .community ? AreaInfo(code: c, name: nil, level: .community) : nil)
        }
        return LocateResult(owner: owner, grid: grid, community: area(.community), street: area(.street), district: area(.district))
    }

    static func rings(_ g: Geometry) -> [Ring] {
        switch g {
        case .polygon(let rings): rings
        case .multiPolygon(let polys): polys.flatMap { $0 }
        default: []
        }
    }

    /// The owner of `p` by the half-open rule of `PolygonIndex`; where grids overlap (bad data) the one
    /// stored first (the lowest id) wins.
    public func locate(_ p: Position) -> LocateResult {
        let b = removed.isEmpty ? base.index.firstContaining(p) : base.index.firstContaining(p) { !removed.contains(Int32($0)) }
        if !overlay.grids.isEmpty, let o = overlay.index.firstContaining(p) {
            if let b, base.grids[b].id < overlay.grids[o].id { return base.answers[b] }
            return overlay.answers[o]
        }
        if let b { return base.answers[b] }
        for level in fallbacks { if let i = level.index.firstContaining(p) { return level.answers[i] } }
        return .outside
    }

    /// Codes of every grid owning `p` (more than one only where grids overlap), by id: for checking data.
    public func gridOwners(_ p: Position) -> [String] {
        let found = base.index.allContaining(p).filter { !removed.contains(Int32($0)) }.map { base.grids[$0] } + overlay.index.allContaining(p).map { overlay.grids[$0] }
        return found.sorted { $0.id < $1.id }.map(\.code)
    }

    public var memoryBytes: Int {
        base.index.memoryBytes + overlay.index.memoryBytes + fallbacks.reduce(0) { $0 + $1.index.memoryBytes }
            + (base.grids.count + overlay.grids.count) * MemoryLayout<GridInfo>.stride
    }
}
