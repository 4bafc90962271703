import Foundation
import GeoGrid
import HTTPTypes
import Hummingbird

/// Boundary plans over HTTP: `POST /plans` (a proposal), `GET /plans`, `GET /plans/{id}`,
/// `PATCH /plans/{id}/grids/{code}` (one grid of a draft replaced), `GET /plans/{id}/check`,
/// `GET /plans/{id}/impact` (JSON, or GeoJSON of the moved buildings), `POST /plans/{id}/apply`
/// (`{"effective": "YYYY-MM-DD"}`) and `POST /plans/{id}/rollback`. Writes take a planner's (or an admin's)
/// token, checked against the plan's communities by `PlanDesk`; reads follow the server's read rule, and
/// the grid workers' phones only reach those who see personal fields in all the plan's communities.
struct PlansAPI {
    let store: GeoStore
    let auth: Auth
    /// The largest body taken (ServerLimits.maxBodyBytes).
    let maxBody: Int

    var desk: PlanDesk { PlanDesk(store: store) }

    func add(to router: Router<BasicRequestContext>) {
        router.post("plans") { request, _ in try await create(request) }
        router.get("plans") { request, _ in try list(request) }
        router.get("plans/:planId") { request, context in
            let token = try auth.reader(request)
            let plan = try Problem.editing { try desk.plan(try Self.id(context)) }
            return answer(plan, token: token)
        }
        router.patch("plans/:planId/grids/:code") { request, context in try await editGrid(request, context) }
        router.get("plans/:planId/check") { request, context in
            _ = try auth.reader(request)
            let id = try Self.id(context), desk = self.desk
            let findings = try await BlockingPool.shared.run { try Problem.editing { try desk.check(id) } }
            return Response.json(.object([("plan", .number(Double(id))), ("findings", .array(findings.map(\.json)))]))
        }
        router.get("plans/:planId/impact") { request, context in try await impact(request, context) }
        router.post("plans/:planId/apply") { request, context in try await apply(request, context) }
        router.post("plans/:planId/rollback") { request, context in
            let token = try auth.writer(request)
            let id = try Self.id(context), desk = self.desk
            let plan = try await BlockingPool.shared.run { try Problem.editing { try desk.rollback(id, by: token) } }
            return created(plan, request, token: token)
        }
    }

    static func id(_ context: BasicRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("planId"), let id = Int64(text), id > 0 else {
            throw Problem(.notFound, "a plan id is a positive whole number")
        }
        return id
    }

    func body(_ request: Request) async throws -> JSONValue { try await request.json(upTo: maxBody) }

    func personal(_ plan: Plan, _ token: Token?) -> Bool {
        token != nil && !plan.communities.isEmpty && plan.communities.allSatisfy { Access.seesPersonal(token, codes: [$0]) }
    }

    func answer(_ plan: Plan, token: Token?, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var out: [UInt8] = []
        plan.encoded(personal: personal(plan, token), into: &out)
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }

    func created(_ plan: Plan, _ request: Request, token: Token) -> Response {
        answer(plan, token: token, status: .created, headers: [.location: "\(TileJSONAPI.base(of: request))/plans/\(plan.id)"])
    }

    /// A proposal: a FeatureCollection of grids (optional members `title` and `communities`); `assign_codes=true`
    /// gives grids without a code the next free code of their community.
    func create(_ request: Request) async throws -> Response {
        let token = try auth.writer(request)
        let q = Parameters(request)
        for name in q.values.keys where !["assign_codes", "title"].contains(name) {
            throw Problem.badRequest("unknown parameter \(name) (parameters: assign_codes, title)")
        }
        let assign: Bool
        switch q.string("assign_codes") {
        case nil, "false": assign = false
        case "true": assign = true
        case let other?: throw Problem.badRequest("assign_codes must be true or false, not \(other)")
        }
        let proposal = try await body(request)
        let title = q.string("title"), desk = self.desk
        let plan = try await BlockingPool.shared.run { try Problem.editing { try desk.create(proposal, title: title, assignCodes: assign, by: token) } }
        return created(plan, request, token: token)
    }

    func list(_ request: Request) throws -> Response {
        _ = try auth.reader(request)
        let q = Parameters(request)
        for name in q.values.keys where name != "status" { throw Problem.badRequest("unknown parameter \(name) (parameters: status)") }
        var plans = try desk.plans()
        if let status = q.string("status") {
            guard Plan.Status(rawValue: status) != nil else { throw Problem.badRequest("status must be draft, applied or rolled_back, not \(status)") }
            plans = plans.filter { $0.status.rawValue == status }
        }
        let base = TileJSONAPI.base(of: request)
        return .json(.object([("plans", .array(plans.map { p in
            guard case .object(var members) = p.summary else { return p.summary }
            members.append(("links", .array([.object([("href", .string("\(base)/plans/\(p.id)")), ("rel", .string("item")), ("type", .string("application/json"))])])))
            return .object(members)
        }))]))
    }

    func editGrid(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let token = try auth.writer(request)
        let id = try Self.id(context)
        let raw = context.parameters.get("code") ?? ""
        let code = raw.removingPercentEncoding ?? raw
        let feature = try await body(request)
        guard feature["type"]?.stringValue == "Feature" else { throw Problem(.unprocessableContent, "send the grid as a GeoJSON Feature") }
        let desk = self.desk
        let plan = try await BlockingPool.shared.run { try Problem.editing { try desk.replaceGrid(plan: id, code: code, with: feature, by: token) } }
        return answer(plan, token: token)
    }

    /// JSON by default; the moved buildings as GeoJSON with `f=geojson` or `Accept: application/geo+json`.
    func impact(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try auth.reader(request)
        let id = try Self.id(context)
        let q = Parameters(request)
        for name in q.values.keys where name != "f" { throw Problem.badRequest("unknown parameter \(name) (parameters: f)") }
        let geojson: Bool
        switch q.string("f") {
        case "geojson": geojson = true
        case "json": geojson = false
        case nil: geojson = request.headers[.accept]?.contains("application/geo+json") == true
        case let other?: throw Problem.badRequest("f must be json or geojson, not \(other)")
        }
        let desk = self.desk
        let impact = try await BlockingPool.shared.run { try Problem.editing { try desk.impact(id) } }
        guard geojson else { return .json(impact.json) }
        var out: [UInt8] = Array(#"{"type":"FeatureCollection","features":["#.utf8)
        let writer = GeoJSONWriter()
        for (i, f) in impact.featureCollection.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writer.feature(f, into: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return .json(out, contentType: "application/geo+json")
    }

    /// `{"effective": "YYYY-MM-DD"}`: 200 with the plan; 409 with the error findings while any stands.
    func apply(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let token = try auth.writer(request)
        let id = try Self.id(context)
        let json = try await body(request)
        guard case .object(let members) = json, let effective = json["effective"]?.stringValue else {
            throw Problem(.unprocessableContent, "send {\"effective\": \"YYYY-MM-DD\"}")
        }
        if let other = members.first(where: { $0.0 != "effective" }) { throw Problem(.unprocessableContent, "unknown member \(other.0) (members: effective)") }
        let desk = self.desk
        do {
            let plan = try await BlockingPool.shared.run { try Problem.editing { try desk.apply(id, effective: effective, by: token) } }
            return answer(plan, token: token)
        } catch var problem as Problem where problem.status == .conflict && problem.members.contains(where: { $0.0 == "stage" }) {
            // Refused for its errors: the findings that stand, so a client can show them without asking again.
            let findings = try await BlockingPool.shared.run { try desk.check(id) }.filter { $0.severity == .error }
            problem.members.append(("findings", .array(findings.map(\.json))))
            throw problem
        }
    }
}
