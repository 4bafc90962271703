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

    /// Distinct road names and classes within the radius, nearest first, with the widest width known of each:
    /// the access routes.
    public var roadNames: [(name: String?, roadClass: String?, distance: Double, width: Double?)] {
        let layer = Layer.roads
        let n = layer.fields.firstIndex { $0.name == "name" }!, c = layer.fields.firstIndex { $0.name == "class" }!
        let w = layer.fields.firstIndex { $0.name == "width" }!
        var at: [String: Int] = [:]
        var out: [(String?, String?, Double, Double?)] = []
        for (e, d) in roads {  // nearest first, as `within` gives them
            let key = "\(e.values[n].text ?? "")|\(e.values[c].text ?? "")"
            var width: Double?
            if case .real(let x) = e.values[w] { width = x } else if case .integer(let i) = e.values[w] { width = Double(i) }
            if let i = at[key] {
                if let width { out[i].3 = max(out[i].3 ?? width, width) }
            } else {
                at[key] = out.count
                out.append((e.values[n].text, e.values[c].text, d, width))
            }
        }
        return out
    }
}
