import Foundation
import Synchronization

/// One problem a check found in a plan, with where it is, so a map or QGIS can show it.
public struct PlanFinding: Sendable {
    public enum Severity: String, Sendable { case error, warning }
    public var kind: String
    public var severity: Severity
    public var grids: [String]
    public var message: String
    public var geometry: Geometry?
    /// Measures of the finding (area_m2, households, …).
    public var members: [(String, JSONValue)] = []

    public var json: JSONValue {
        var geometryJSON: JSONValue = .null
        if let geometry {
            var bytes: [UInt8] = []
            GeoJSONWriter().geometry(geometry, into: &bytes)
            geometryJSON = (try? JSONParser.parse(bytes)) ?? .null
        }
        return .object([("kind", .string(kind)), ("severity", .string(severity.rawValue)), ("grids", .array(grids.map(JSONValue.string))),
            ("message", .string(message)), ("geometry", geometryJSON)] + members)
    }
}

/// The thresholds of the checks, from the store's `plans` document when a city loaded one.
public struct PlanCheckSettings: Sendable {
    /// Overlaps, gaps and parts outside the community smaller than this are not reported (digitising noise).
    public var toleranceSquareMetres = 1.0
    /// Parts of a grid narrower than this are slivers.
    public var sliverWidthMetres = 2.0
    /// A building is cut when a second grid holds at least this share of its footprint (and the tolerance).
    public var cutShare = 0.02
    /// The size band of a grid: by households or by population.
    public var sizeBy = "households"
    public var sizeMin: Double? = 300
    public var sizeMax: Double? = 500
    public var gridsPerCommunity: ClosedRange<Int>? = nil
    /// "Street-bounded" made measurable (off unless a city asks): a grid's boundary farther than `withinMetres`
    /// from every road and from the community's edge, as a share of its perimeter, is a warning above `maxShare`.
    public var streetBounded: (withinMetres: Double, maxShare: Double)? = nil

    /// Bands from practice: one worker per 200–300 households; 300–500 households; about 2,000 residents.
    public static let presets: [String: (by: String, min: Double, max: Double)] = [
        "households_200_300": ("households", 200, 300), "households_300_500": ("households", 300, 500),
        "residents_2000": ("population", 1_500, 2_500),
    ]

    public init() {}

    /// Settings from a `plans` document: `{"tolerance_m2", "sliver_width_m", "cut_share", "size": {"preset"} or
    /// {"by", "min", "max"}, "grids_per_community": {"min", "max"}, "communities": {code: {…the same…}}}`;
    /// a community's own entry overrides the city's.
    public init(document: JSONValue?, community: String?) throws {
        self.init()
        guard let document else { return }
        try apply(document)
        if let community, let own = document["communities"]?[community] { try apply(own) }
    }

    /// Checks a `plans` document: known members only, numbers where numbers go, presets that exist, for the
    /// city and every community it names.
    public static func validate(_ document: JSONValue) throws {
        let members: Set<String> = ["tolerance_m2", "sliver_width_m", "cut_share", "size", "grids_per_community", "street_bounded"]
        func check(_ d: JSONValue, _ at: String, allowCommunities: Bool) throws {
            guard case .object(let m) = d else { throw EditError(kind: .invalid, message: "\(at) must be an object") }
            for (k, v) in m {
                if k == "communities" && allowCommunities {
                    guard case .object(let cs) = v else { throw EditError(kind: .invalid, message: "communities must map community codes to settings") }
                    for (code, c) in cs {
                        guard code.count == 12, code.allSatisfy(\.isNumber) else { throw EditError(kind: .invalid, message: "communities: \(code) is not a 12-digit community code") }
                        try check(c, "communities.\(code)", allowCommunities: false)
                    }
                    continue
                }
                guard members.contains(k) else {
                    throw EditError(kind: .invalid, message: "\(at): unknown member \(k) (members: \((members.union(allowCommunities ? ["communities"] : [])).sorted().joined(separator: ", ")))")
                }
                if ["tolerance_m2", "sliver_width_m", "cut_share"].contains(k) {
                    guard let n = v.numberValue, n >= 0, k != "cut_share" || n <= 1 else {
                        throw EditError(kind: .invalid, message: "\(at).\(k) must be a number ≥ 0\(k == "cut_share" ? " and ≤ 1" : "")")
                    }
                }
            }
            var s = PlanCheckSettings()
            try s.apply(d)
            if let lo = s.sizeMin, let hi = s.sizeMax, lo > hi { throw EditError(kind: .invalid, message: "\(at).size: min is above max") }
        }
        try check(document, "plans", allowCommunities: true)
    }

    private mutating func apply(_ d: JSONValue) throws {
        func number(_ k: String) -> Double? { d[k]?.numberValue }
        if let t = number("tolerance_m2") { toleranceSquareMetres = t }
        if let w = number("sliver_width_m") { sliverWidthMetres = w }
        if let c = number("cut_share") { cutShare = c }
        if let size = d["size"] {
            if let preset = size["preset"]?.stringValue {
                guard let p = Self.presets[preset] else {
                    throw EditError(kind: .invalid, message: "size preset '\(preset)' is not one of \(Self.presets.keys.sorted().joined(separator: ", "))")
                }
                (sizeBy, sizeMin, sizeMax) = (p.by, p.min, p.max)
            } else {
                if let by = size["by"]?.stringValue {
                    guard by == "households" || by == "population" else { throw EditError(kind: .invalid, message: "size.by must be households or population") }
                    sizeBy = by
                }
                sizeMin = size["min"]?.numberValue
                sizeMax = size["max"]?.numberValue
            }
        }
        if let sb = d["street_bounded"] {
            if sb == .bool(false) || sb == .null {
                streetBounded = nil
            } else {
                let within = sb["within_m"]?.numberValue ?? 20, share = sb["max_share"]?.numberValue ?? 0.25
                guard within > 0, (0...1).contains(share) else {
                    throw EditError(kind: .invalid, message: "street_bounded: within_m is a distance > 0 and max_share a share 0…1")
                }
                streetBounded = (within, share)
            }
        }
        if let g = d["grids_per_community"] {
            let lo = Int(g["min"]?.numberValue ?? 1), hi = Int(g["max"]?.numberValue ?? 999)
            guard lo <= hi else { throw EditError(kind: .invalid, message: "grids_per_community: min is above max") }
            gridsPerCommunity = lo...hi
        }
    }
}

/// A grid of the mosaic a plan makes of one community: an open grid it keeps, or one of the plan's.
struct MosaicGrid {
    var code: String?
    var geometry: Geometry
    var fromPlan: Bool
    /// Drawn anew by the plan (or audited): what only a grid's own shape decides (slivers, parts outside, cut
    /// buildings, overlaps with its neighbours) is checked for these; a grid the plan keeps as it is cannot
    /// have changed in those respects.
    var changed: Bool
}

extension PlanDesk {
    /// The findings of `plan`: structure and codes, validity, parts outside the community, overlaps, gaps,
    /// slivers, cut buildings, sizes and counts. Error-level findings block apply.
    public func check(_ id: Int64) throws -> [PlanFinding] {
        let plan = try self.plan(id)
        return try check(plan)
    }

    /// The checks of a plan run over the grids in force themselves, community by community (`communities` nil:
    /// every community of the communities layer): overlaps, gaps, slivers, parts outside, cut buildings, sizes,
    /// codes, as if each community were redrawn exactly as it is. What a city audits before it plans.
    public func checkCity(communities: [String]? = nil) throws -> [PlanFinding] {
        let open = try openGrids()
        let all = try communities ?? store.read { db in
            let s = try db.prepare("SELECT code FROM communities WHERE level = 'community' ORDER BY code")
            var out: [String] = []
            while try s.step() { if let c = s.text(0) { out.append(c) } }
            return out
        }
        let wanted = Set(all)
        let grids = open.filter { wanted.contains($0.info.communityCode) }.map { g in
            PlanGrid(code: g.info.code, action: .change, name: g.info.name, workerName: g.info.workerName, workerPhone: g.info.workerPhone,
                households: g.info.households, population: g.info.population, extra: g.extra, geometry: g.geometry)
        }
        let plan = Plan(id: 0, title: "the grids in force", status: .draft, communities: all, created: "", createdBy: nil, updated: "", effective: nil,
            appliedAt: nil, appliedBy: nil, inForce: false, rollbackOf: nil, rolledBackBy: nil, grids: grids)
        return try check(plan, open: open, audit: true)
    }

    /// With `audit`, every grid of the plan is checked as drawn anew, also where it equals the grid in force.
    func check(_ plan: Plan, open given: [OpenGrid]? = nil, audit: Bool = false) throws -> [PlanFinding] {
        var findings: [PlanFinding] = []
        let open = try given ?? openGrids(communities: plan.touchedCommunities)
        let openByCommunity = Dictionary(grouping: open, by: { $0.info.communityCode })
        let plannedByCommunity = Dictionary(grouping: plan.grids.filter { $0.communityCode != nil }, by: { $0.communityCode! })
        let uncoded = plan.grids.filter { $0.communityCode == nil }
        let openByCode = Dictionary(open.map { ($0.info.code, $0) }) { a, _ in a }
        let document = try store.read { try $0.scalar("SELECT value FROM geogrid_config WHERE name = 'plans'").text }.flatMap { try? JSONParser.parse($0) }
        let buildings = try store.shapeIndex(.buildings)
        let locator = try store.locator()

        // Codes: present, well formed, not clashing with an open grid they do not redraw.
        for g in plan.grids {
            guard let code = g.code else {
                findings.append(PlanFinding(kind: "missing_code", severity: .error, grids: [], message: "a grid has no code (ask for codes to be assigned)",
                    geometry: g.geometry))
                continue
            }
            guard GridCode(code) != nil else {
                findings.append(PlanFinding(kind: "malformed_code", severity: .error, grids: [code], message: GridCode.problem(with: code), geometry: g.geometry))
                continue
            }
            switch g.action {
            case .add where openByCode[code] != nil:
                findings.append(PlanFinding(kind: "duplicate_code", severity: .error, grids: [code],
                    message: "grid \(code) is already in the store: redraw it (action change) or give the new grid another code", geometry: g.geometry))
            case .change where openByCode[code] == nil, .retire where openByCode[code] == nil:
                findings.append(PlanFinding(kind: "unknown_code", severity: .error, grids: [code],
                    message: "grid \(code) is not in the store: there is nothing to \(g.action.rawValue)", geometry: g.geometry))
            default: break
            }
        }

        /// One community's mosaic: validity, codes' prefixes, parts outside, overlaps, gaps, slivers, cut buildings,
        /// sizes and the number of grids.
        @Sendable func checkCommunity(_ community: String, _ geos: GEOSContext) throws -> [PlanFinding] {
            var findings: [PlanFinding] = []
                let settings = try PlanCheckSettings(document: document, community: community)
            let boundary = try store.read { db -> Geometry? in
                let s = try db.cached("SELECT geom FROM communities WHERE code = ? AND level = 'community'")
                defer { s.reset() }
                try s.bind([.text(community)])
                return try s.step() ? try GeoStore.geometry(s, 0) : nil
            }
            guard let boundary, let box = boundary.bbox else {
                findings.append(PlanFinding(kind: "unknown_community", severity: .error, grids: plan.grids.compactMap(\.code).filter { $0.hasPrefix(community) },
                    message: "community \(community) is not in the store's communities layer"))
                return findings
            }
            let frame = LocalFrame(Position((box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2))
            let planned = (plannedByCommunity[community] ?? []) + uncoded.filter { $0.code == nil && $0.geometry.map { g in
                geos.representativePoint(g).map { locator.locate($0).community?.code == community } ?? false } ?? false }
            let replaced = Set(planned.compactMap { $0.code })
            let inForce = Dictionary((openByCommunity[community] ?? []).map { ($0.info.code, $0) }) { a, _ in a }
            var members: [MosaicGrid] = (openByCommunity[community] ?? []).filter { !replaced.contains($0.info.code) }
                .map { .init(code: $0.info.code, geometry: $0.geometry, fromPlan: false, changed: false) }
            members += planned.filter { $0.action != .retire }.compactMap { g in
                g.geometry.map { geometry in
                    .init(code: g.code, geometry: geometry, fromPlan: true, changed: audit || g.code.flatMap { code in inForce[code] }?.geometry != geometry)
                }
            }
            let label = { (m: MosaicGrid) in m.code ?? "(no code)" }
            let tol = settings.toleranceSquareMetres

            // Validity (GEOS's reason and where); invalid grids sit out the overlay checks.
            var valid: [(member: MosaicGrid, metric: GEOSGeometry)] = []
            for m in members {
                if let reason = geos.invalidityReason(m.geometry) {
                    guard m.fromPlan else { continue }
                    findings.append(PlanFinding(kind: "invalid_geometry", severity: .error, grids: [label(m)], message: "grid \(label(m)): \(reason)",
                        geometry: Self.location(in: reason).map(Geometry.point) ?? m.geometry))
                    continue
                }
                guard let g = geos.geometry(frame.metres(m.geometry)) else { continue }
                valid.append((m, g))
            }
            // Codes whose community prefix is not the community the grid lies in.
            for m in members where m.fromPlan {
                guard let code = m.code, let gc = GridCode(code), let p = geos.representativePoint(m.geometry) else { continue }
                let lies = locator.locate(p).community?.code
                if gc.community != community || (lies != nil && lies != gc.community) {
                    findings.append(PlanFinding(kind: "code_prefix", severity: .error, grids: [code],
                        message: "grid \(code)'s code says community \(gc.community) but it lies in \(lies ?? community)", geometry: .point(p)))
                }
            }
            guard let parent = geos.geometry(frame.metres(boundary)) else { return findings }

            // Parts outside the community (none where the community, prepared, covers the grid).
            let preparedParent = geos.prepare(parent)
            for (m, g) in valid where m.changed {
                if let preparedParent, geos.covers(preparedParent, g) { continue }
                guard let outside = geos.difference(g, parent) else { continue }
                let area = geos.area(outside)
                if area > tol {
                    findings.append(PlanFinding(kind: "outside_community", severity: .error, grids: [label(m)],
                        message: "grid \(label(m)) reaches \(Self.squareMetres(area)) outside community \(community)",
                        geometry: Self.degrees(geos.polygons(outside), frame), members: [("area_m2", .number(Self.rounded(area)))]))
                }
            }
            // Overlaps between grids (pairs whose boxes meet), at least one of them from the plan: looked for only
            // when the grids' areas add up to more than the area of their union (by more than the tolerance).
            let boxes = valid.map { $0.member.geometry.bbox ?? .empty }
            let metric = valid.map { frame.metres($0.member.geometry) }
            let covered = geos.union(metric)
            let deficit = covered.map { u in valid.reduce(0) { $0 + geos.area($1.metric) } - geos.area(u) } ?? .infinity
            for i in valid.indices where deficit > tol {
                for j in valid.indices where j > i && boxes[i].intersects(boxes[j]) && (valid[i].member.changed || valid[j].member.changed) {
                    guard let both = geos.intersection(valid[i].metric, valid[j].metric) else { continue }
                    let parts = geos.polygons(both)
                    let area = geos.area(both)
                    if area > tol && !parts.isEmpty {
                        findings.append(PlanFinding(kind: "overlap", severity: .error, grids: [label(valid[i].member), label(valid[j].member)],
                            message: "grids \(label(valid[i].member)) and \(label(valid[j].member)) overlap by \(Self.squareMetres(area))",
                            geometry: Self.degrees(parts, frame), members: [("area_m2", .number(Self.rounded(area)))]))
                    }
                }
            }
            // Gaps: parts of the community no grid covers.
            if let covered, let uncovered = geos.difference(parent, covered) {
                for part in geos.polygons(uncovered) {
                    guard let pg = geos.geometry(.polygon(part)) else { continue }
                    let area = geos.area(pg)
                    if area > tol {
                        findings.append(PlanFinding(kind: "gap", severity: .error, grids: Self.neighbours(pg, valid, geos, label),
                            message: "\(Self.squareMetres(area)) of community \(community) is in no grid", geometry: Self.degrees([part], frame),
                            members: [("area_m2", .number(Self.rounded(area)))]))
                    }
                }
            } else if valid.isEmpty {
                findings.append(PlanFinding(kind: "gap", severity: .error, grids: [], message: "community \(community) would have no grid", geometry: boundary))
            }
            // Slivers: what an opening by half the width takes away.
            let half = settings.sliverWidthMetres / 2
            for (m, g) in valid where m.changed && half > 0 {
                if PlanGeometry.surelyNoSliver(frame.metres(m.geometry), width: settings.sliverWidthMetres) { continue }
                guard let inner = geos.mitredBuffer(g, -half), let opened = geos.mitredBuffer(inner, half), let thin = geos.difference(g, opened) else { continue }
                let parts = geos.polygons(thin).filter { part in geos.geometry(.polygon(part)).map { geos.area($0) > max(tol, 4 * half * half) } ?? false }
                if !parts.isEmpty {
                    let area = parts.compactMap { geos.geometry(.polygon($0)).map(geos.area) }.reduce(0, +)
                    findings.append(PlanFinding(kind: "sliver", severity: .warning, grids: [label(m)],
                        message: "grid \(label(m)) has \(parts.count) part(s) narrower than \(Self.rounded(settings.sliverWidthMetres)) m (\(Self.squareMetres(area)))",
                        geometry: Self.degrees(parts, frame), members: [("area_m2", .number(Self.rounded(area)))]))
                }
            }
            // Buildings: cut by a boundary, and where each goes (the grid holding its representative point).
            var totals = [Int: (households: Int64, population: Int64, buildings: Int)]()
            let hIndex = Layer.buildings.fields.firstIndex { $0.name == "households" }!, pIndex = Layer.buildings.fields.firstIndex { $0.name == "population" }!
            var prepared: [Int: GEOSPrepared] = [:]
            var planar: [Int: Geometry] = [:]
            let changedBoxes = valid.indices.filter { valid[$0].member.changed }.map { boxes[$0] }
            buildings.forEach(intersecting: box) { b in
                // Its grid: the one its point on surface lies in; when its whole box lies deep inside the grid
                // holding the box's centre, that grid (wherever the point is), with no GEOS and no cut possible.
                let c = Position((b.box.minX + b.box.maxX) / 2, (b.box.minY + b.box.maxY) / 2)
                var home: Int?, deepInside = false
                if let k = valid.indices.first(where: { boxes[$0].contains(c) && Self.contains(valid[$0].member.geometry, c) }) {
                    if planar[k] == nil { planar[k] = frame.metres(valid[k].member.geometry) }
                    let lo = frame.metres(Position(b.box.minX, b.box.minY)), hi = frame.metres(Position(b.box.maxX, b.box.maxY))
                    if PlanGeometry.surelyInside(box: BBox(minX: lo.lon, minY: lo.lat, maxX: hi.lon, maxY: hi.lat), planar[k]!) { (home, deepInside) = (k, true) }
                }
                if !deepInside {
                    guard let point = geos.representativePoint(b.geometry) else { return }
                    home = valid.indices.first { boxes[$0].contains(point) && Self.contains(valid[$0].member.geometry, point) }
                }
                if let home {
                    totals[home, default: (0, 0, 0)].households += b.values[hIndex].integer ?? 0
                    totals[home, default: (0, 0, 0)].population += b.values[pIndex].integer ?? 0
                    totals[home, default: (0, 0, 0)].buildings += 1
                }
                // Only a boundary the plan draws can newly cut a building; one deep inside its grid is not cut.
                guard !deepInside, changedBoxes.contains(where: { $0.intersects(b.box) }) else { return }
                guard let bm = geos.geometry(frame.metres(b.geometry)) else { return }
                // Inside its grid, away from every boundary: not cut (most buildings; the grid is prepared once).
                if let home {
                    if prepared[home] == nil { prepared[home] = geos.prepare(valid[home].metric) }
                    if let p = prepared[home], geos.containsProperly(p, bm) { return }
                }
                let footprint = geos.area(bm)
                var shares: [(Int, Double)] = []
                for k in valid.indices where boxes[k].intersects(b.box) {
                    guard let part = geos.intersection(bm, valid[k].metric) else { continue }
                    let a = geos.area(part)
                    if a > tol && a >= settings.cutShare * footprint { shares.append((k, a)) }
                }
                guard shares.count > 1, shares.contains(where: { valid[$0.0].member.changed }) else { return }
                let names = shares.map { label(valid[$0.0].member) }
                let goes = home.map { label(valid[$0].member) }
                findings.append(PlanFinding(kind: "cut_building", severity: .warning, grids: names,
                    message: "building \(b.id) is cut by the boundary of \(names.joined(separator: " and ")); it goes to \(goes ?? "no grid")",
                    geometry: b.geometry, members: [("building_id", .number(Double(b.id))), ("goes_to", goes.map(JSONValue.string) ?? .null),
                        ("shares_m2", .object(shares.map { (label(valid[$0.0].member), .number(Self.rounded($0.1))) }))]))
            }
            // Boundaries along no road and not along the community's edge.
            if let rule = settings.streetBounded {
                let roads = try store.shapeIndex(.roads)
                let nameIndex = Layer.roads.fields.firstIndex { $0.name == "name" }
                let edge = geos.boundary(parent).flatMap { geos.buffer($0, rule.withinMetres) }
                let pad = rule.withinMetres / frame.scale.lat * 2
                for (m, g) in valid where m.changed {
                    guard let rim = geos.boundary(g), let b = m.geometry.bbox else { continue }
                    let near = roads.entries(intersecting: BBox(minX: b.minX - pad * 2, minY: b.minY - pad, maxX: b.maxX + pad * 2, maxY: b.maxY + pad))
                    let lines = near.flatMap { entry -> [[Position]] in
                        switch entry.geometry {
                        case .lineString(let l): [l.map(frame.metres)]
                        case .multiLineString(let ls): ls.map { $0.map(frame.metres) }
                        default: []
                        }
                    }
                    let along = lines.isEmpty ? nil : geos.geometry(.multiLineString(lines)).flatMap { geos.buffer($0, rule.withinMetres) }
                    var off: GEOSGeometry? = rim
                    if let along, let o = off { off = geos.difference(o, along) }
                    if let edge, let o = off { off = geos.difference(o, edge) }
                    let perimeter = geos.length(rim)
                    guard let off, perimeter > 0 else { continue }
                    let length = geos.length(off), share = length / perimeter
                    guard share > rule.maxShare else { continue }
                    // The roads the rest of the boundary follows, by name.
                    var names = Set<String>()
                    if let nameIndex {
                        for entry in near {
                            guard let name = entry.values[nameIndex].text, !name.isEmpty, let rg = geos.geometry(frame.metres(entry.geometry)),
                                let zone = geos.buffer(rg, rule.withinMetres), let shared = geos.intersection(rim, zone), geos.length(shared) > rule.withinMetres
                            else { continue }
                            names.insert(name)
                        }
                    }
                    findings.append(PlanFinding(kind: "street_bounded", severity: .warning, grids: [label(m)],
                        message: "\(Int((share * 100).rounded()))% of grid \(label(m))'s boundary (\(Int(length.rounded())) of \(Int(perimeter.rounded())) m) runs along no road "
                            + "and not along the community's edge\(names.isEmpty ? "" : "; it follows \(names.sorted().joined(separator: ", "))")",
                        geometry: frame.degrees(.multiLineString(geos.lines(off))),
                        members: [("share", .number((share * 1000).rounded() / 1000)), ("off_road_m", .number(Self.rounded(length))),
                            ("perimeter_m", .number(Self.rounded(perimeter))), ("roads", .array(names.sorted().map(JSONValue.string)))]))
                }
            }
            // Sizes (from the buildings each grid would hold) and the number of grids.
            for (k, v) in valid.enumerated() where v.member.fromPlan {
                let t = totals[k] ?? (0, 0, 0)
                let size = Double(settings.sizeBy == "population" ? t.population : t.households)
                if let lo = settings.sizeMin, size < lo {
                    findings.append(PlanFinding(kind: "size", severity: .warning, grids: [label(v.member)],
                        message: "grid \(label(v.member)) would have \(Int(size)) \(settings.sizeBy), below \(Int(lo))", geometry: v.member.geometry,
                        members: [(settings.sizeBy, .number(size)), ("min", .number(lo))]))
                } else if let hi = settings.sizeMax, size > hi {
                    findings.append(PlanFinding(kind: "size", severity: .warning, grids: [label(v.member)],
                        message: "grid \(label(v.member)) would have \(Int(size)) \(settings.sizeBy), above \(Int(hi))", geometry: v.member.geometry,
                        members: [(settings.sizeBy, .number(size)), ("max", .number(hi))]))
                }
            }
            if let range = settings.gridsPerCommunity, !range.contains(members.count) {
                findings.append(PlanFinding(kind: "grid_count", severity: .warning, grids: members.map(label),
                    message: "community \(community) would have \(members.count) grids, outside \(range.lowerBound)–\(range.upperBound)", geometry: boundary,
                    members: [("count", .number(Double(members.count)))]))
            }
            return findings
        }
        // Communities are independent: a city's check runs them on every core, one GEOS context a thread.
        let list = plan.communities
        let workers = list.count >= 16 ? max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
        let results = Mutex([[PlanFinding]](repeating: [], count: list.count))
        let failure = Mutex<String?>(nil)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let context = GEOSContext()
            for i in stride(from: w, to: list.count, by: workers) {
                do {
                    let found = try checkCommunity(list[i], context)
                    results.withLock { $0[i] = found }
                } catch {
                    failure.withLock { $0 = $0 ?? "\(error)" }
                }
            }
        }
        if let message = failure.withLock({ $0 }) { throw StoreError(message) }
        findings += results.withLock { $0 }.flatMap { $0 }
        return findings
    }

    static func contains(_ g: Geometry, _ p: Position) -> Bool {
        switch g {
        case .polygon(let rings): Geometry.polygonContains(rings, p)
        case .multiPolygon(let polygons): polygons.contains { Geometry.polygonContains($0, p) }
        default: false
        }
    }

    /// The grids along a gap (those within a metre of it).
    static func neighbours(_ gap: GEOSGeometry, _ valid: [(member: MosaicGrid, metric: GEOSGeometry)], _ geos: GEOSContext,
        _ label: (MosaicGrid) -> String
    ) -> [String] {
        guard let near = geos.buffer(gap, 1) else { return [] }
        return valid.filter { geos.holds(.intersects, near, $0.metric) == true }.map { label($0.member) }
    }

    static func degrees(_ parts: [PolygonRings], _ frame: LocalFrame) -> Geometry { frame.degrees(.multiPolygon(parts)) }

    /// GEOS puts the place of a problem at the end of its reason: "Self-intersection[24.94 60.17]".
    static func location(in reason: String) -> Position? {
        guard let open = reason.lastIndex(of: "["), let close = reason.lastIndex(of: "]"), open < close else { return nil }
        let numbers = reason[reason.index(after: open)..<close].split(separator: " ").compactMap { Double($0) }
        return numbers.count >= 2 ? Position(numbers[0], numbers[1]) : nil
    }

    static func rounded(_ x: Double) -> Double { (x * 10).rounded() / 10 }
    static func squareMetres(_ a: Double) -> String { "\(rounded(a)) m²" }
}

