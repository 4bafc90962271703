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
public struct Locator: Sendable {
    let grids: [GridInfo]
    public var gridCount: Int { grids.count }
    let gridIndex: PolygonIndex
    /// The areas by level, finest first (community, street, district): where no grid owns a point, the first
    /// level with an area containing it answers, so a store with only streets or districts drawn still answers.
    let fallbacks: [(index: PolygonIndex, answers: [LocateResult])]
    /// The answers, made once: per grid, and per area for the points in no grid.
    let gridAnswers: [LocateResult]
    /// The day (YYYY-MM-DD) whose grids in force it holds, when built from a store.
    public internal(set) var day: String?
    /// What it was built from: the grids with their geometries (so that a write changing a few grids makes the
    /// next locator without reading the rest again), and the areas by code.
    let sources: [(GridInfo, Geometry)]
    let areasByCode: [String: AreaInfo]

    public init(grids: [(GridInfo, Geometry)], areas: [(AreaInfo, Geometry)]) {
        var byCode: [String: AreaInfo] = [:]
        for (a, _) in areas { byCode[a.code] = a }
        let fallbacks = [(AreaLevel.community, LocateResult.Owner.communityFallback), (.street, .streetFallback), (.district, .districtFallback)].map {
            level, owner in
            let these = areas.filter { $0.0.level == level }
            return (PolygonIndex(polygons: these.map { Self.rings($0.1) }), these.map { Self.chain(byCode, owner, nil, $0.0.code, level) })
        }
        self.init(grids: grids, areasByCode: byCode, fallbacks: fallbacks)
    }

    /// A locator of other grids over the same areas as `old` (whose area indexes it shares).
    init(grids: [(GridInfo, Geometry)], areasOf old: Locator) {
        self.init(grids: grids, areasByCode: old.areasByCode, fallbacks: old.fallbacks)
    }

    private init(grids: [(GridInfo, Geometry)], areasByCode: [String: AreaInfo], fallbacks: [(index: PolygonIndex, answers: [LocateResult])]) {
        sources = grids
        self.grids = grids.map(\.0)
        self.areasByCode = areasByCode
        self.fallbacks = fallbacks
        gridIndex = PolygonIndex(polygons: grids.map { Self.rings($0.1) })
        gridAnswers = self.grids.map { Self.chain(areasByCode, .grid, $0, $0.communityCode, .community) }
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
    /// stored first wins.
    public func locate(_ p: Position) -> LocateResult {
        if let i = gridIndex.firstContaining(p) { return gridAnswers[i] }
        for level in fallbacks { if let i = level.index.firstContaining(p) { return level.answers[i] } }
        return .outside
    }

    /// Codes of every grid owning `p` (more than one only where grids overlap): for checking data.
    public func gridOwners(_ p: Position) -> [String] { gridIndex.allContaining(p).map { grids[$0].code } }

    public var memoryBytes: Int { gridIndex.memoryBytes + fallbacks.reduce(0) { $0 + $1.index.memoryBytes } + grids.count * MemoryLayout<GridInfo>.stride }
}
