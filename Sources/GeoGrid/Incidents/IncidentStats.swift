import Foundation

/// The monthly assessment's figures per department, grid, community, street, district, category or channel.
public struct IncidentStats: Sendable {
    public struct Row: Sendable {
        public var key: String?
        public var zh: String?
        public var en: String?
        public var received = 0, closed = 0, closedOnTime = 0, overdueNow = 0, returned = 0, closedAtSource = 0, cancelled = 0
        /// Mean wall-clock hours a case spent in each stage it left during the period.
        public var hours: [String: (total: Double, count: Int)] = [:]

        public var onTimeRate: Double? { closed == 0 ? nil : Double(closedOnTime) / Double(closed) }

        mutating func add(_ o: Row) {
            received += o.received; closed += o.closed; closedOnTime += o.closedOnTime; overdueNow += o.overdueNow
            returned += o.returned; closedAtSource += o.closedAtSource; cancelled += o.cancelled
            for (k, v) in o.hours { hours[k, default: (0, 0)].total += v.total; hours[k, default: (0, 0)].count += v.count }
        }
    }

    public var period: String
    public var from: Timestamp
    public var to: Timestamp
    public var by: String
    public var at: Timestamp
    public var stages: [String]
    public var rows: [Row]

    public var total: Row {
        var t = Row(key: nil)
        for r in rows { t.add(r) }
        return t
    }

    static func average(_ v: (total: Double, count: Int)?) -> Double? {
        guard let v, v.count > 0 else { return nil }
        return (v.total / Double(v.count) * 100).rounded() / 100
    }

    func json(_ r: Row) -> JSONValue {
        .object([
            ("key", r.key.map(JSONValue.string) ?? .null), ("zh", r.zh.map(JSONValue.string) ?? .null), ("en", r.en.map(JSONValue.string) ?? .null),
            ("received", .number(Double(r.received))), ("closed", .number(Double(r.closed))), ("closed_on_time", .number(Double(r.closedOnTime))),
            ("on_time_rate", r.onTimeRate.map { .number(($0 * 10_000).rounded() / 10_000) } ?? .null), ("overdue_now", .number(Double(r.overdueNow))),
            ("returned", .number(Double(r.returned))), ("closed_at_source", .number(Double(r.closedAtSource))), ("cancelled", .number(Double(r.cancelled))),
            ("average_hours", .object(stages.compactMap { s in Self.average(r.hours[s]).map { (s, .number($0)) } })),
        ])
    }

    public var json: JSONValue {
        .object([
            ("period", .string(period)), ("from", .string(from.text)), ("to", .string(to.text)), ("by", .string(by)), ("at", .string(at.text)),
            ("rows", .array(rows.map(json))), ("total", json(total)),
        ])
    }

    /// One line per group and a total line (key `*`), for the assessment bulletin's spreadsheet.
    public var csv: String {
        func cell(_ s: String?) -> String {
            guard let s else { return "" }
            return s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var lines = [(["key", "zh", "en", "received", "closed", "closed_on_time", "on_time_rate", "overdue_now", "returned", "closed_at_source", "cancelled"]
            + stages.map { "average_hours_\($0)" }).joined(separator: ",")]
        var all = rows
        var t = total
        t.key = "*"
        all.append(t)
        for r in all {
            let cells: [String?] = [r.key, r.zh, r.en, String(r.received), String(r.closed), String(r.closedOnTime), r.onTimeRate.map { String(format: "%.4f", $0) },
                String(r.overdueNow), String(r.returned), String(r.closedAtSource), String(r.cancelled)]
                + stages.map { s in Self.average(r.hours[s]).map { String($0) } }
            lines.append(cells.map(cell).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension IncidentDesk {
    /// The period's bounds: `YYYY-MM` (a month, the default being this one), `YYYY` (a year), or
    /// `YYYY-MM-DD/YYYY-MM-DD` (days, both included); local days of the calendar's zone.
    public static func period(_ text: String?, calendar: WorkCalendar, now: Timestamp) throws -> (String, Timestamp, Timestamp) {
        let (today, _) = calendar.local(now)
        let text = text ?? String(WorkCalendar.date(today).prefix(7))
        func bad() -> StoreError { StoreError("period must be YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD, not \(text)") }
        if text.contains("/") {
            let parts = text.split(separator: "/").map(String.init)
            guard parts.count == 2, let a = WorkCalendar.day(parts[0]), let b = WorkCalendar.day(parts[1]), a <= b else { throw bad() }
            return (text, calendar.instant(day: a, second: 0), calendar.instant(day: b + 1, second: 0))
        }
        if text.count == 4, let year = Int(text), year > 1900 {
            let a = WorkCalendar.day("\(text)-01-01")!, b = WorkCalendar.day("\(year + 1)-01-01")!
            return (text, calendar.instant(day: a, second: 0), calendar.instant(day: b, second: 0))
        }
        guard text.count == 7, let a = WorkCalendar.day(text + "-01") else { throw bad() }
        let (y, m) = (Int(text.prefix(4))!, Int(text.suffix(2))!)
        let next = m == 12 ? "\(y + 1)-01-01" : "\(y)-\(m < 9 ? "0" : "")\(m + 1)-01"
        return (text, calendar.instant(day: a, second: 0), calendar.instant(day: WorkCalendar.day(next)!, second: 0))
    }

    /// Received, closed, closed on time (never red), overdue now, returned, closed at source, cancelled and the
    /// mean time per stage, per group, over a period. A case counts under its current department, grid, ….
    public func stats(period text: String?, by grouping: String) throws -> IncidentStats {
        guard let column = Self.groupings[grouping], grouping != "person" else {
            throw StoreError("statistics group by department, grid, community, street, district, category or channel, not \(grouping)")
        }
        let config = try store.incidentConfig()
        let now = clock()
        let (name, from, to) = try Self.period(text, calendar: config.calendar, now: now)
        var rows: [String: IncidentStats.Row] = [:]
        try store.read { db in
            let s = try db.prepare("""
                SELECT \(column),
                  sum(reported_at >= ?1 AND reported_at < ?2),
                  sum(closed_at >= ?1 AND closed_at < ?2 AND stage != 'cancelled'),
                  sum(closed_at >= ?1 AND closed_at < ?2 AND stage != 'cancelled' AND NOT overdue),
                  sum(open AND red_at <= ?3),
                  sum(closed_at >= ?1 AND closed_at < ?2 AND stage = 'closed_at_source'),
                  sum(closed_at >= ?1 AND closed_at < ?2 AND stage = 'cancelled')
                FROM incidents
                WHERE (reported_at >= ?1 AND reported_at < ?2) OR (closed_at >= ?1 AND closed_at < ?2) OR (open AND red_at <= ?3)
                GROUP BY \(column)
                """)
            try s.bind([.text(from.text), .text(to.text), .text(now.text)])
            while try s.step() {
                var r = IncidentStats.Row(key: s.text(0))
                r.received = Int(s.int64(1)); r.closed = Int(s.int64(2)); r.closedOnTime = Int(s.int64(3)); r.overdueNow = Int(s.int64(4))
                r.closedAtSource = Int(s.int64(5)); r.cancelled = Int(s.int64(6))
                rows[r.key ?? ""] = r
            }
            // Returns and the time spent per stage, from the histories of the cases that moved in the period.
            let h = try db.prepare("""
                SELECT h.incident_id, h.time, h.action, h.to_stage, i.\(column) FROM geogrid_incident_history h JOIN incidents i ON i.id = h.incident_id
                WHERE h.incident_id IN (SELECT incident_id FROM geogrid_incident_history WHERE time >= ?1 AND time < ?2) AND h.action != 'moved'
                ORDER BY h.incident_id, h.id
                """)
            try h.bind([.text(from.text), .text(to.text)])
            var previous: (id: Int64, time: Timestamp, stage: String)?
            while try h.step() {
                let id = h.int64(0)
                guard let time = h.text(1).flatMap({ Timestamp(iso8601: $0) }) else { continue }
                let key = h.text(4) ?? ""
                let inPeriod = time >= from && time < to
                if inPeriod && h.text(2) == "returned" { rows[key, default: IncidentStats.Row(key: h.text(4))].returned += 1 }
                if let p = previous, p.id == id, inPeriod {
                    rows[key, default: IncidentStats.Row(key: h.text(4))].hours[p.stage, default: (0, 0)].total += (time.seconds - p.time.seconds) / 3600
                    rows[key, default: IncidentStats.Row(key: h.text(4))].hours[p.stage, default: (0, 0)].count += 1
                }
                previous = (id, time, h.text(3) ?? "")
            }
        }
        var list = rows.values.sorted { ($0.key ?? "") < ($1.key ?? "") }
        for i in list.indices {
            guard let key = list[i].key else { continue }
            let entry: CatalogueEntry? = switch grouping {
            case "department": config.department(key)?.entry
            case "category": config.category(key)?.entry
            case "channel": config.channel(key)
            default: nil
            }
            list[i].zh = entry?.zh
            list[i].en = entry?.en
        }
        return IncidentStats(period: name, from: from, to: to, by: grouping, at: now, stages: config.workflow.stages.filter(\.open).map(\.code), rows: list)
    }
}
