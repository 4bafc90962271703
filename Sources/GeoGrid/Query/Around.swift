/// The situation around a point: who owns it, and the buildings, resources and roads within a radius.
public struct AroundResult: Sendable {
    public var center: Position
    public var radius: Double
    public var location: LocateResult
    public var buildings: [(entry: ShapeIndex.Entry, distance: Double)]
    public var resources: [NearestHit]
    public var roads: [(entry: ShapeIndex.Entry, distance: Double)]
    /// Features of the city's own layers within the radius, per layer (those with any).
    public var others: [(layer: Layer, found: [(entry: ShapeIndex.Entry, distance: Double)])] = []

    /// Totals over the buildings: count, households, population, and the tallest.
    public var buildingTotals: BuildingTotals {
        var t = BuildingTotals()
        for (e, _) in buildings { t.add(e) }
        return t
    }

    /// Resources within the radius, counted by type.
    public var resourcesByType: [(type: String, count: Int)] {
        var counts: [String: Int] = [:]
        for r in resources { counts[r.resource.type, default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Distinct road names and classes within the radius, nearest first, with the widest width known of each:
    /// the access routes.
    public var roadNames: [AccessRoad] { AccessRoad.distinct(roads.lazy.map { (AccessRoad($0.entry, distance: $0.distance), $0.entry.id) }) }

    /// The totals `/around` gives in its `summary`.
    public var summary: AroundSummary {
        AroundSummary(center: center, radius: radius, location: location, buildings: buildingTotals, resourcesByType: resourcesByType, roads: roadNames,
            layers: others.map { ($0.layer, $0.found.count) })
    }
}

/// The totals of the situation around a point (the `summary` of `/around`, and of a case's situation package),
/// without the features themselves.
public struct AroundSummary: Sendable {
    public var center: Position
    public var radius: Double
    public var location: LocateResult
    public var buildings: BuildingTotals
    public var resourcesByType: [(type: String, count: Int)]
    public var roads: [AccessRoad]
    /// The number of features of each of the city's own layers within the radius (those with any).
    public var layers: [(layer: Layer, count: Int)]
}

/// Count, households, population and the tallest of a set of buildings.
public struct BuildingTotals: Sendable {
    public var count = 0
    public var households: Int64 = 0
    public var population: Int64 = 0
    public var maxFloors: Int64?

    static let fields = (households: Layer.buildings.fields.firstIndex { $0.name == "households" }!,
        population: Layer.buildings.fields.firstIndex { $0.name == "population" }!, floors: Layer.buildings.fields.firstIndex { $0.name == "floors" }!)

    mutating func add(_ e: borrowing ShapeIndex.Entry) {
        count += 1
        households += e.values[Self.fields.households].integer ?? 0
        population += e.values[Self.fields.population].integer ?? 0
        if let f = e.values[Self.fields.floors].integer { maxFloors = max(maxFloors ?? f, f) }
    }
}

/// A road near a point: its name and class, its distance and its width.
public struct AccessRoad: Sendable {
    public var name: String?
    public var roadClass: String?
    public var distance: Double
    public var width: Double?

    static let fields = (name: Layer.roads.fields.firstIndex { $0.name == "name" }!, roadClass: Layer.roads.fields.firstIndex { $0.name == "class" }!,
        width: Layer.roads.fields.firstIndex { $0.name == "width" }!)

    /// What makes roads one access road: the name and class (a missing one counts as empty).
    struct Key: Hashable {
        var name: String, roadClass: String

        init(name: String, roadClass: String) {
            self.name = name
            self.roadClass = roadClass
        }

        init(_ e: borrowing ShapeIndex.Entry) {
            self.init(name: e.values[AccessRoad.fields.name].text ?? "", roadClass: e.values[AccessRoad.fields.roadClass].text ?? "")
        }
    }

    /// The nearest road of a group found so far (where its entry is kept) and the widest width of the group.
    struct Nearest {
        var distance: Double
        var id: Int64
        var index: Int32
        var fromDelta: Bool
        var width: Double?
    }

    init(_ e: borrowing ShapeIndex.Entry, distance: Double) {
        name = e.values[Self.fields.name].text
        roadClass = e.values[Self.fields.roadClass].text
        self.distance = distance
        width = Self.width(e)
    }

    static func width(_ e: borrowing ShapeIndex.Entry) -> Double? {
        switch e.values[fields.width] {
        case .real(let x): x
        case .integer(let i): Double(i)
        default: nil
        }
    }

    /// One road per name and class (a missing name or class counts as empty), nearest first (ties by id): the
    /// nearest of that name and class, with the widest width known of any. `roads` (with their ids) may come in
    /// any order.
    static func distinct<S: Sequence<(AccessRoad, Int64)>>(_ roads: S) -> [AccessRoad] {
        var best: [Key: (road: AccessRoad, id: Int64)] = [:]
        for (road, id) in roads {
            let key = Key(name: road.name ?? "", roadClass: road.roadClass ?? "")
            guard var b = best[key] else {
                best[key] = (road, id)
                continue
            }
            let width = road.width.map { max(b.road.width ?? $0, $0) } ?? b.road.width
            if road.distance < b.road.distance || (road.distance == b.road.distance && id < b.id) { b = (road, id) }
            b.road.width = width
            best[key] = b
        }
        return best.values.sorted { $0.road.distance != $1.road.distance ? $0.road.distance < $1.road.distance : $0.id < $1.id }.map(\.road)
    }
}
