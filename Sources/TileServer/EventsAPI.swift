import Foundation
import GeoGrid
import HTTPTypes
import Hummingbird

/// `GET /events`: live events of cases and plans as Server-Sent Events (created, transitioned, light_changed,
/// reassigned; plan_applied, plan_in_force, plan_rolled_back). Each event's `id` is its id in the store, so a client that reconnects with `Last-Event-ID`
/// (or `?last_event_id=`) gets every event it missed, also after a server restart; without one it gets what
/// happens from now on. Filters: `kind`, `area` (a grid, community, street or district code prefix),
/// `department`, `bbox`. A comment line every 15 s keeps proxies from closing an idle stream.
struct EventsAPI {
    let store: GeoStore
    let auth: Auth

    struct Filter: Sendable {
        var kinds: Set<String>?
        var areas: [String]
        var departments: Set<String>?
        var bbox: BBox?

        func matches(_ e: StoredEvent) -> Bool {
            if let kinds, !kinds.contains(e.kind) { return false }
            let incident = e.incident
            if !areas.isEmpty {
                // A case's area codes; a plan's communities.
                let codes = ["grid_code", "community_code", "street_code", "district_code"].compactMap { incident?[$0]?.stringValue }
                    + (e.data["communities"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                guard areas.contains(where: { a in codes.contains { $0.hasPrefix(a) } }) else { return false }
            }
            if let departments {
                guard let d = incident?["department"]?.stringValue, departments.contains(d) else { return false }
            }
            if let bbox {
                guard let lon = incident?["lon"]?.numberValue, let lat = incident?["lat"]?.numberValue,
                    lon >= bbox.minX, lon <= bbox.maxX, lat >= bbox.minY, lat <= bbox.maxY
                else { return false }
            }
            return true
        }
    }

    static let kinds: Set<String> = ["created", "transitioned", "light_changed", "reassigned", "plan_applied", "plan_in_force", "plan_rolled_back"]

    func add(to router: Router<BasicRequestContext>) {
        router.get("events") { request, _ in try events(request) }
    }

    func events(_ request: Request) throws -> Response {
        _ = try auth.reader(request)
        let q = Parameters(request)
        for name in q.values.keys where !["kind", "area", "department", "bbox", "last_event_id"].contains(name) {
            throw Problem.badRequest("unknown parameter \(name) (parameters: area, bbox, department, kind, last_event_id)")
        }
        var filter = Filter(kinds: q.list("kind"), areas: (q.list("area") ?? []).sorted(), departments: q.list("department"), bbox: nil)
        for k in filter.kinds ?? [] where !Self.kinds.contains(k) {
            throw Problem.badRequest("kind must be among \(Self.kinds.sorted().joined(separator: ", ")), not \(k)")
        }
        if let (a, b) = try q.bbox(axes: "minlon,minlat,maxlon,maxlat", ordered: true) {
            filter.bbox = BBox(minX: a.lon, minY: a.lat, maxX: b.lon, maxY: b.lat)
        }
        // The header (an EventSource reconnecting) wins over the parameter; each is checked when given.
        func eventID(_ text: String?, _ name: String) throws -> Int64? {
            guard let text else { return nil }
            guard let id = Int64(text.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                throw Problem.badRequest("\(name) must be an event id (a whole number), not \(text)")
            }
            return id
        }
        let fromHeader = try eventID(request.headers[HTTPField.Name("Last-Event-ID")!], "Last-Event-ID")
        let fromQuery = try eventID(q.string("last_event_id"), "last_event_id")
        let start = fromHeader ?? fromQuery ?? store.events.lastID
        let hub = store.events, store = self.store, from = start, only = filter
        // Subscribed before the backlog is read, so nothing published in between is missed.
        let wakeups = hub.listen()
        let body = ResponseBody { writer in
            var last = from
            try await writer.write(ByteBuffer(string: "retry: 2000\n: GeoGrid events after \(from)\n\n"))
            /// Writes the events after `last` that pass the filter; whether there were any new ones at all.
            func flush() async throws -> Bool {
                var any = false
                while true {
                    let batch = try hub.events(after: last, limit: 1000, store: store)
                    guard !batch.isEmpty else { return any }
                    any = true
                    var text = ""
                    for e in batch where only.matches(e) {
                        text += "id: \(e.id)\nevent: \(e.kind)\ndata: \(e.text)\n\n"
                    }
                    last = batch.last!.id
                    if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                }
            }
            _ = try await flush()
            for await _ in wakeups {
                if Task.isCancelled { break }
                // A wake-up without events is the heartbeat.
                if try await !flush() { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"], body: body)
    }
}
