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

/// Who owns a point.
public struct LocateResult: Sendable, Hashable {
    public enum Owner: String, Sendable {
        /// A grid owns the point.
        case grid
        /// The point lies in a community but in none of its grids (a gap): the community answers (属地兜底).
        case communityFallback = "community_fallback"
        /// The point lies outside every community.
        case outside
    }

    public var owner: Owner
    public var grid: GridInfo?
    public var community: AreaInfo?
    public var street: AreaInfo?
    public var district: AreaInfo?
}

/// Answers which grid and community own a point, from memory. Immutable and Sendable: one is shared by every
/// thread and replaced whole when the grids or communities change.
public struct Locator: Sendable {
    let grids: [GridInfo]
    let gridIndex: PolygonIndex
    let communities: [AreaInfo]
    let communityIndex: PolygonIndex
    let areas: [String: AreaInfo]

    public init(grids: [(GridInfo, Geometry)], areas: [(AreaInfo, Geometry)]) {
        self.grids = grids.map(\.0)
        gridIndex = PolygonIndex(polygons: grids.map { Self.rings($0.1) })
        let communityAreas = areas.filter { $0.0.level == .community }
        communities = communityAreas.map(\.0)
        communityIndex = PolygonIndex(polygons: communityAreas.map { Self.rings($0.1) })
        var byCode: [String: AreaInfo] = [:]
        for (a, _) in areas { byCode[a.code] = a }
        self.areas = byCode
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
        if let i = gridIndex.firstContaining(p) {
            let g = grids[i]
            return chain(owner: .grid, grid: g, communityCode: g.communityCode)
        }
        if let i = communityIndex.firstContaining(p) {
            return chain(owner: .communityFallback, grid: nil, communityCode: communities[i].code)
        }
        return LocateResult(owner: .outside)
    }

    private func chain(owner: LocateResult.Owner, grid: GridInfo?, communityCode: String) -> LocateResult {
        LocateResult(
            owner: owner, grid: grid,
            community: areas[communityCode] ?? AreaInfo(code: communityCode, name: nil, level: .community),
            street: areas[String(communityCode.prefix(AreaLevel.street.codeLength))],
            district: areas[String(communityCode.prefix(AreaLevel.district.codeLength))])
    }

    /// Codes of every grid owning `p` (more than one only where grids overlap): for checking data.
    public func gridOwners(_ p: Position) -> [String] { gridIndex.allContaining(p).map { grids[$0].code } }

    public var memoryBytes: Int { gridIndex.memoryBytes + communityIndex.memoryBytes + grids.count * MemoryLayout<GridInfo>.stride }
}
