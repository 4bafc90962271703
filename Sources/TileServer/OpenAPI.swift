import GeoGrid

/// The OpenAPI 3.0 definition of the server (`GET /api`), built from the same lists the routes use.
enum OpenAPIDocument {
    /// The codes a city's catalogue allows (categories, and the actions a transition's `to` may name), stated
    /// as enumerations so that clients and fuzzers send what the server takes. (Channels and departments stay
    /// strings: the server reads an empty one as not given, which an enumeration cannot say.)
    struct Codes {
        var categories: [String] = [], transitions: [String] = []

        init() {}

        init(_ config: IncidentConfig) {
            categories = config.categories.map(\.code)
            transitions = Array(Set(config.workflow.transitions.map(\.action))).sorted()
        }
    }

    static func make(base: String, layers: [Layer], codes: Codes = Codes()) -> JSONValue {
        func s(_ v: String) -> JSONValue { .string(v) }
        /// A code: one of `values` when the catalogue gives them, else any non-empty string.
        func oneCode(of values: [String]) -> JSONValue {
            values.isEmpty ? .object([("type", s("string")), ("minLength", .number(1))])
                : .object([("type", s("string")), ("enum", .array(values.map(JSONValue.string)))])
        }
        /// A parameter; `schema` adds to its type what the server enforces (minimum, maximum, enum).
        func param(_ name: String, _ where_: String, _ type: String, _ description: String, required: Bool = false, style: [(String, JSONValue)] = [],
            schema: [(String, JSONValue)] = []
        ) -> JSONValue {
            // A parameter given empty is a 400 (ParameterMiddleware): no string is empty.
            let nonEmpty: [(String, JSONValue)] = type == "string" && !schema.contains { $0.0 == "minLength" } ? [("minLength", .number(1))] : []
            return .object([("name", s(name)), ("in", s(where_)), ("required", .bool(required)), ("description", s(description)),
                ("schema", .object([("type", s(type))] + nonEmpty + schema))] + style)
        }
        func range(_ lo: Double, _ hi: Double? = nil) -> [(String, JSONValue)] { [("minimum", .number(lo))] + (hi.map { [("maximum", .number($0))] } ?? []) }
        func oneOf(_ values: [String]) -> [(String, JSONValue)] { [("enum", .array(values.map(JSONValue.string)))] }
        func response(_ description: String, _ type: String) -> JSONValue {
            .object([("description", s(description)), ("content", .object([(type, .object([("schema", .object([("type", s("object"))]))]))]))])
        }
        let problem = response("Problem details (RFC 9457)", "application/problem+json")
        /// A response with OpenAPI links (3.0 §4.7.22): the operations its answer leads to, each parameter taken
        /// from the answer or the request by a runtime expression. Clients (and schemathesis's stateful phase)
        /// follow them from what they made to reading, changing and deleting it.
        func linked(_ response: JSONValue, _ links: [(operation: String, parameters: [(String, String)])]) -> JSONValue {
            guard case .object(let members) = response else { return response }
            return .object(members + [("links", .object(links.map { link in
                (link.operation, .object([("operationId", s(link.operation)),
                    ("parameters", .object(link.parameters.map { ($0.0, s($0.1)) }))]))
            }))])
        }
        func get(_ summary: String, _ id: String, _ params: [JSONValue], _ ok: JSONValue, extra: [(String, JSONValue)] = [], errors: JSONValue? = nil) -> JSONValue {
            let error = errors ?? problem
            return .object([("get", .object([
                ("summary", s(summary)), ("operationId", s(id)), ("parameters", .array(params)),
                // 401: a token that is not valid, or none with --public-read none; 429: a token past its rate.
                ("responses", .object([("200", ok)] + extra + [("400", error), ("401", error), ("404", error), ("429", error)])),
            ]))])
        }
        /// A write operation (Part 4): a bearer token, a JSON body, and the answers it may give.
        func write(_ summary: String, _ id: String, _ params: [JSONValue], body: (type: String, schema: JSONValue)?, ok: (String, JSONValue),
            also: [String] = [], errors: JSONValue? = nil, bearer: Bool = true
        ) -> JSONValue {
            let problem = errors ?? problem
            var op: [(String, JSONValue)] = [("summary", s(summary)), ("operationId", s(id)), ("parameters", .array(params))]
            // Open311 sends its key as `api_key` in the form, which no OpenAPI security scheme can place.
            op.append(("security", .array(bearer ? [.object([("bearer", .array([]))])] : [])))
            if let body {
                op.append(("requestBody", .object([("required", .bool(true)), ("content", .object([(body.type, .object([("schema", body.schema)]))]))])))
            }
            op.append(("responses", .object([ok] + (["400", "401", "403", "404", "408", "412", "413", "415", "422", "429"] + also).sorted().map { ($0, problem) })))
            return .object(op)
        }
        let collectionId = param("collectionId", "path", "string", "A layer", required: true, schema: oneOf(layers.map(\.name)))
        // Bodies: a GeoJSON Feature (RFC 7946 §3.2) or FeatureCollection, and a feature's merge patch. The server
        // checks more than a schema can say (closed rings, validity by GEOS, field types): that is a 422.
        func object(_ members: [(String, JSONValue)], required: [String], closed: Bool = false) -> JSONValue {
            // OpenAPI 3.0 wants `required` absent rather than empty.
            .object([("type", s("object")), ("properties", .object(members))] + (required.isEmpty ? [] : [("required", .array(required.map(JSONValue.string)))])
                + (closed ? [("additionalProperties", .bool(false))] : []))
        }
        let geometry = object([("type", .object([("type", s("string")), ("enum", .array(["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
            "MultiPolygon"].map(JSONValue.string)))])), ("coordinates", .object([("type", s("array"))]))], required: ["type", "coordinates"])
        let featureSchema = object([("type", .object([("type", s("string")), ("enum", .array([s("Feature")]))])), ("geometry", geometry),
            ("properties", .object([("type", s("object")), ("nullable", .bool(true))]))], required: ["type", "geometry", "properties"])
        let createSchema = JSONValue.object([("oneOf", .array([featureSchema, object([
            ("type", .object([("type", s("string")), ("enum", .array([s("FeatureCollection")]))])),
            ("features", .object([("type", s("array")), ("minItems", .number(1)), ("items", featureSchema)])),
        ], required: ["type", "features"])]))])
        let patchSchema = object([("properties", .object([("type", s("object"))])), ("geometry", geometry)], required: [], closed: true)
        let contentCrs = param("Content-Crs", "header", "string", "CRS of the body", schema: oneOf(FeaturesAPI.crsList.map { "<\($0.uri)>" }))
        let bodyCrs = param("crs", "query", "string", "gcj02 or bd09 for the body", schema: oneOf(MapCRS.allCases.map(\.rawValue)))
        let featureParams = [collectionId, param("featureId", "path", "integer", "Feature id", required: true),
            param("If-Match", "header", "string", "The ETag last read: 412 when the feature changed since")]
        /// A path's operations with more added.
        func merged(_ path: JSONValue, _ more: [(String, JSONValue)]) -> JSONValue {
            guard case .object(let ops) = path else { return path }
            return .object(ops + more)
        }
        let point = [param("lon", "query", "number", "Longitude", required: true, schema: range(-180, 180)),
            param("lat", "query", "number", "Latitude", required: true, schema: range(-90, 90)),
            param("crs", "query", "string", "wgs84 (default), gcj02 or bd09", schema: oneOf(MapCRS.allCases.map(\.rawValue)))]
        let json = response("JSON", "application/json"), geojson = response("GeoJSON", "application/geo+json")
        let text = JSONValue.object([("type", s("string"))])
        let code = JSONValue.object([("type", s("string")), ("minLength", .number(1))])
        let number = { (lo: Double, hi: Double) in JSONValue.object([("type", s("number")), ("minimum", .number(lo)), ("maximum", .number(hi))]) }
        let instant: [(String, JSONValue)] = [("format", s("date-time"))]
        // Months 01–12 and days 01–31, as the server reads them (a 31 in a 30-day month is still a 400).
        let dateOrInterval = #"^(\.\.|DAY(T[^/]+)?)(/(\.\.|DAY(T[^/]+)?))?$"#.replacingOccurrences(of: "DAY", with: #"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"#)
        let digits: [(String, JSONValue)] = [("pattern", s("^[0-9]+(,[0-9]+)*$"))]
        let box: [(String, JSONValue)] = [("pattern", s("^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$"))]
        // GeoReport answers (and errors) in the format its path names.
        let open311 = JSONValue.object([("description", s("GeoReport v2 JSON or XML")), ("content", .object([
            ("application/json", .object([("schema", .object([]))])), ("text/xml", .object([("schema", .object([("type", s("string"))]))])),
        ]))])
        let incidentId = param("incidentId", "path", "integer", "Case id", required: true, schema: range(1))
        let incidentFilters = ["stage", "grid", "community", "department", "category", "channel"].map {
            param($0, "query", "string", "\($0), comma-separated", style: [("explode", .bool(false))])
        } + ["street", "district", "area"].map {
            param($0, "query", "string", "\($0) codes (digits), comma-separated", style: [("explode", .bool(false))], schema: digits)
        } + [param("light", "query", "string", "green, yellow, red (comma-separated)", schema: [("pattern", s("^(green|yellow|red)(,(green|yellow|red))*$"))]),
            param("open", "query", "boolean", "Only open (true) or closed (false) cases"),
            param("since", "query", "string", "Reported at or after (ISO 8601)", schema: instant),
            param("until", "query", "string", "Reported before (ISO 8601)", schema: instant),
            param("datetime", "query", "string", "An interval of reported_at: start/end, .. for open", schema: [("pattern", s("/"))]),
            param("bbox", "query", "string", "minlon,minlat,maxlon,maxlat", schema: box),
            param("limit", "query", "integer", "Default 100", schema: range(1, Double(IncidentsAPI.maxLimit))),
            param("offset", "query", "integer", "Cases to skip", schema: range(0, Double(Int32.max)))]
        // Optional members of a report and a transition may be null: the server reads null as not given.
        // (OpenAPI 3.0.3: an enumeration that is nullable lists null among its values.)
        func nullable(_ v: JSONValue) -> JSONValue {
            guard case .object(let m) = v else { return v }
            return .object(m.map { $0.0 == "enum" ? ($0.0, .array(($0.1.arrayValue ?? []) + [.null])) : $0 } + [("nullable", .bool(true))])
        }
        let reportSchema = JSONValue.object([("oneOf", .array([featureSchema, object([("lon", number(-180, 180)), ("lat", number(-90, 90)),
            ("category", oneCode(of: codes.categories))] + [("subcategory", text), ("priority", .object([("type", s("string")), ("enum", .array(Incident.priorities.map(JSONValue.string)))])),
            ("kind", .object([("type", s("string")), ("enum", .array(Incident.kinds.map(JSONValue.string)))])), ("promised_date", text), ("title", text),
            ("description", text), ("channel", text), ("reporter_name", text), ("reporter_contact", text), ("building_id", .object([("type", s("integer"))])),
            ("floor", .object([("type", s("integer"))])), ("location_detail", text), ("reported_at", text)].map { ($0.0, nullable($0.1)) },
            required: ["lon", "lat", "category"])]))])
        let transitionSchema = object([("to", oneCode(of: codes.transitions))] + [("note", text), ("department", text), ("assignee", text),
            ("co_departments", .object([("type", s("array")), ("items", text)])), ("reporter_answered", .object([("type", s("boolean"))])),
            ("no_answer_reason", text), ("satisfaction", .object([("type", s("integer")), ("minimum", .number(1)), ("maximum", .number(5))]))]
            .map { ($0.0, nullable($0.1)) }, required: ["to"], closed: true)
        let day: [(String, JSONValue)] = [("format", s("date"))]
        let planId = param("planId", "path", "integer", "Plan id", required: true, schema: range(1))
        let planJSON = response("The plan: its members and its grids as a FeatureCollection", "application/json")
        let proposalSchema = object([("type", .object([("type", s("string")), ("enum", .array([s("FeatureCollection")]))])),
            ("features", .object([("type", s("array")), ("minItems", .number(1)), ("items", featureSchema)])), ("title", text),
            ("communities", .object([("type", s("array")), ("items", code)]))], required: ["type", "features"])
        let paths: [(String, JSONValue)] = [
            ("/", get("Landing page", "getLandingPage", [], json)),
            ("/conformance", get("Conformance classes", "getConformance", [], json)),
            ("/api", get("This definition", "getAPI", [], response("OpenAPI 3.0", "application/vnd.oai.openapi+json;version=3.0"))),
            ("/collections", get("The collections", "getCollections", [], json)),
            ("/collections/{collectionId}", get("A collection", "describeCollection", [collectionId], json)),
            ("/collections/{collectionId}/items", merged(get("Features of a collection", "getFeatures", [
                collectionId, param("bbox", "query", "string", "minx,miny,maxx,maxy", style: [("explode", .bool(false))], schema: box),
                param("bbox-crs", "query", "string", "CRS of bbox (Part 2)", schema: oneOf(FeaturesAPI.crsList.map(\.uri))),
                param("crs", "query", "string", "CRS of the response (Part 2)", schema: oneOf(FeaturesAPI.crsList.map(\.uri))),
                param("limit", "query", "integer", "Default \(FeaturesAPI.defaultLimit)", schema: range(1, Double(FeaturesAPI.maxLimit))),
                param("offset", "query", "integer", "Features to skip", schema: range(0)),
                param("filter", "query", "string", "A CQL2 filter (Part 3): comparisons, LIKE, BETWEEN, IN, IS NULL, S_* and T_* functions"),
                param("filter-lang", "query", "string", "cql2-text (default) or cql2-json", schema: oneOf(["cql2-text", "cql2-json"])),
                param("filter-crs", "query", "string", "CRS of the filter's geometries", schema: oneOf(FeaturesAPI.crsList.map(\.uri))),
                param("sortby", "query", "string", "Properties, comma-separated; - before one sorts descending"),
                param("properties", "query", "string", "Only these properties, comma-separated"),
                param("datetime", "query", "string", "Features in force on a date or in an interval (a/b, .. for open) by valid_from/valid_to (grids); a layer without them has no temporal information and is not narrowed",
                    schema: [("pattern", s(dateOrInterval))]),
            ], geojson), [
                ("post", write("Add a feature, or a FeatureCollection as one transaction (Part 4)", "createFeature",
                    [collectionId, contentCrs, bodyCrs],
                    body: ("application/geo+json", createSchema), ok: ("201", linked(response("The created feature; Location names it", "application/geo+json"),
                        ["getFeature", "replaceFeature", "updateFeature", "deleteFeature"].map {
                            ($0, [("collectionId", "$request.path.collectionId"), ("featureId", "$response.body#/id")])
                        })))),
            ])),
            ("/collections/{collectionId}/items/{featureId}", merged(get("One feature", "getFeature", [
                collectionId, param("featureId", "path", "integer", "Feature id", required: true),
                param("crs", "query", "string", "CRS of the response", schema: oneOf(FeaturesAPI.crsList.map(\.uri))),
            ], geojson, extra: [("304", .object([("description", s("Not modified (If-None-Match named its ETag)"))]))]), [
                ("put", write("Replace a feature (Part 4)", "replaceFeature", featureParams + [contentCrs, bodyCrs], body: ("application/geo+json", featureSchema),
                    ok: ("200", response("The feature as stored; ETag", "application/geo+json")))),
                ("patch", write("Change a feature by JSON Merge Patch, RFC 7396 (Part 4)", "updateFeature", featureParams + [contentCrs, bodyCrs],
                    body: ("application/merge-patch+json", patchSchema),
                    ok: ("200", response("The feature as stored; ETag", "application/geo+json")))),
                ("delete", write("Delete a feature (Part 4)", "deleteFeature", featureParams, body: nil, ok: ("204", .object([("description", s("Deleted"))])))),
            ])),
            ("/collections/{collectionId}/queryables", get("The properties a filter may name (JSON Schema)", "getQueryables", [collectionId],
                response("JSON Schema", "application/schema+json"))),
            ("/audit", get("Every write (admin tokens)", "getAudit", [param("collection", "query", "string", "Only this collection"),
                param("feature", "query", "integer", "Only this feature id", schema: range(0, 9_007_199_254_740_991)),
                param("token", "query", "integer", "Only this token id", schema: range(0, 9_007_199_254_740_991)),
                param("since", "query", "string", "From this moment (ISO 8601)"),
                param("limit", "query", "integer", "At most this many (default 1000)", schema: range(1, 100_000))], json,
                extra: [("403", problem)])),
            ("/tiles/{layers}/{z}/{x}/{y}.mvt", get("A vector tile", "getTile", [
                param("layers", "path", "string", "Collection ids joined by commas", required: true), param("z", "path", "integer", "Zoom", required: true),
                param("x", "path", "integer", "Column", required: true), param("y", "path", "integer", "Row", required: true),
                param("at", "query", "string", "Grids as in force on this date (default today)", schema: day),
                param("cases", "query", "string", "With the incidents layer: the open cases (default) or all, closed ones too", schema: oneOf(["open", "all"])),
            ], response("Mapbox Vector Tile", "application/vnd.mapbox-vector-tile"), extra: [("204", .object([("description", s("No feature in the tile"))]))])),
            ("/tiles/{layers}.json", get("TileJSON 3.0.0", "getTileJSON", [param("layers", "path", "string", "Collection ids joined by commas", required: true)], json)),
            ("/style.json", get("MapLibre style", "getStyle", [], json)),
            ("/locate", get("The grid and community owning a point", "locate", point + [
                param("at", "query", "string", "As of this date: the grids in force that day (default today)", schema: day)], json)),
            ("/plans", merged(get("Boundary plans, newest first", "getPlans", [
                param("status", "query", "string", "Only plans in this state", schema: oneOf(["draft", "applied", "rolled_back"]))], json), [
                ("post", write("Propose new, changed and retired grids (a FeatureCollection with codes): a draft plan", "createPlan", [
                    param("assign_codes", "query", "boolean", "Give grids without a code the next free code of their community"),
                    param("title", "query", "string", "The plan's title"),
                ], body: ("application/geo+json", proposalSchema), ok: ("201", linked(response("The plan; Location names it", "application/json"),
                    ["getPlan", "checkPlan", "getPlanImpact", "applyPlan"].map { ($0, [("planId", "$response.body#/id")]) }
                        + [("editPlanGrid", [("planId", "$response.body#/id"), ("code", "$response.body#/grids/features/0/properties/code")])])))),
            ])),
            ("/plans/{planId}", get("A plan with its grids", "getPlan", [planId], planJSON)),
            ("/plans/{planId}/grids/{code}", .object([("patch", write("Replace one grid of a draft plan (its boundary moved)", "editPlanGrid",
                [planId, param("code", "path", "string", "The grid's code", required: true)], body: ("application/geo+json", featureSchema),
                ok: ("200", planJSON), also: ["409"]))])),
            ("/plans/{planId}/check", get("The plan's findings: codes, validity, outside the community, overlaps, gaps, slivers, cut buildings, size",
                "checkPlan", [planId], json)),
            ("/plans/{planId}/impact", get("What applying the plan would change (JSON), or the moved buildings (GeoJSON)", "getPlanImpact", [planId,
                param("f", "query", "string", "json (default) or geojson (also by Accept: application/geo+json)", schema: oneOf(["json", "geojson"]))],
                .object([("description", s("The impact")), ("content", .object([("application/json", .object([("schema", .object([("type", s("object"))]))])),
                    ("application/geo+json", .object([("schema", .object([("type", s("object"))]))]))]))]))),
            ("/plans/{planId}/apply", .object([("post", write("Apply a draft plan from a date: refused (409, with the findings) while an error stands",
                "applyPlan", [planId], body: ("application/json", object([("effective", .object([("type", s("string"))] + day))], required: ["effective"], closed: true)),
                ok: ("200", linked(planJSON, [("rollbackPlan", [("planId", "$request.path.planId")])])), also: ["409"]))])),
            ("/plans/{planId}/rollback", .object([("post", write("Restore the grids before an applied plan, as a new logged plan", "rollbackPlan",
                [planId], body: nil, ok: ("201", response("The new plan; Location names it", "application/json")), also: ["409"]))])),
            ("/nearest", get("The nearest resources", "nearest", point + [
                param("k", "query", "integer", "Default 5", schema: range(1, Double(QueryAPI.maxK))),
                param("type", "query", "string", "Resource types, comma-separated"),
                param("status", "query", "string", "Statuses, comma-separated"), param("within", "query", "number", "Metres", schema: range(0, 20_000_000)),
                param("layer", "query", "string", "A point layer instead of resources", schema: oneOf(layers.filter { $0.geometry == .point }.map(\.name))),
            ], json)),
            ("/search", get("Places by what a dispatcher types: a case number, a grid's or area's code or name, an address, a road's name; best first",
                "search", [param("q", "query", "string", "The text (at most 200 characters)", required: true, schema: [("minLength", .number(1)), ("maxLength", .number(200))]),
                    param("kind", "query", "string", "Only these kinds, comma-separated: incident, grid, area, building, road",
                        schema: [("pattern", s("^(incident|grid|area|building|road)(,(incident|grid|area|building|road))*$"))]),
                    param("limit", "query", "integer", "Default 10", schema: range(1, Double(QueryAPI.maxSearch)))], json)),
            ("/around", get("The situation around a point", "around", point + [param("radius", "query", "number", "Metres; default 200", schema: range(1, QueryAPI.maxRadius))], geojson)),
            ("/incidents", merged(get("Cases, with numberMatched; lights as they are now", "getIncidents", incidentFilters, geojson), [
                ("post", write("Report a case: placed in its grid, routed, with its situation package; 201 once it is on disk", "reportIncident",
                    [bodyCrs], body: ("application/json", reportSchema), ok: ("201", linked(response("The case with its situation; Location names it", "application/geo+json"),
                        ["getIncident", "transitionIncident", "moveIncident", "recomputeSituation"].map { ($0, [("incidentId", "$response.body#/id")]) })))),
            ])),
            ("/incidents/{incidentId}", get("One case with its history and situation package", "getIncident", [incidentId], geojson,
                extra: [("304", .object([("description", s("Not modified (If-None-Match named its ETag)"))]))])),
            ("/incidents/{incidentId}/transitions", .object([("post", write("Move a case on in the workflow (409 names the stage and what it allows)",
                "transitionIncident", [incidentId, param("If-Match", "header", "string", "The ETag last read")], body: ("application/json", transitionSchema),
                ok: ("200", response("The case as it is now", "application/geo+json")), also: ["409"]))])),
            ("/incidents/{incidentId}/move", .object([("post", write("Move a case's point: its grid, areas and situation follow", "moveIncident",
                [incidentId, bodyCrs], body: ("application/json", object([("lon", number(-180, 180)), ("lat", number(-90, 90))], required: ["lon", "lat"])), ok: ("200", response("The case as it is now", "application/geo+json")), also: ["409"]))])),
            ("/incidents/{incidentId}/situation", .object([("post", write("Make the situation package again from the map as it is", "recomputeSituation",
                [incidentId], body: nil, ok: ("200", json)))])),
            ("/incidents/overdue", get("Open cases that are red now, grouped", "getOverdue", [param("by", "query", "string", "Default department",
                schema: oneOf(["grid", "community", "street", "district", "department", "person"]))], json)),
            ("/incidents/stats", get("A period's figures per group", "getIncidentStats", [
                param("period", "query", "string", "YYYY-MM (default this month), YYYY or YYYY-MM-DD/YYYY-MM-DD",
                    schema: [("pattern", s("^[1-9][0-9]{3}(-(0[1-9]|1[0-2]))?$|^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])/[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))]),
                param("by", "query", "string", "Default department", schema: oneOf(["department", "grid", "community", "street", "district", "category", "channel"])),
                param("f", "query", "string", "json (default) or csv", schema: oneOf(["json", "csv"])),
            ], .object([("description", s("The figures as JSON, or as CSV with f=csv")), ("content", .object([
                ("application/json", .object([("schema", .object([("type", s("object"))]))])),
                ("text/csv", .object([("schema", .object([("type", s("string"))]))])),
            ]))]))),
            ("/incidents/catalogue", get("Categories, channels, departments, routing, workflow, deadlines and calendar in force", "getIncidentCatalogue", [], json)),
            ("/events", get("Live events of cases and plans (Server-Sent Events); Last-Event-ID resumes", "getEvents", [
                param("kind", "query", "string", "\(EventsAPI.kinds.sorted().joined(separator: ", ")) (comma-separated)"),
                param("area", "query", "string", "Grid, community, street or district code prefixes (comma-separated)"),
                param("department", "query", "string", "Departments (comma-separated)"), param("bbox", "query", "string", "minlon,minlat,maxlon,maxlat", schema: box),
                param("last_event_id", "query", "integer", "Resume after this event (as the Last-Event-ID header)", schema: range(0)),
                param("Last-Event-ID", "header", "string", "Resume after this event"),
            ], response("An event stream", "text/event-stream"))),
            ("/open311/v2/{resource}", merged(get("Open311 GeoReport v2: discovery, the services or the requests (last 90 days by default)", "open311List", [
                param("resource", "path", "string", "What, and in which format", required: true,
                    schema: oneOf(["discovery", "services", "requests"].flatMap { ["\($0).json", "\($0).xml"] })),
                param("service_request_id", "query", "string", "Requests: ids, comma-separated", schema: digits),
                param("service_code", "query", "string", "Requests: service codes, comma-separated"),
                param("start_date", "query", "string", "Requests: reported at or after (W3C datetime)", schema: instant),
                param("end_date", "query", "string", "Requests: reported before (at most 90 days after start_date)", schema: instant),
                param("status", "query", "string", "Requests: open, closed or both", schema: oneOf(["open", "closed", "open,closed"])),
            ], open311, errors: open311), [
                ("post", write("Post a service request (requests.json or requests.xml): a case on the channel open311", "open311Post", [
                    param("resource", "path", "string", "requests.json or requests.xml", required: true, schema: oneOf(["requests.json", "requests.xml"])),
                ], body: ("application/x-www-form-urlencoded", object([("api_key", text), ("service_code", oneCode(of: codes.categories)), ("lat", number(-90, 90)),
                    ("long", number(-180, 180)), ("description", text), ("address_string", text), ("first_name", text), ("last_name", text),
                    ("phone", text), ("email", text), ("media_url", text), ("device_id", text), ("account_id", text)], required: ["service_code", "lat", "long"])),
                    ok: ("201", open311), also: ["405"], errors: open311, bearer: false)),
            ])),
            ("/open311/v2/services/{file}", get("Open311: a service's definition (its attributes)", "open311Service", [
                param("file", "path", "string", "{service_code}.json or {service_code}.xml", required: true),
            ], open311, errors: open311)),
            ("/open311/v2/requests/{file}", get("Open311: one request", "open311Request", [
                param("file", "path", "string", "{service_request_id}.json or {service_request_id}.xml", required: true),
            ], open311, errors: open311)),
            ("/auth/token", get("Who the request's bearer token is: its id, name, role and scopes (401 without a valid one)", "getToken", [], json)),
            ("/health", get("Health", "health", [], json)),
            ("/metrics", get("Prometheus metrics", "metrics", [], response("Prometheus text", "text/plain"))),
        ]
        return .object([
            ("openapi", s("3.0.3")),
            ("info", .object([("title", s("GeoGrid")), ("version", s(GeoGridInfo.version)),
                ("description", s("Grid-map service for emergency response: OGC API Features, vector tiles and dispatch queries."))])),
            ("servers", .array([.object([("url", s(base))])])),
            ("paths", .object(paths)),
            ("components", .object([("securitySchemes", .object([("bearer", .object([("type", s("http")), ("scheme", s("bearer"))]))]))])),
        ])
    }
}
