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
    public var buildingTotals: (count: Int, households: Int64, population: Int64, maxFloors: Int64?) {
        let layer = Layer.buildings
        let h = layer.fields.firstIndex { $0.name == "households" }!, pop = layer.fields.firstIndex { $0.name == "population" }!
        let fl = layer.fields.firstIndex { $0.name == "floors" }!
        var households: Int64 = 0, population: Int64 = 0
        var maxFloors: Int64?
        for (e, _) in buildings {
            households += e.values[h].integer ?? 0
            population += e.values[pop].integer ?? 0
            if let f = e.values[fl].integer { maxFloors = max(maxFloors ?? f, f) }
        }
        return (buildings.count, households, population, maxFloors)
    }

    /// Resources within the radius, counted by type.
    public var resourcesByType: [(type: String, count: Int)] {
        var counts: [String: Int] = [:]
        for r in resources { counts[r.resource.type, default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Distinct road names and classes within the radius, nearest first: the access routes.
    public var roadNames: [(name: String?, roadClass: String?, distance: Double)] {
        let layer = Layer.roads
        let n = layer.fields.firstIndex { $0.name == "name" }!, c = layer.fields.firstIndex { $0.name == "class" }!
        var seen = Set<String>()
        var out: [(String?, String?, Double)] = []
        for (e, d) in roads {
            let key = "\(e.values[n].text ?? "")|\(e.values[c].text ?? "")"
            if seen.insert(key).inserted { out.append((e.values[n].text, e.values[c].text, d)) }
        }
        return out
    }
}
