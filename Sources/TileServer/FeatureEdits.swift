import Foundation
import GeoGrid
import HTTPTypes
import Hummingbird

/// OGC API – Features Part 4: `POST /collections/{id}/items` (a Feature, or a FeatureCollection as one
/// all-or-nothing transaction), `PUT`, `PATCH` (JSON Merge Patch) and `DELETE /collections/{id}/items/{fid}`,
/// with `If-Match` against the item's strong ETag, `Content-Crs` (or `crs=gcj02|bd09`) for bodies in another
/// CRS, and `GET /audit` for admins. Every write goes through `GeoStore.edit`, which checks, writes, audits and
/// syncs in one transaction; the answer comes after the commit.
struct FeatureEditsAPI {
    let store: GeoStore
    let auth: Auth
    let features: FeaturesAPI
    /// The largest body taken (ServerLimits.maxBodyBytes): more is a 413.
    let maxBody: Int

    func add(to router: Router<BasicRequestContext>) {
        router.post("collections/:id/items") { request, context in try await create(request, context) }
        router.put("collections/:id/items/:featureId") { request, context in try await change(request, context, patch: false) }
        router.patch("collections/:id/items/:featureId") { request, context in try await change(request, context, patch: true) }
        router.delete("collections/:id/items/:featureId") { request, context in try await remove(request, context) }
        router.get("audit") { request, _ in try auditLog(request) }
        // QGIS (3.32 and later) asks OPTIONS of these two paths and offers editing by the methods in Allow.
        router.on("collections/:id/items", method: .options) { _, context in
            _ = try features.layer(context)
            return Response(status: .noContent, headers: [.allow: "GET, POST, OPTIONS"])
        }
        router.on("collections/:id/items/:featureId", method: .options) { _, context in
            _ = try features.layer(context)
            return Response(status: .noContent, headers: [.allow: "GET, PUT, PATCH, DELETE, OPTIONS"])
        }
    }

    func body(_ request: Request) async throws -> JSONValue {
        if let type = request.headers[.contentType]?.lowercased(), !(type.hasPrefix("application/geo+json") || type.hasPrefix("application/json")
            || type.hasPrefix("application/merge-patch+json"))
        {
            throw Problem(.unsupportedMediaType, "send GeoJSON (application/geo+json) or a merge patch (application/merge-patch+json), not \(type)")
        }
        let bytes = try await request.body(upTo: maxBody)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw Problem.badRequest("the body is not JSON: \(error)")
        }
    }

    /// The body's geometries into WGS84 lon/lat: from `Content-Crs` (the CRSs the collections offer) or from
    /// `crs=gcj02|bd09`.
    func toStore(_ request: Request) throws -> (Geometry) throws -> Geometry {
        let q = Parameters(request)
        if let name = q.string("crs") {
            guard let crs = MapCRS(rawValue: name.lowercased()) else {
                throw Problem.badRequest("crs must be one of \(MapCRS.allCases.map(\.rawValue).joined(separator: ", ")) for a body, not \(name)")
            }
            return { $0.mapPositions(crs.toWGS84) }
        }
        guard var header = request.headers[HTTPField.Name("Content-Crs")!] else { return { $0 } }
        header = header.trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
        guard let crs = FeaturesAPI.crsList.first(where: { $0.uri == header }) else {
            throw Problem.badRequest("Content-Crs must be one of \(FeaturesAPI.crsList.map(\.uri).joined(separator: ", ")), not \(header)")
        }
        if crs.proj == "EPSG:3857" {
            let t = try ProjTransform(from: "EPSG:3857")
            return { g in try g.mapPositions { try t.transform($0) } }
        }
        return crs.latFirst ? { $0.mapPositions { Position($0.lat, $0.lon) } } : { $0 }
    }

    func feature(_ value: JSONValue, _ transform: (Geometry) throws -> Geometry) throws -> Feature {
        var f: Feature
        do { f = try GeoJSON.feature(from: value) } catch { throw Problem(.unprocessableContent, "\(error)") }
        f.geometry = try transform(f.geometry)
        return f
    }

    func create(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let layer = try features.layer(context)
        let token = try auth.writer(request)
        let json = try await body(request)
        let transform = try toStore(request)
        let requests: [EditRequest]
        if json["type"]?.stringValue == "FeatureCollection" {
            guard let list = json["features"]?.arrayValue, !list.isEmpty else { throw Problem(.unprocessableContent, "the FeatureCollection has no features") }
            requests = try list.enumerated().map { i, f in
                do { return .create(try feature(f, transform)) } catch let p as Problem { throw Problem(p.status, "feature \(i): \(p.detail)") }
            }
        } else {
            requests = [.create(try feature(json, transform))]
        }
        let store = self.store, edits = requests
        let outcomes = try await BlockingPool.shared.run { try Problem.editing { try store.edit(layer, edits, by: token) } }
        let base = TileJSONAPI.base(of: request)
        var headers: HTTPFields = [:]
        headers[.location] = "\(base)/collections/\(layer.name)/items/\(outcomes[0].id)"
        var out: [UInt8] = []
        if outcomes.count == 1, let f = outcomes[0].feature {
            headers[.eTag] = outcomes[0].etag
            GeoJSONWriter().feature(f, into: &out)
        } else {
            // A FeatureCollection of the created features, in the order sent.
            out.append(contentsOf: #"{"type":"FeatureCollection","features":["#.utf8)
            for (i, o) in outcomes.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if let f = o.feature { GeoJSONWriter().feature(f, into: &out) }
            }
            out.append(contentsOf: "]}".utf8)
        }
        headers[.contentType] = "application/geo+json"
        return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }

    func featureID(_ context: BasicRequestContext) throws -> Int64 {
        guard let id = Int64(context.parameters.get("featureId") ?? "") else { throw Problem(.notFound, "no such feature") }
        return id
    }

    func change(_ request: Request, _ context: BasicRequestContext, patch: Bool) async throws -> Response {
        let layer = try features.layer(context)
        let id = try featureID(context)
        let token = try auth.writer(request)
        let json = try await body(request)
        let transform = try toStore(request)
        let ifMatch = try Problem.ifMatch(request)
        let edit: EditRequest
        if patch {
            // A merge patch of a feature: `properties` merged, `geometry` (in the body's CRS) replacing.
            guard case .object(let members) = json else { throw Problem(.unprocessableContent, "a merge patch is a JSON object") }
            for (key, _) in members where !["properties", "geometry", "type", "id", "bbox", "links"].contains(key) {
                throw Problem(.unprocessableContent, "a feature's merge patch takes properties and geometry, not \(key)")
            }
            var geometry: Geometry?
            if let g = json["geometry"], g != .null {
                do { geometry = try transform(try GeoJSON.geometry(from: g)) } catch let p as FeatureProblem { throw Problem(.unprocessableContent, "geometry: \(p)") }
            }
            edit = .patch(id: id, properties: json["properties"], geometry: geometry, ifMatch: ifMatch)
        } else {
            edit = .replace(id: id, try feature(json, transform), ifMatch: ifMatch)
        }
        let store = self.store, one = edit
        let outcome = try await BlockingPool.shared.run { try Problem.editing { try store.edit(layer, [one], by: token) } }[0]
        var out: [UInt8] = []
        if let f = outcome.feature { GeoJSONWriter().feature(f, into: &out) }
        var headers: HTTPFields = [.contentType: "application/geo+json"]
        headers[.eTag] = outcome.etag
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }

    func remove(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let layer = try features.layer(context)
        let id = try featureID(context)
        let token = try auth.writer(request)
        let store = self.store, ifMatch = try Problem.ifMatch(request)
        _ = try await BlockingPool.shared.run { try Problem.editing { try store.edit(layer, [.delete(id: id, ifMatch: ifMatch)], by: token) } }
        return Response(status: .noContent)
    }


    /// `GET /audit` (admin): every write, oldest first; filters collection, feature, token, since, limit.
    func auditLog(_ request: Request) throws -> Response {
        guard let token = try auth.token(request) else { throw Auth.unauthorized("the audit needs an admin token") }
        guard token.role == .admin else { throw Problem(.forbidden, "the audit is for admin tokens") }
        let q = Parameters(request)
        let featureID = try q.integer("feature", in: 0...9_007_199_254_740_991).map(Int64.init)
        let tokenID = try q.integer("token", in: 0...9_007_199_254_740_991).map(Int64.init)
        let entries = try store.audit(collection: q.string("collection"), featureID: featureID, tokenID: tokenID, since: q.string("since"),
            limit: try q.integer("limit", in: 1...100_000) ?? 1000)
        return .json(.object([("entries", .array(entries))]))
    }
}
