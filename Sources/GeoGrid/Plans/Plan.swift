import Foundation

/// One grid of a boundary plan: a new grid (`add`), a redrawn one keeping its code (`change`), or one that goes
/// (`retire`, with no geometry of its own).
public struct PlanGrid: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable { case add, change, retire }
    public var code: String?
    public var action: Action
    public var name: String?
    public var workerName: String?
    public var workerPhone: String?
    public var households: Int64?
    public var population: Int64?
    /// The properties no column takes, as a JSON object's text.
    public var extra: String?
    public var geometry: Geometry?

    /// The community the grid belongs to: its code's first 12 digits.
    public var communityCode: String? { code.flatMap(GridCode.init)?.community }

    public func feature(personal: Bool) -> Feature {
        var props: [(String, JSONValue)] = [("code", code.map(JSONValue.string) ?? .null), ("action", .string(action.rawValue)),
            ("community_code", communityCode.map(JSONValue.string) ?? .null), ("name", name.map(JSONValue.string) ?? .null),
            ("worker_name", workerName.map(JSONValue.string) ?? .null)]
        if personal { props.append(("worker_phone", workerPhone.map(JSONValue.string) ?? .null)) }
        props += [("households", households.map { .number(Double($0)) } ?? .null), ("population", population.map { .number(Double($0)) } ?? .null)]
        props += Layer.extraMembers(extra)
        return Feature(geometry: geometry ?? .multiPolygon([]), properties: props)
    }
}

/// A proposal to redraw the grids of one or more communities, and what became of it.
public struct Plan: Sendable {
    public enum Status: String, Sendable { case draft, applied, rolledBack = "rolled_back" }
    public var id: Int64
    public var title: String?
    public var status: Status
    public var communities: [String]
    public var created: String
    public var createdBy: String?
    public var updated: String
    /// The day the applied plan's grids are in force from.
    public var effective: String?
    public var appliedAt: String?
    public var appliedBy: String?
    /// Whether the applied plan has taken effect (its buildings and open cases re-assigned): at once when
    /// applied on or after its effective day, else on that day.
    public var inForce: Bool
    /// For a plan that undoes another: the plan it undid; for an undone plan: the plan that undid it.
    public var rollbackOf: Int64?
    public var rolledBackBy: Int64?
    public var grids: [PlanGrid]
    /// In a list of plans, whose grids are not read: how many it has.
    public var listedGridCount: Int? = nil
    /// How many grids the plan has.
    public var gridCount: Int { listedGridCount ?? grids.count }

    /// The communities the plan redraws and those its grids' codes name: where the grids it may touch are.
    var touchedCommunities: Set<String> { Set(communities).union(grids.compactMap { $0.communityCode }) }

    /// The plan as JSON: its members, then its grids as a FeatureCollection.
    public func encoded(personal: Bool, into out: inout [UInt8]) {
        GeoJSONWriter.value(summary, into: &out)
        out.removeLast()
        out.append(contentsOf: ",\"grids\":{\"type\":\"FeatureCollection\",\"features\":[".utf8)
        let writer = GeoJSONWriter()
        for (i, g) in grids.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writer.feature(g.feature(personal: personal), into: &out)
        }
        out.append(contentsOf: "]}}".utf8)
    }

    /// The plan's members without its grids (for lists).
    public var summary: JSONValue {
        .object([
            ("id", .number(Double(id))), ("title", title.map(JSONValue.string) ?? .null), ("status", .string(status.rawValue)),
            ("communities", .array(communities.map(JSONValue.string))), ("created", .string(created)), ("created_by", createdBy.map(JSONValue.string) ?? .null),
            ("updated", .string(updated)), ("effective", effective.map(JSONValue.string) ?? .null), ("applied_at", appliedAt.map(JSONValue.string) ?? .null),
            ("applied_by", appliedBy.map(JSONValue.string) ?? .null), ("in_force", .bool(inForce)),
            ("rollback_of", rollbackOf.map { .number(Double($0)) } ?? .null), ("rolled_back_by", rolledBackBy.map { .number(Double($0)) } ?? .null),
            ("grid_count", .number(Double(gridCount))),
        ])
    }
}

/// Parsing a proposal (a GeoJSON FeatureCollection of grids) into plan grids.
enum PlanProposal {
    /// The grids of `value`, each with its action: as given (`action`), else `change` when an open grid has
    /// the code, else `add`. With `assignCodes`, a grid without a code gets the next free one of the community
    /// named by its `community_code` or holding its representative point.
    static func grids(_ value: JSONValue, open: [String: GridInfo], assignCodes: Bool, store: GeoStore) throws -> [PlanGrid] {
        func invalid(_ i: Int?, _ m: String) -> EditError { EditError(kind: .invalid, index: i, message: i.map { "grid \($0 + 1): \(m)" } ?? m) }
        guard value["type"]?.stringValue == "FeatureCollection", case .array(let features)? = value["features"] else {
            throw invalid(nil, "a proposal is a GeoJSON FeatureCollection of grids")
        }
        guard !features.isEmpty else { throw invalid(nil, "the proposal has no grids") }
        var out: [PlanGrid] = []
        var codes = Set<String>()
        for (i, f) in features.enumerated() {
            guard f["type"]?.stringValue == "Feature" else { throw invalid(i, "each member of features must be a GeoJSON Feature") }
            var g = try grid(f, index: i)
            if let c = g.code {
                guard codes.insert(c).inserted else { throw invalid(i, "code \(c) is given twice") }
            }
            if g.action == .retire {
                guard let c = g.code, open[c] != nil else { throw invalid(i, "retire needs the code of a grid in the store (\(g.code ?? "no code"))") }
            } else if g.geometry == nil {
                throw invalid(i, "a grid to \(g.action.rawValue) needs a polygon geometry")
            }
            if g.code == nil && assignCodes {
                var community = f["properties"]?["community_code"]?.stringValue
                if community == nil, let geometry = g.geometry, let p = GEOSContext().representativePoint(geometry) {
                    community = try store.locator().locate(p).community?.code
                }
                guard let community, community.count == 12, community.allSatisfy(\.isNumber) else {
                    throw invalid(i, "a code can be assigned only to a grid inside a community (or with a 12-digit community_code)")
                }
                g.code = try nextCode(community: community, taken: codes, store: store)
                codes.insert(g.code!)
            }
            if let c = g.code, f["properties"]?["action"] == nil { g.action = open[c] != nil ? .change : .add }
            out.append(g)
        }
        return out
    }

    /// One feature as a plan grid; its geometry made a multipolygon.
    static func grid(_ f: JSONValue, index i: Int) throws -> PlanGrid {
        func invalid(_ m: String) -> EditError { EditError(kind: .invalid, index: i, message: "grid \(i + 1): \(m)") }
        let props: [(String, JSONValue)]
        switch f["properties"] {
        case .object(let m)?: props = m
        case nil, .null?: props = []
        default: throw invalid("properties must be an object")
        }
        func text(_ k: String) throws -> String? {
            switch props.first(where: { $0.0 == k })?.1 {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw invalid("\(k) must be a string")
            }
        }
        func count(_ k: String) throws -> Int64? {
            switch props.first(where: { $0.0 == k })?.1 {
            case nil, .null?: return nil
            case .number(let n)? where n >= 0 && n == n.rounded() && n < 1e12: return Int64(n)
            default: throw invalid("\(k) must be a whole number ≥ 0")
            }
        }
        var action = PlanGrid.Action.add
        if let a = try text("action") {
            guard let parsed = PlanGrid.Action(rawValue: a) else { throw invalid("action '\(a)' must be add, change or retire") }
            action = parsed
        }
        var geometry: Geometry?
        switch f["geometry"] {
        case nil, .null?: geometry = nil
        case let g?:
            do throws(FeatureProblem) { geometry = try GeoJSON.geometry(from: g) } catch { throw invalid(error.description) }
            switch geometry! {
            case .polygon(let rings): geometry = .multiPolygon([rings])
            case .multiPolygon: break
            default: throw invalid("a grid's geometry must be a Polygon or MultiPolygon")
            }
            if let problem = geometry!.structuralProblem() { throw invalid(problem) }
        }
        let known: Set<String> = ["code", "action", "community_code", "name", "worker_name", "worker_phone", "households", "population"]
        let extraMembers = props.filter { !known.contains($0.0) }
        var extra: String?
        if !extraMembers.isEmpty {
            var bytes: [UInt8] = []
            GeoJSONWriter.value(.object(extraMembers), into: &bytes)
            extra = String(decoding: bytes, as: UTF8.self)
        }
        return PlanGrid(code: try text("code"), action: action, name: try text("name"), workerName: try text("worker_name"), workerPhone: try text("worker_phone"),
            households: try count("households"), population: try count("population"), extra: extra, geometry: geometry)
    }

    /// The community's next grid code: one past the highest sequence any of its grids (closed ones included)
    /// or the plan has used.
    static func nextCode(community: String, taken: Set<String>, store: GeoStore) throws -> String {
        let used: [String] = try store.read { db in
            let s = try db.prepare("SELECT code FROM grids WHERE community_code = ? OR substr(code, 1, 12) = ?")
            try s.bind([.text(community), .text(community)])
            var out: [String] = []
            while try s.step() { if let c = s.text(0) { out.append(c) } }
            return out
        }
        let highest = (used + taken.filter { $0.hasPrefix(community) }).compactMap(GridCode.init).filter { $0.community == community }.map(\.sequence).max() ?? 0
        guard highest < 999 else { throw EditError(kind: .invalid, message: "community \(community) has no free grid sequence left (999 used)") }
        return community + String(repeating: "0", count: 3 - String(highest + 1).count) + String(highest + 1)
    }
}
