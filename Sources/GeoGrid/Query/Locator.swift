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
        /// The point lies outside every community.
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
}

/// Answers which grid and community own a point, from memory. Immutable and Sendable: one is shared by every
/// thread and replaced whole when the grids or communities change.
public struct Locator: Sendable {
    let grids: [GridInfo]
    public var gridCount: Int { grids.count }
    let gridIndex: PolygonIndex
    let communities: [AreaInfo]
    let communityIndex: PolygonIndex
    /// The answers, made once: per grid, and per community for the points in no grid.
    let gridAnswers: [LocateResult]
    let communityAnswers: [LocateResult]

    public init(grids: [(GridInfo, Geometry)], areas: [(AreaInfo, Geometry)]) {
        self.grids = grids.map(\.0)
        gridIndex = PolygonIndex(polygons: grids.map { Self.rings($0.1) })
        let communityAreas = areas.filter { $0.0.level == .community }
        communities = communityAreas.map(\.0)
        communityIndex = PolygonIndex(polygons: communityAreas.map { Self.rings($0.1) })
        var byCode: [String: AreaInfo] = [:]
        for (a, _) in areas { byCode[a.code] = a }
        func chain(_ owner: LocateResult.Owner, _ grid: GridInfo?, _ communityCode: String) -> LocateResult {
            LocateResult(
                owner: owner, grid: grid,
                community: byCode[communityCode] ?? AreaInfo(code: communityCode, name: nil, level: .community),
                street: byCode[String(communityCode.prefix(AreaLevel.street.codeLength))],
                district: byCode[String(communityCode.prefix(AreaLevel.district.codeLength))])
        }
        gridAnswers = self.grids.map { chain(.grid, $0, $0.communityCode) }
        communityAnswers = communities.map { chain(.communityFallback, nil, $0.code) }
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
        if let i = communityIndex.firstContaining(p) { return communityAnswers[i] }
        return .outside
    }

    /// Codes of every grid owning `p` (more than one only where grids overlap): for checking data.
    public func gridOwners(_ p: Position) -> [String] { gridIndex.allContaining(p).map { grids[$0].code } }

    public var memoryBytes: Int { gridIndex.memoryBytes + communityIndex.memoryBytes + grids.count * MemoryLayout<GridInfo>.stride }
}
