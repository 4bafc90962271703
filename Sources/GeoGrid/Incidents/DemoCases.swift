import Foundation

extension DemoCity {
    /// A believable week of cases for the demo store, ending `now`: reported at buildings across the grids (a few
    /// in the streets between), by grid workers, the hotline, cameras and the web, in the categories a city's week
    /// holds; each moved on through the workflow as far as its age and a seeded chance allow, so that some are
    /// closed, some closed at source, and some stalled and overdue. Written with `IncidentDesk.importCases`, so
    /// every case is placed, routed, numbered and lit like any other; the calendar is Helsinki's (the demo city),
    /// with its public holidays from `holidays` when given.
    @discardableResult
    public static func addWeekOfCases(to store: GeoStore, now: Timestamp = .now, count: Int = 240, holidays: String? = nil) throws -> IncidentImportReport {
        var calendar = try store.incidentConfigDocuments()["calendar"].map { try WorkCalendar.parse(json: $0) } ?? WorkCalendar(timeZone: .gmt, weekdays: [1, 2, 3, 4, 5], hours: [])
        calendar.timeZone = TimeZone(identifier: "Europe/Helsinki")!
        calendar.hours = [8 * 3600...16 * 3600]
        if let holidays { try calendar.addHolidays(fromText: holidays) }
        try store.loadIncidentConfig(["calendar": calendar.json])

        var rng = SeededRandom(seed: 2026)
        let buildings = try store.shapeIndex(.buildings)
        let geos = GEOSContext()
        var places: [Position] = []
        for e in buildings.main.entries where places.count < 5000 {
            if let p = geos.representativePoint(e.geometry) { places.append(p) }
        }
        guard !places.isEmpty, let extent = try store.shapeIndex(.grids).extent else { throw StoreError("the demo store has no buildings or grids") }
        let categories: [(String, Double)] = [
            ("E0102", 20), ("E0504", 14), ("E0501", 7), ("C0105", 9), ("C0101", 4), ("E0301", 7), ("E0405", 4), ("C0402", 5), ("E0201", 8),
            ("E0404", 4), ("fire", 3), ("gas_leak", 2), ("medical", 4), ("traffic_accident", 3), ("E0505", 6),
        ]
        let channels: [(String, Double)] = [("grid_worker", 45), ("hotline", 30), ("video", 10), ("online", 8), ("walk_in", 4), ("media", 3)]
        func pick(_ list: [(String, Double)]) -> String {
            var x = rng.next() * list.reduce(0) { $0 + $1.1 }
            for (v, w) in list {
                x -= w
                if x <= 0 { return v }
            }
            return list.last!.0
        }
        let config = try store.incidentConfig()
        var rows: [(Timestamp, String)] = []
        func text(_ t: Timestamp?) -> String { t?.text ?? "" }
        for _ in 0..<count {
            let reported = Timestamp(seconds: now.seconds - rng.next(in: 600...(7 * 86_400)))
            var p = places[Int(rng.next() * Double(places.count)) % places.count]
            if rng.next() < 0.04 { p = Position(rng.next(in: extent.minX...extent.maxX), rng.next(in: extent.minY...extent.maxY)) }
            p = Position(p.lon + rng.next(in: -0.00005...0.00005), p.lat + rng.next(in: -0.00003...0.00003))
            let category = pick(categories)
            let channel = pick(channels)
            let urgent = config.category(category)?.priority == "urgent" || config.category(String(category.prefix(3)))?.priority == "urgent"
            let name = config.category(category).map { "\($0.entry.zh) \($0.entry.en)" } ?? category
            // Steps after the report, each some time after the one before (minutes for emergencies, hours otherwise),
            // taken while they are in the past and the case has not stalled.
            var stage = "reported"
            var times: [String: Timestamp] = [:]
            var t = reported
            if channel == "grid_worker" && ["E0102", "E0201", "E0505"].contains(category) && rng.next() < 0.5 {
                t = Timestamp(seconds: t.seconds + rng.next(in: 300...3600))
                if t < now { stage = "closed_at_source"; times["closed_at"] = t }
            } else {
                let steps: [(String, String, ClosedRange<Double>)] = [
                    ("registered", "registered_at", urgent ? 60...300 : 900...7200), ("dispatched", "dispatched_at", urgent ? 60...300 : 600...5400),
                    ("accepted", "accepted_at", urgent ? 120...600 : 3600...(2 * 86_400)), ("handling", "handling_at", urgent ? 60...900 : 3600...86_400),
                    ("handled", "handled_at", urgent ? 1800...7200 : 7200...(2 * 86_400)), ("closed", "closed_at", urgent ? 1800...7200 : 3600...86_400),
                ]
                for (next, field, gap) in steps {
                    t = Timestamp(seconds: t.seconds + rng.next(in: gap))
                    // About one case in sixteen stalls at each step: most of the overdue ones.
                    guard t < now, rng.next() > 0.06 else { break }
                    stage = next
                    times[field] = t
                }
            }
            let fields = ["registered_at", "dispatched_at", "accepted_at", "handling_at", "handled_at", "closed_at"].map { text(times[$0]) }
            rows.append((reported, ([String(format: "%.7f", p.lon), String(format: "%.7f", p.lat), reported.text, category, channel, "\"\(name)\"", stage] + fields)
                .joined(separator: ",")))
        }
        var options = IncidentImportOptions(format: .csv)
        options.channel = "hotline"
        let desk = IncidentDesk(store: store) { now }
        // In the order they were reported, so that case numbers follow time.
        let csv = (["lon,lat,time,category,channel,title,stage,registered_at,dispatched_at,accepted_at,handling_at,handled_at,closed_at"]
            + rows.sorted { $0.0 < $1.0 }.map(\.1)).joined(separator: "\n")
        return try desk.importCases(from: InputBytes(data: Data(csv.utf8), name: "demo week"), options: options,
            by: .local(user: "demo"))
    }
}
