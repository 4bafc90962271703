import Foundation
import GeoGrid
import HTTPTypes
import Hummingbird

/// Open311 GeoReport v2 at `/open311/v2/`: `discovery`, `services`, `services/{code}`, `requests` (GET and POST)
/// and `requests/{id}`, each as `.json` or `.xml`. A service is a category of the store's catalogue (its
/// `service_code` is the category's code, as `POST /incidents` takes it); a request is a case, `open` while its
/// stage is open and `closed` after; `api_key` is a GeoGrid token (a grid worker's or a dispatcher's). Reports
/// come in through `IncidentDesk.report` on the channel `open311`, like every other report. Errors are
/// GeoReport's list of `{code, description}`. Personal fields never leave through it.
struct Open311API {
    let store: GeoStore
    let auth: Auth
    let desk: IncidentDesk
    /// The largest body taken (ServerLimits.maxBodyBytes).
    let maxBody: Int
    static let spec = "http://wiki.open311.org/GeoReport_v2"

    enum Format: String { case json, xml }

    struct Failure: Error {
        var status: HTTPResponse.Status
        var description: String
        init(_ status: HTTPResponse.Status, _ description: String) {
            self.status = status
            self.description = description
        }
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get("open311/v2/:resource") { request, context in
            try answer(request, context.parameters.get("resource") ?? "") { name, format in
                // The document gives every resource the requests' filters: a status is checked wherever it is given.
                let q = Parameters(request)
                for s in q.list("status") ?? [] where s != "open" && s != "closed" {
                    throw Failure(.badRequest, "status is open or closed, not \(s)")
                }
                for id in (q.string("service_request_id") ?? "").split(separator: ",", omittingEmptySubsequences: false) where q.string("service_request_id") != nil {
                    guard let n = Int64(id.trimmingCharacters(in: .whitespaces)), n > 0 else { throw Failure(.badRequest, "service_request_id is a list of request ids") }
                }
                for name in ["start_date", "end_date"] {
                    if let text = q.string(name), Timestamp(iso8601: text) == nil {
                        throw Failure(.badRequest, "\(name) must be a W3C datetime such as 2026-11-01T00:00:00Z")
                    }
                }
                switch name {
                case "discovery": return try discovery(request, format)
                case "services": return try services(request, format)
                case "requests": return try requests(request, format)
                default: throw Failure(.notFound, "no resource \(name) (discovery, services, requests)")
                }
            }
        }
        router.post("open311/v2/:resource") { request, context in
            // A body too large or cut short is answered in GeoReport's format, as every other failure.
            let body: Result<[UInt8], Problem>
            do { body = .success(try await request.body(upTo: self.maxBody)) } catch let p as Problem { body = .failure(p) }
            let resource = context.parameters.get("resource") ?? "", api = self
            // A report waits for its group commit: on the writers' threads, as every write route.
            return try await BlockingPool.shared.run {
                try api.answer(request, resource) { name, format in
                    guard name == "requests" else { throw Failure(.methodNotAllowed, "only requests take a POST") }
                    return try api.create(request, try body.get(), format)
                }
            }
        }
        router.get("open311/v2/services/:file") { request, context in
            try answer(request, context.parameters.get("file") ?? "") { code, format in try service(code, request, format) }
        }
        router.get("open311/v2/requests/:file") { request, context in
            try answer(request, context.parameters.get("file") ?? "") { id, format in
                _ = try reader(request)
                guard let n = Int64(id), n > 0 else { throw Failure(.notFound, "service_request_id \(id) is not a request of this server") }
                let found = try list(ids: [n], codes: nil, since: nil, until: nil, status: nil, limit: 1)
                guard !found.isEmpty else { throw Failure(.notFound, "no service request \(id)") }
                return (Self.requestsRoot, found)
            }
        }
    }

    static let requestsRoot = ("service_requests", "request")

    /// Runs a handler on `name.format`, answering its value as JSON or XML, and its failures as GeoReport errors.
    func answer(_ request: Request, _ file: String, _ body: (String, Format) throws -> ((String, String), [JSONValue])) throws -> Response {
        var format = Format.json
        var name = file
        if let dot = file.lastIndex(of: ".") {
            name = String(file[..<dot])
            guard let f = Format(rawValue: String(file[file.index(after: dot)...]).lowercased()) else {
                return Self.error(Failure(.badRequest, "the format is .json or .xml"), .json)
            }
            format = f
        }
        do {
            if let empty = Parameters(request).emptyName { throw Failure(.badRequest, "\(empty) is empty: give it a value or leave it out") }
            let (root, items) = try body(name, format)
            return Self.respond(root: root, items, format, status: request.method == .post ? .created : .ok)
        } catch let f as Failure {
            return Self.error(f, format)
        } catch let p as Problem {
            return Self.error(Failure(p.status, p.detail), format)
        } catch let e as EditError {
            return Self.error(Failure(Problem.from(e).status, e.message), format)
        } catch let e as SQLiteError where e.isDiskFull || e.isIOError {
            let p = Problem.storage(e)
            return Self.error(Failure(p.status, p.detail), format)
        }
    }

    func reader(_ request: Request) throws -> Token? {
        do { return try auth.reader(request) } catch let p as Problem { throw Failure(p.status, p.detail) }
    }

    // MARK: Resources

    func discovery(_ request: Request, _ format: Format) throws -> ((String, String), [JSONValue]) {
        _ = try reader(request)
        let base = TileJSONAPI.base(of: request) + "/open311/v2/"
        let endpoint = JSONValue.object([
            ("specification", .string(Self.spec)), ("url", .string(base)), ("changeset", .string(try changeset())),
            ("type", .string("production")), ("formats", .array([.string("application/json"), .string("text/xml")])),
        ])
        return (("discovery", ""), [.object([
            ("changeset", .string(try changeset())), ("contact", .string("GeoGrid: \(base)")),
            ("key_service", .string("api_key is a GeoGrid token (geo-cli token create --role grid_worker|dispatcher)")),
            ("endpoints", .array([endpoint])),
        ])])
    }

    /// When the services last changed: when the city last loaded its catalogue, else when the store was made
    /// (the defaults change only with GeoGrid itself).
    func changeset() throws -> String {
        if let t = try store.incidentConfigUpdated() { return t }
        let created = (try? FileManager.default.attributesOfItem(atPath: store.path)[.creationDate] as? Date)
            ?? (try? FileManager.default.attributesOfItem(atPath: store.path)[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
        return Timestamp(seconds: created.timeIntervalSince1970.rounded(.down)).text
    }

    func services(_ request: Request, _ format: Format) throws -> ((String, String), [JSONValue]) {
        _ = try reader(request)
        let config = try store.incidentConfig()
        let zh = Self.wantsChinese(request)
        let list: [JSONValue] = config.categories.map { c in
            let parent = c.parent.flatMap(config.category)
            return .object([
                ("service_code", .string(c.code)), ("service_name", .string(zh ? c.entry.zh : c.entry.en)),
                ("description", .string("\(c.entry.zh) / \(c.entry.en)")), ("metadata", .bool(true)), ("type", .string("realtime")),
                ("keywords", .string([c.code, c.entry.zh, c.entry.en, c.group].joined(separator: ","))),
                ("group", .string(parent.map { zh ? $0.entry.zh : $0.entry.en } ?? c.group)),
            ])
        }
        return (("services", "service"), list)
    }

    func service(_ code: String, _ request: Request, _ format: Format) throws -> ((String, String), [JSONValue]) {
        _ = try reader(request)
        let config = try store.incidentConfig()
        guard let c = config.category(code) else { throw Failure(.notFound, "no service \(code)") }
        let zh = Self.wantsChinese(request)
        var attributes: [JSONValue] = []
        func attribute(_ code: String, _ type: String, _ description: String, order: Int, values: [(String, String)] = []) {
            var m: [(String, JSONValue)] = [
                ("variable", .bool(true)), ("code", .string(code)), ("datatype", .string(type)), ("required", .bool(false)),
                ("datatype_description", .string(description)), ("order", .number(Double(order))), ("description", .string(description)),
            ]
            if !values.isEmpty { m.append(("values", .array(values.map { .object([("key", .string($0.0)), ("name", .string($0.1))]) }))) }
            attributes.append(.object(m))
        }
        let minors = config.categories.filter { $0.parent == c.code }
        if !minors.isEmpty { attribute("subcategory", "singlevaluelist", "Minor class", order: 1, values: minors.map { ($0.code, zh ? $0.entry.zh : $0.entry.en) }) }
        attribute("priority", "singlevaluelist", "Priority", order: 2, values: Incident.priorities.map { ($0, $0) })
        attribute("floor", "number", "Floor", order: 3)
        attribute("location_detail", "string", "Where exactly (gas meter, stairwell B)", order: 4)
        attribute("building_id", "number", "Building id, when known", order: 5)
        return (("service_definition", ""), [.object([("service_code", .string(c.code)), ("attributes", .array(attributes))])])
    }

    static func wantsChinese(_ request: Request) -> Bool {
        (request.headers[.acceptLanguage] ?? "").lowercased().hasPrefix("zh")
    }

    func requests(_ request: Request, _ format: Format) throws -> ((String, String), [JSONValue]) {
        _ = try reader(request)
        let q = Parameters(request)
        let ids = try q.string("service_request_id").map { text in
            try text.split(separator: ",").map { s -> Int64 in
                guard let n = Int64(s.trimmingCharacters(in: .whitespaces)), n > 0 else { throw Failure(.badRequest, "service_request_id is a list of request ids") }
                return n
            }
        }
        func date(_ name: String) throws -> Timestamp? {
            guard let text = q.string(name) else { return nil }
            guard let t = Timestamp(iso8601: text) else { throw Failure(.badRequest, "\(name) must be a W3C datetime such as 2026-11-01T00:00:00Z") }
            return t
        }
        var since = try date("start_date"), until = try date("end_date")
        let status = q.list("status")
        for s in status ?? [] where s != "open" && s != "closed" { throw Failure(.badRequest, "status is open or closed, not \(s)") }
        if ids == nil {
            // GeoReport: the most recent 90 days unless a range is given, and no range longer than 90 days.
            let day = 86_400.0
            if let s = since, let u = until, u.seconds - s.seconds > 90 * day { throw Failure(.badRequest, "start_date to end_date may span at most 90 days") }
            if since == nil { since = Timestamp(seconds: (until ?? desk.clock()).seconds - 90 * day) }
            if until == nil { until = Timestamp(seconds: since!.seconds + 90 * day) }
        }
        return (Self.requestsRoot, try list(ids: ids, codes: q.list("service_code"), since: since, until: until, status: status, limit: 1000))
    }

    func list(ids: [Int64]?, codes: Set<String>?, since: Timestamp?, until: Timestamp?, status: Set<String>?, limit: Int) throws -> [JSONValue] {
        let config = try store.incidentConfig()
        var query = IncidentQuery()
        query.limit = limit
        if let codes { query.categories = codes.sorted() }
        if let ids { query.ids = ids }
        query.since = since
        query.until = until
        if let status, status.count == 1 { query.open = status.contains("open") }
        let (features, _) = try desk.incidents(query) { _ in false }
        return features.map { f in
            func p(_ k: String) -> JSONValue { f[property: k] ?? .null }
            let code = p("subcategory") == .null ? p("category") : p("subcategory")
            let category = code.stringValue.flatMap(config.category)
            let stage = p("stage").stringValue.flatMap(config.workflow.stage)
            let department = p("department").stringValue.flatMap(config.department)
            guard case .point(let position) = f.geometry, case .int(let id)? = f.id else { return .null }
            return .object([
                ("service_request_id", .string(String(id))), ("status", .string(p("open") == .bool(true) ? "open" : "closed")),
                ("status_notes", .string(stage.map { "\($0.entry.en) (\($0.entry.zh))" } ?? "")), ("service_name", category.map { .string($0.entry.en) } ?? .null),
                ("service_code", code), ("description", p("description") == .null ? p("title") : p("description")),
                ("agency_responsible", department.map { .string($0.entry.en) } ?? .null),
                ("service_notice", .string("case \(p("case_number").stringValue ?? "")")),
                ("requested_datetime", p("reported_at")), ("updated_datetime", p("updated_at")),
                ("expected_datetime", p("open") == .bool(true) ? p("red_at") : .null),
                ("address", p("location_detail")), ("address_id", .null), ("zipcode", .null),
                ("lat", .number(position.lat)), ("long", .number(position.lon)), ("media_url", f[property: "media_url"] ?? .null),
            ])
        }
    }

    /// `POST requests`: form-encoded as GeoReport says (or JSON), `api_key` a GeoGrid token.
    func create(_ request: Request, _ body: [UInt8], _ format: Format) throws -> ((String, String), [JSONValue]) {
        var fields: [String: String] = [:]
        let type = request.headers[.contentType]?.lowercased() ?? "application/x-www-form-urlencoded"
        if type.hasPrefix("application/json") {
            guard case .object(let m)? = try? JSONParser.parse(body) else { throw Failure(.badRequest, "the body is not a JSON object") }
            for (k, v) in m {
                if let s = v.stringValue { fields[k] = s } else if let n = v.numberValue { fields[k] = String(n) }
            }
        } else {
            for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
                fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
            }
        }
        for (k, v) in Parameters(request).values where fields[k] == nil { fields[k] = v }
        // Forms send empty fields for what was left blank: they say nothing.
        fields = fields.filter { !$0.value.isEmpty }
        var token: Token?
        do { token = try auth.token(request) } catch let p as Problem { throw Failure(p.status, p.detail) }
        if token == nil, let key = fields["api_key"] {
            guard let t = try store.authenticate(key) else { throw Failure(.forbidden, "the api_key is not a valid GeoGrid token") }
            token = t
        }
        guard token != nil else { throw Failure(.forbidden, "an api_key (a GeoGrid token) is required to post a service request") }
        guard let code = fields["service_code"], !code.isEmpty else { throw Failure(.badRequest, "service_code is required") }
        guard let lat = fields["lat"].flatMap(Double.init), let lon = fields["long"].flatMap(Double.init), abs(lat) <= 90, abs(lon) <= 180 else {
            throw Failure(.badRequest, "lat and long (WGS84) are required: GeoGrid places every request in its grid")
        }
        var r = IncidentReport(position: Position(lon, lat), category: code)
        r.channel = "open311"
        r.description = fields["description"]
        r.locationDetail = fields["attribute[location_detail]"] ?? fields["address_string"]
        r.subcategory = fields["attribute[subcategory]"]
        r.priority = fields["attribute[priority]"]
        if let f = fields["attribute[floor]"] {
            guard let n = Int64(f) else { throw Failure(.badRequest, "attribute[floor] is a whole number") }
            r.floor = n
        }
        if let b = fields["attribute[building_id]"] {
            guard let n = Int64(b) else { throw Failure(.badRequest, "attribute[building_id] is a whole number") }
            r.buildingID = n
        }
        let name = [fields["first_name"], fields["last_name"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        r.reporterName = name.isEmpty ? nil : name
        let contact = [fields["phone"], fields["email"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
        r.reporterContact = contact.isEmpty ? nil : contact
        for key in ["media_url", "device_id", "account_id", "address_id"] { if let v = fields[key], !v.isEmpty { r.extra.append((key, .string(v))) } }
        let record = try desk.report(r, by: token)
        guard case .int(let id)? = record.feature.id else { throw Failure(.internalServerError, "no id") }
        let number = record.feature[property: "case_number"]?.stringValue ?? ""
        return (Self.requestsRoot, [.object([
            ("service_request_id", .string(String(id))),
            ("service_notice", .string("case \(number), sent to \(record.feature[property: "department"]?.stringValue ?? "the centre")")),
            ("account_id", fields["account_id"].map(JSONValue.string) ?? .null),
        ])])
    }

    // MARK: Encoding

    static func respond(root: (String, String), _ items: [JSONValue], _ format: Format, status: HTTPResponse.Status) -> Response {
        var out: [UInt8] = []
        switch format {
        case .json:
            // Lists are arrays; discovery and a service definition are one object.
            GeoJSONWriter.value(root.1.isEmpty ? items.first ?? .null : .array(items), into: &out)
            return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
        case .xml:
            var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(root.0)>"
            if root.1.isEmpty { xml += items.first.map { inner($0, element: nil) } ?? "" } else { for item in items { xml += element(root.1, item) } }
            xml += "</\(root.0)>\n"
            return Response(status: status, headers: [.contentType: "text/xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: xml)))
        }
    }

    static func error(_ f: Failure, _ format: Format) -> Response {
        let e = JSONValue.object([("code", .number(Double(f.status.code))), ("description", .string(f.description))])
        var r = respond(root: ("errors", "error"), [e], format, status: f.status)
        r.status = f.status
        return r
    }

    /// A value as XML: objects as child elements, arrays as repeated elements (a list's singular name).
    static func element(_ name: String, _ v: JSONValue) -> String { "<\(name)>\(inner(v, element: name))</\(name)>" }

    static func inner(_ v: JSONValue, element name: String?) -> String {
        switch v {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): return escape(s)
        case .object(let m):
            return m.map { k, v in
                if let list = v.arrayValue {
                    // endpoints → endpoint, attributes → attribute, values → value, formats → format
                    let one = k.hasSuffix("s") ? String(k.dropLast()) : k
                    return "<\(k)>" + list.map { element(one, $0) }.joined() + "</\(k)>"
                }
                return element(k, v)
            }.joined()
        case .array, .numbers: return (v.arrayValue ?? []).map { element(name ?? "item", $0) }.joined()
        }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 has no place for most control characters.
                if c.value < 0x20 && c != "\n" && c != "\t" && c != "\r" { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
