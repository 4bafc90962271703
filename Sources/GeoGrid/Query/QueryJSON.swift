import Foundation

/// JSON shapes of query answers, shared by the CLI and the server.
public enum QueryJSON {
    public static func area(_ a: AreaInfo?) -> JSONValue {
        guard let a else { return .null }
        return .object([("code", .string(a.code)), ("name", a.name.map(JSONValue.string) ?? .null)])
    }

    /// Who owns `p`. Without `personal`, the grid worker's phone (a personal field) is left out.
    public static func locate(_ r: LocateResult, at p: Position, personal: Bool = true) -> JSONValue {
        let grid: JSONValue = r.grid.map { g in
            var members: [(String, JSONValue)] = [
                ("code", .string(g.code)), ("name", g.name.map(JSONValue.string) ?? .null),
                ("worker_name", g.workerName.map(JSONValue.string) ?? .null),
            ]
            if personal { members.append(("worker_phone", g.workerPhone.map(JSONValue.string) ?? .null)) }
            members += [("households", g.households.map { .number(Double($0)) } ?? .null), ("population", g.population.map { .number(Double($0)) } ?? .null)]
            return .object(members)
        } ?? .null
        return .object([
            ("lon", .number(p.lon)), ("lat", .number(p.lat)), ("owner", .string(r.owner.rawValue)), ("grid", grid),
            ("community", area(r.community)), ("street", area(r.street)), ("district", area(r.district)),
        ])
    }

    /// A FeatureCollection of the buildings, resources and roads found, each with its layer and distance, and
    /// a `summary` foreign member (RFC 7946 §6.1) with the owner and the totals.
    /// Members of `extra` (a JSON object's text) whose names `taken` does not hold already.
    static func merged(_ members: [(String, JSONValue)], _ extra: String?) -> [(String, JSONValue)] {
        let more = Layer.extraMembers(extra)
        guard !more.isEmpty else { return members }
        let taken = Set(members.map(\.0))
        return members + more.filter { !taken.contains($0.0) }
    }

    /// A FeatureCollection of the buildings, resources, roads and features of the city's own layers found,
    /// each with its layer, distance and every attribute (personal ones only with `personal`), and a `summary`
    /// foreign member (RFC 7946 §6.1) with the owner and the totals.
    public static func around(_ r: AroundResult, crs: MapCRS, given: Position, personal: Bool = true, into out: inout [UInt8]) {
        let writer = GeoJSONWriter()
        var features: [Feature] = []
        func add(_ layer: Layer, _ e: ShapeIndex.Entry, _ d: Double) {
            var props: [(String, JSONValue)] = [("layer", .string(layer.rawValue)), ("distance_m", .number((d * 10).rounded() / 10))]
            for (f, v) in zip(layer.fields, e.values) where personal || !f.personal { props.append((f.name, f.json(v))) }
            features.append(Feature(id: .int(e.id), geometry: e.geometry.mapPositions(crs.fromWGS84), properties: merged(props, e.extra)))
        }
        for (e, d) in r.buildings { add(.buildings, e, d) }
        for h in r.resources {
            features.append(Feature(id: .int(h.resource.id), geometry: .point(crs.fromWGS84(h.resource.position)), properties: merged([
                ("layer", .string("resources")), ("distance_m", .number((h.distance * 10).rounded() / 10)), ("bearing_deg", .number((h.bearing * 10).rounded() / 10)),
                ("type", .string(h.resource.type)), ("name", h.resource.name.map(JSONValue.string) ?? .null), ("status", .string(h.resource.status)),
                ("capacity", h.resource.capacity.map { .number(Double($0)) } ?? .null),
            ], h.resource.properties)))
        }
        for (e, d) in r.roads { add(.roads, e, d) }
        for (layer, found) in r.others { for (e, d) in found { add(layer, e, d) } }
        let summary = aroundSummary(r.summary, given: given, personal: personal)
        out.append(contentsOf: "{\"type\":\"FeatureCollection\",\"summary\":".utf8)
        GeoJSONWriter.value(summary, into: &out)
        out.append(contentsOf: ",\"features\":[".utf8)
        for (i, f) in features.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writer.feature(f, into: &out)
        }
        out.append(contentsOf: "]}".utf8)
    }

    /// The `summary` of an `/around` answer: the owner, the buildings' totals, resources by type, the roads
    /// (name, class, width, distance) and the counts of the city's own layers.
    public static func aroundSummary(_ r: AroundSummary, given: Position, personal: Bool = true) -> JSONValue {
        let t = r.buildings
        return .object([
            ("center", .numbers([given.lon, given.lat])), ("radius_m", .number(r.radius)), ("location", locate(r.location, at: given, personal: personal)),
            ("buildings", .object([("count", .number(Double(t.count))), ("households", .number(Double(t.households))),
                ("population", .number(Double(t.population))), ("max_floors", t.maxFloors.map { .number(Double($0)) } ?? .null)])),
            ("resources", .object(r.resourcesByType.map { ($0.type, .number(Double($0.count))) })),
            ("roads", .array(r.roads.map { .object([("name", $0.name.map(JSONValue.string) ?? .null), ("class", $0.roadClass.map(JSONValue.string) ?? .null),
                ("distance_m", .number(($0.distance * 10).rounded() / 10)), ("width", $0.width.map(JSONValue.number) ?? .null)]) })),
            ("layers", .object(r.layers.map { ($0.layer.name, .number(Double($0.count))) })),
        ])
    }

    /// The hits nearest first, each with its distance, bearing and attributes (a hydrant's flow beside its
    /// distance). Resources keep their fixed members; a feature of a defined layer (`layer`) has its id, place,
    /// distance and bearing and then every property (personal ones only with `personal`), and the answer's
    /// list is named `features`.
    public static func nearest(_ hits: [NearestHit], at p: Position, layer: Layer = .resources, personal: Bool = true) -> JSONValue {
        let hidden = personal ? [] : Set(layer.personalFields.map(\.name))
        let list: [JSONValue] = hits.map { h in
            var members: [(String, JSONValue)] = [("id", .number(Double(h.resource.id)))]
            if layer.rules == .resources {
                members += [("type", .string(h.resource.type)), ("name", h.resource.name.map(JSONValue.string) ?? .null),
                    ("status", .string(h.resource.status)), ("capacity", h.resource.capacity.map { .number(Double($0)) } ?? .null)]
            }
            members += [("lon", .number(h.resource.position.lon)), ("lat", .number(h.resource.position.lat)),
                ("distance_m", .number((h.distance * 1000).rounded() / 1000)), ("bearing_deg", .number((h.bearing * 10).rounded() / 10))]
            members = merged(members, h.resource.properties)
            return .object(hidden.isEmpty ? members : members.filter { !hidden.contains($0.0) })
        }
        var answer: [(String, JSONValue)] = [("lon", .number(p.lon)), ("lat", .number(p.lat))]
        if layer.rules == .resources { answer.append(("resources", .array(list))) } else { answer += [("layer", .string(layer.name)), ("features", .array(list))] }
        return .object(answer)
    }
}
