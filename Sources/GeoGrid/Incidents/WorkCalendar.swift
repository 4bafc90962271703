import Foundation

/// The working calendar deadlines in working time are counted in: a time zone, the working weekdays, the
/// working hours of a day (one or more intervals), holidays, and working days that fall on a weekend (the
/// make-up days of a holiday schedule, 调休). Pure arithmetic on local days, with the zone's offset from
/// Foundation's TimeZone (daylight saving included).
public struct WorkCalendar: Sendable, Equatable {
    public var timeZone: TimeZone
    /// ISO weekdays that are working days: 1 = Monday … 7 = Sunday.
    public var weekdays: Set<Int>
    /// Working intervals of a day, in seconds after local midnight, sorted and disjoint.
    public var hours: [ClosedRange<Int>]
    /// Local days (since 1970-01-01) off, and local days worked although their weekday is not.
    public var holidays: Set<Int64>
    public var workingDays: Set<Int64>

    public init(timeZone: TimeZone, weekdays: Set<Int>, hours: [ClosedRange<Int>], holidays: Set<Int64> = [], workingDays: Set<Int64> = []) {
        self.timeZone = timeZone
        self.weekdays = weekdays
        self.hours = hours
        self.holidays = holidays
        self.workingDays = workingDays
    }

    /// Seconds of working time in a working day (what a working-time "1d" is).
    public var dayLength: Int { hours.reduce(0) { $0 + $1.upperBound - $1.lowerBound } }

    /// The zone's offset from UTC at an instant, in seconds.
    public func offset(at t: Timestamp) -> Int { timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: t.seconds)) }

    /// The local day and the seconds after local midnight of an instant.
    public func local(_ t: Timestamp) -> (day: Int64, second: Double) {
        let l = t.seconds + Double(offset(at: t))
        let day = Int64((l / 86_400).rounded(.down))
        return (day, l - Double(day) * 86_400)
    }

    /// The instant of a local day and time (for a time skipped or repeated by a clock change, the offset
    /// before it).
    public func instant(day: Int64, second: Double) -> Timestamp {
        let l = Double(day) * 86_400 + second
        var t = Timestamp(seconds: l - Double(offset(at: Timestamp(seconds: l))))
        t = Timestamp(seconds: l - Double(offset(at: t)))
        return t
    }

    public static func isoWeekday(_ day: Int64) -> Int {
        // 1970-01-01 was a Thursday (4).
        Int(((day % 7) + 7 + 3) % 7) + 1
    }

    public func isWorkingDay(_ day: Int64) -> Bool {
        if workingDays.contains(day) { return true }
        if holidays.contains(day) { return false }
        return weekdays.contains(Self.isoWeekday(day))
    }

    /// The instant `seconds` of working time after `t`: time outside working hours, on weekends and on holidays
    /// does not count. Zero gives the next working moment at or after `t`.
    public func adding(working seconds: Double, to t: Timestamp) -> Timestamp {
        var remaining = max(0, seconds)
        var (day, second) = local(t)
        // A calendar has working time (checked when loaded); ten years bound a table of absurd limits.
        for _ in 0..<3660 {
            if isWorkingDay(day) {
                for h in hours where Double(h.upperBound) > second || (remaining == 0 && Double(h.upperBound) >= second) {
                    let start = max(Double(h.lowerBound), second)
                    let available = Double(h.upperBound) - start
                    if remaining <= available { return instant(day: day, second: start + remaining) }
                    remaining -= available
                }
            }
            day += 1
            second = 0
        }
        return instant(day: day, second: 0)
    }

    /// Working seconds between two instants (0 when `b` is not after `a`).
    public func workingSeconds(from a: Timestamp, to b: Timestamp) -> Double {
        guard b > a else { return 0 }
        let (d0, s0) = local(a), (d1, s1) = local(b)
        var total = 0.0
        var day = d0
        while day <= d1 {
            if isWorkingDay(day) {
                let lo = day == d0 ? s0 : 0, hi = day == d1 ? s1 : 86_400
                for h in hours { total += max(0, min(hi, Double(h.upperBound)) - max(lo, Double(h.lowerBound))) }
            }
            day += 1
        }
        return total
    }

    /// An ISO 8601 time: as given when it has an offset (or Z), else read as local time of this calendar's zone.
    public func parse(_ text: String) -> Timestamp? {
        guard let t = Timestamp(iso8601: text) else { return nil }
        if Timestamp.hasOffset(text) { return t }
        let day = Int64((t.seconds / 86_400).rounded(.down))
        return instant(day: day, second: t.seconds - Double(day) * 86_400)
    }

    /// The local day of a `YYYY-MM-DD` date.
    public static func day(_ date: String) -> Int64? {
        guard Layer.isISODate(date), let t = Timestamp(iso8601: date) else { return nil }
        return Int64((t.seconds / 86_400).rounded(.down))
    }

    /// The local date of a day, `YYYY-MM-DD`.
    public static func date(_ day: Int64) -> String { String(Timestamp(seconds: Double(day) * 86_400).text.prefix(10)) }

    // MARK: As JSON (`calendar.json`)

    /// `{"time_zone": "Asia/Shanghai", "weekdays": [1, 2, 3, 4, 5], "hours": [["09:00", "12:00"], ["13:00", "17:00"]],
    /// "holidays": ["2026-10-01", …], "working_days": ["2026-09-27", …]}`
    public static func parse(json: JSONValue) throws(FeatureProblem) -> WorkCalendar {
        try IncidentConfig.only(json, ["time_zone", "weekdays", "hours", "holidays", "working_days"], in: "calendar")
        let zoneName = json["time_zone"]?.stringValue ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else { throw FeatureProblem("calendar: unknown time zone '\(zoneName)' (an IANA name such as Asia/Shanghai)") }
        var weekdays = Set<Int>()
        for v in json["weekdays"]?.arrayValue ?? [1, 2, 3, 4, 5].map({ JSONValue.number(Double($0)) }) {
            guard let n = v.numberValue, n == n.rounded(), (1...7).contains(Int(n)) else { throw FeatureProblem("calendar: weekdays are 1 (Monday) … 7 (Sunday)") }
            weekdays.insert(Int(n))
        }
        var hours: [ClosedRange<Int>] = []
        for v in json["hours"]?.arrayValue ?? [.array([.string("09:00"), .string("17:00")])] {
            guard let pair = v.arrayValue, pair.count == 2, let a = pair[0].stringValue.flatMap(Self.clock), let b = pair[1].stringValue.flatMap(Self.clock), a < b else {
                throw FeatureProblem("calendar: hours are pairs of times such as [\"09:00\", \"17:00\"], the first before the second")
            }
            hours.append(a...b)
        }
        hours.sort { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(hours, hours.dropFirst()) where b.lowerBound < a.upperBound { throw FeatureProblem("calendar: working hours overlap") }
        guard !weekdays.isEmpty || json["working_days"]?.arrayValue?.isEmpty == false, !hours.isEmpty else {
            throw FeatureProblem("calendar: it has no working time (no weekday and no hours)")
        }
        func days(_ key: String) throws(FeatureProblem) -> Set<Int64> {
            var out = Set<Int64>()
            for v in json[key]?.arrayValue ?? [] {
                guard let s = v.stringValue, let d = day(s) else { throw FeatureProblem("calendar: \(key) are dates YYYY-MM-DD") }
                out.insert(d)
            }
            return out
        }
        return WorkCalendar(timeZone: zone, weekdays: weekdays, hours: hours, holidays: try days("holidays"), workingDays: try days("working_days"))
    }

    public var json: JSONValue {
        func clock(_ s: Int) -> String { String(format: "%02d:%02d", s / 3600, s % 3600 / 60) }
        return .object([
            ("time_zone", .string(timeZone.identifier)), ("weekdays", .numbers(weekdays.sorted().map(Double.init))),
            ("hours", .array(hours.map { .array([.string(clock($0.lowerBound)), .string(clock($0.upperBound))]) })),
            ("holidays", .array(holidays.sorted().map { .string(Self.date($0)) })),
            ("working_days", .array(workingDays.sorted().map { .string(Self.date($0)) })),
        ])
    }

    /// Reads a holidays file: one date per line (`YYYY-MM-DD`, then anything: the holiday's name), `#` comments;
    /// a line whose name is `working` or `workday` marks a make-up working day instead.
    public mutating func addHolidays(fromText text: String) throws(FeatureProblem) {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard let d = Self.day(parts[0]) else { throw FeatureProblem("holidays line \(n + 1): '\(parts[0])' is not a date YYYY-MM-DD") }
            let name = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces).lowercased() : ""
            if name == "working" || name == "workday" { workingDays.insert(d); holidays.remove(d) } else { holidays.insert(d); workingDays.remove(d) }
        }
    }

    /// `HH:MM` as seconds after midnight (24:00 allowed as the end of a day).
    static func clock(_ s: String) -> Int? {
        let p = s.split(separator: ":")
        guard p.count == 2, let h = Int(p[0]), let m = Int(p[1]), (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440 else { return nil }
        return h * 3600 + m * 60
    }
}

extension Timestamp {
    /// Whether ISO 8601 text carries an offset (`Z`, `+08:00`, `-0500`) after its time.
    public static func hasOffset(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count > 16 else { return false }
        if b.last == 90 || b.last == 122 { return true }
        // After the date and the hour: a sign starts an offset.
        return b[13...].contains { $0 == 43 || $0 == 45 }
    }
}
