import Foundation
import GeoGrid
import HTTPTypes
import Hummingbird

/// Cases over HTTP: `POST /incidents` (report), `GET /incidents` (lists), `GET /incidents/{id}` (with history
/// and situation), `POST /incidents/{id}/transitions`, `POST /incidents/{id}/move`, `POST /incidents/{id}/situation`
/// (recomputed), `GET /incidents/overdue`, `GET /incidents/stats` and `GET /incidents/catalogue`. Every write
/// goes through `IncidentDesk` with the caller's token; answers come after the synced commit.
struct IncidentsAPI {
    let store: GeoStore
    let auth: Auth
    let desk: IncidentDesk
    /// The largest body taken (ServerLimits.maxBodyBytes).
    let maxBody: Int
    static let maxLimit = 100_000

    func add(to router: Router<BasicRequestContext>) {
        router.post("incidents") { request, _ in try await report(request) }
        router.get("incidents") { request, _ in try list(request) }
        router.get("incidents/catalogue") { request, _ in
            _ = try auth.reader(request)
            return try catalogue()
        }
        router.get("incidents/overdue") { request, _ in try overdue(request) }
        router.get("incidents/stats") { request, _ in try stats(request) }
        router.get("incidents/:incidentId") { request, context in try show(request, context) }
        router.post("incidents/:incidentId/transitions") { request, context in try await transition(request, context) }
        router.post("incidents/:incidentId/move") { request, context in try await move(request, context) }
        router.post("incidents/:incidentId/situation") { request, context in
            let id = try Self.id(context)
            let token = try auth.writer(request)
            let desk = self.desk
            let situation = try await BlockingPool.shared.run { try Problem.editing { try desk.recomputeSituation(id, by: token) } }
            return Response.json(situation)
        }
    }

    static func id(_ context: BasicRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("incidentId"), let id = Int64(text), id > 0 else {
            throw Problem(.notFound, "a case id is a positive whole number")
        }
        return id
    }

    func body(_ request: Request) async throws -> JSONValue { try await request.json(upTo: maxBody) }

    /// The `crs` query parameter for positions sent (wgs84 by default; gcj02, bd09).
    static func crs(_ request: Request) throws -> MapCRS {
        guard let name = Parameters(request).string("crs") else { return .wgs84 }
        guard let crs = MapCRS(rawValue: name.lowercased()) else {
            throw Problem.badRequest("crs must be one of \(MapCRS.allCases.map(\.rawValue).joined(separator: ", ")), not \(name)")
        }
        return crs
    }

    /// A GeoJSON Feature with a Point, or `{"lon": …, "lat": …, …}`: the position (in WGS84) and the properties.
    static func position(_ json: JSONValue, crs: MapCRS) throws -> (Position, [(String, JSONValue)]) {
        guard case .object(let members) = json else { throw Problem(.unprocessableContent, "send a GeoJSON Feature or {\"lon\": …, \"lat\": …, …}") }
        if json["type"]?.stringValue == "Feature" {
            let f: Feature
            do { f = try GeoJSON.feature(from: json) } catch { throw Problem(.unprocessableContent, "\(error)") }
            guard case .point(let p) = f.geometry else { throw Problem(.unprocessableContent, "a case's geometry is a Point, not \(f.geometry.kind.rawValue)") }
            return (crs.toWGS84(p), f.properties)
        }
        guard let lon = json["lon"]?.numberValue, let lat = json["lat"]?.numberValue, abs(lon) <= 180, abs(lat) <= 90 else {
            throw Problem(.unprocessableContent, "lon and lat are numbers within ±180 and ±90")
        }
        return (crs.toWGS84(Position(lon, lat)), members.filter { $0.0 != "lon" && $0.0 != "lat" && $0.0 != "type" })
    }

    func report(_ request: Request) async throws -> Response {
        let token = try auth.writer(request)
        let crs = try Self.crs(request)
        let json = try await body(request)
        let (p, properties) = try Self.position(json, crs: crs)
        let config = try store.incidentConfig()
        let report: IncidentReport
        do { report = try IncidentReport.parse(properties, at: p, calendar: config.calendar) } catch { throw Problem(.unprocessableContent, "\(error)") }
        let desk = self.desk
        let record = try await BlockingPool.shared.run { try Problem.editing { try desk.report(report, by: token) } }
        return created(record, request)
    }

    /// A case as a 200 answer, with its ETag.
    static func answer(_ record: IncidentRecord) -> Response {
        var out: [UInt8] = []
        record.json(into: &out)
        return Response(status: .ok, headers: [.contentType: "application/geo+json", .eTag: record.etag], body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }

    func created(_ record: IncidentRecord, _ request: Request) -> Response {
        var out: [UInt8] = []
        record.json(into: &out)
        var headers: HTTPFields = [.contentType: "application/geo+json"]
        if case .int(let id)? = record.feature.id { headers[.location] = "\(TileJSONAPI.base(of: request))/incidents/\(id)" }
        headers[.eTag] = record.etag
        return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }

    func show(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let id = try Self.id(context)
        let token = try auth.reader(request)
        guard let codes = try desk.areaCodes(id) else { throw Problem(.notFound, "no case \(id)") }
        guard let record = try desk.incident(id, personal: Access.seesPersonal(token, codes: codes)) else { throw Problem(.notFound, "no case \(id)") }
        if let inm = request.headers[.ifNoneMatch], inm.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == record.etag }) {
            return Response(status: .notModified, headers: [.eTag: record.etag])
        }
        return Self.answer(record)
    }

    func transition(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let token = try auth.writer(request)
        var t: TransitionRequest
        do { t = try TransitionRequest.parse(try await body(request)) } catch let p as Problem { throw p } catch { throw Problem(.unprocessableContent, "\(error)") }
        t.ifMatch = try Problem.ifMatch(request)
        let desk = self.desk, asked = t
        let record = try await BlockingPool.shared.run { try Problem.editing { try desk.transition(id, asked, by: token) } }
        return Self.answer(record)
    }

    func move(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try Self.id(context)
        let token = try auth.writer(request)
        let (p, _) = try Self.position(try await body(request), crs: try Self.crs(request))
        let desk = self.desk
        let record = try await BlockingPool.shared.run { try Problem.editing { try desk.move(id, to: p, by: token) } }
        return Self.answer(record)
    }

    /// The query parameters of lists, checked: unknown ones are a 400, as OGC items' are.
    static func query(_ q: Parameters, known extra: Set<String> = []) throws -> IncidentQuery {
        try IncidentQuery(q, known: extra, maxLimit: maxLimit)
    }

    func list(_ request: Request) throws -> Response {
        let token = try auth.reader(request)
        let q = Parameters(request)
        let query = try Self.query(q)
        let (features, matched) = try desk.incidents(query) { f in
            Access.seesPersonal(token, codes: ["grid_code", "community_code", "street_code", "district_code"].compactMap { f[property: $0]?.stringValue })
        }
        var out: [UInt8] = []
        out.append(contentsOf: #"{"type":"FeatureCollection","numberMatched":"#.utf8)
        GeoJSONWriter.number(Double(matched), into: &out)
        out.append(contentsOf: #","numberReturned":"#.utf8)
        GeoJSONWriter.number(Double(features.count), into: &out)
        out.append(contentsOf: #","timeStamp":"#.utf8)
        GeoJSONWriter.string(desk.clock().text, into: &out)
        var links: [JSONValue] = []
        let base = TileJSONAPI.base(of: request) + "/incidents"
        func link(_ offset: Int, _ rel: String) -> JSONValue {
            let others = q.values.filter { $0.key != "offset" }.sorted { $0.key < $1.key }.map { "\($0.key)=\(FeaturesAPI.encode($0.value))" }
            let query = (others + ["offset=\(offset)"]).joined(separator: "&")
            return .object([("href", .string("\(base)?\(query)")), ("rel", .string(rel)), ("type", .string("application/geo+json"))])
        }
        if query.offset + features.count < matched { links.append(link(query.offset + features.count, "next")) }
        if query.offset > 0 { links.append(link(max(0, query.offset - query.limit), "prev")) }
        out.append(contentsOf: #","links":"#.utf8)
        GeoJSONWriter.value(.array(links), into: &out)
        out.append(contentsOf: #","features":["#.utf8)
        let writer = GeoJSONWriter()
        for (i, f) in features.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writer.feature(f, into: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return .json(out, contentType: "application/geo+json")
    }

    func overdue(_ request: Request) throws -> Response {
        _ = try auth.reader(request)
        let q = Parameters(request)
        for name in q.values.keys where name != "by" { throw Problem.badRequest("unknown parameter \(name) (parameters: by)") }
        let by = q.string("by") ?? "department"
        do { return .json(try desk.overdue(by: by)) } catch let e as StoreError { throw Problem.badRequest(e.description) }
    }

    func stats(_ request: Request) throws -> Response {
        _ = try auth.reader(request)
        let q = Parameters(request)
        for name in q.values.keys where !["period", "by", "f"].contains(name) { throw Problem.badRequest("unknown parameter \(name) (parameters: by, f, period)") }
        let stats: IncidentStats
        do {
            stats = try desk.stats(period: q.string("period"), by: q.string("by") ?? "department")
        } catch let e as StoreError { throw Problem.badRequest(e.description) }
        switch q.string("f") ?? "json" {
        case "json": return .json(stats.json)
        case "csv":
            var r = Response.json(Array(stats.csv.utf8), contentType: "text/csv; charset=utf-8")
            r.headers[.contentDisposition] = "attachment; filename=\"incident-stats-\(stats.period)-by-\(stats.by).csv\""
            return r
        default: throw Problem.badRequest("f must be json or csv")
        }
    }

    /// The catalogues, workflow, deadlines and calendar in force, as the documents a city would load.
    func catalogue() throws -> Response {
        let docs = try store.incidentConfigDocuments()
        return .json(.object(IncidentConfig.parts.compactMap { name in docs[name].map { (name, $0) } }))
    }
}
