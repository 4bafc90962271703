import Foundation
import GeoGrid
import Testing

/// Deadlines in working time (issue 10): across a weekend, a holiday, a make-up working day, the end of working
/// hours and a change of clocks, each checked against an independent oracle that walks minute by minute with
/// Foundation's Gregorian calendar in the same zone.
@Suite struct WorkCalendarTests {
    static func calendar(_ zone: String, holidays: [String] = [], working: [String] = []) throws -> WorkCalendar {
        try WorkCalendar.parse(json: .object([
            ("time_zone", .string(zone)), ("weekdays", .numbers([1, 2, 3, 4, 5])),
            ("hours", .array([.array([.string("08:30"), .string("12:00")]), .array([.string("13:30"), .string("18:00")])])),
            ("holidays", .array(holidays.map(JSONValue.string))), ("working_days", .array(working.map(JSONValue.string))),
        ]))
    }

    /// The oracle: minute by minute from `start`, counting the minutes that Foundation says fall on a working
    /// weekday (or make-up day), not a holiday, within 08:30–12:00 or 13:30–18:00 local time.
    static func oracle(_ start: Date, workingMinutes: Int, zone: TimeZone, holidays: Set<String>, working: Set<String>) -> Date {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        var t = start
        var left = workingMinutes
        let f = DateFormatter()
        f.calendar = cal
        f.timeZone = zone
        f.dateFormat = "yyyy-MM-dd"
        func works(_ d: Date) -> Bool {
            let day = f.string(from: d)
            let c = cal.dateComponents([.weekday, .hour, .minute], from: d)
            let weekday = (c.weekday! + 5) % 7 + 1  // Foundation: 1 = Sunday; ISO: 1 = Monday
            let isDay = working.contains(day) || (!holidays.contains(day) && weekday <= 5)
            let m = c.hour! * 60 + c.minute!
            return isDay && ((510..<720).contains(m) || (810..<1080).contains(m))
        }
        // The deadline is the end of the last working minute counted.
        while left > 0 {
            if works(t) { left -= 1 }
            t = t.addingTimeInterval(60)
        }
        return t
    }

    @Test(arguments: [
        // Friday 16:00 + 3 h: 2 h on Friday, 1 h on Monday → Monday 09:30.
        ("Asia/Shanghai", "2026-11-27T16:00:00+08:00", 180),
        // Friday 17:59 + 1 d (8 h): a minute on Friday, the rest on Monday.
        ("Asia/Shanghai", "2026-11-27T17:59:00+08:00", 480),
        // Saturday night: the clock starts Monday 08:30.
        ("Asia/Shanghai", "2026-11-28T23:00:00+08:00", 60),
        // At lunch: counting starts at 13:30.
        ("Asia/Shanghai", "2026-11-25T12:10:00+08:00", 30),
        // Before a holiday week (Oct 1–7) and a make-up Saturday (Oct 10) after it.
        ("Asia/Shanghai", "2026-09-30T15:00:00+08:00", 3 * 480),
        // Across the end of daylight saving time in Helsinki (25 October 2026, 04:00 → 03:00).
        ("Europe/Helsinki", "2026-10-23T17:00:00+03:00", 2 * 480 + 30),
        // Across Christmas in Helsinki (24–26 December holidays).
        ("Europe/Helsinki", "2026-12-23T11:00:00+02:00", 3 * 480),
    ])
    func workingTimeMatchesAMinuteByMinuteWalk(zone: String, start: String, minutes: Int) throws {
        let holidays = ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", "2026-12-24", "2026-12-25"]
        let working = ["2026-10-10"]
        let calendar = try Self.calendar(zone, holidays: holidays, working: working)
        let t0 = try #require(Timestamp(iso8601: start))
        let got = calendar.adding(working: Double(minutes * 60), to: t0)
        let want = Self.oracle(Date(timeIntervalSince1970: t0.seconds), workingMinutes: minutes, zone: TimeZone(identifier: zone)!,
            holidays: Set(holidays), working: Set(working))
        #expect(got.seconds == want.timeIntervalSince1970, "\(start) + \(minutes) working minutes: \(got.text), oracle \(Timestamp(seconds: want.timeIntervalSince1970).text)")
        // And back: the working time between the two is what was added.
        #expect(calendar.workingSeconds(from: t0, to: got) == Double(minutes * 60))
    }

    @Test func theShippedThreeDayRule() throws {
        // A case dispatched on Thursday 10:00 in Shanghai is yellow after 2 working days (Monday 10:00) and red after
        // 3 (Tuesday 10:00): the weekend does not count.
        let docs = try IncidentConfig.defaultDocuments()
        let config = try IncidentConfig.parse(docs)
        let limit = try #require(config.deadlines.limit(stage: "dispatched", category: "E01", subcategory: "E0102", priority: "normal", kind: "immediate"))
        let t0 = try #require(Timestamp(iso8601: "2026-11-26T10:00:00+08:00"))
        #expect(limit.yellow.after(t0, working: limit.working, calendar: config.calendar).text == "2026-11-30T02:00:00Z")
        #expect(limit.red.after(t0, working: limit.working, calendar: config.calendar).text == "2026-12-01T02:00:00Z")
        // Urgent cases run on wall time: 15 minutes to accept, weekend or not.
        let urgent = try #require(config.deadlines.limit(stage: "dispatched", category: "fire", subcategory: nil, priority: "urgent", kind: "immediate"))
        let saturday = try #require(Timestamp(iso8601: "2026-11-28T23:50:00+08:00"))
        #expect(urgent.red.after(saturday, working: urgent.working, calendar: config.calendar).text == "2026-11-28T16:05:00Z")
    }

    @Test func holidaysFileAndLocalTimes() throws {
        var calendar = try Self.calendar("Asia/Shanghai")
        try calendar.addHolidays(fromText: "# 2026\n2026-10-01 National Day\n2026-10-10 working\n\n")
        #expect(!calendar.isWorkingDay(WorkCalendar.day("2026-10-01")!))
        #expect(calendar.isWorkingDay(WorkCalendar.day("2026-10-10")!))  // a Saturday worked
        #expect(throws: FeatureProblem.self) { try calendar.addHolidays(fromText: "2026-13-01\n") }
        // Times without an offset are local; with one, as given.
        #expect(calendar.parse("2026-11-02 09:00")?.text == "2026-11-02T01:00:00Z")
        #expect(calendar.parse("2026-11-02T09:00:00Z")?.text == "2026-11-02T09:00:00Z")
        #expect(calendar.parse("2026-11-02T09:00:00-05:00")?.text == "2026-11-02T14:00:00Z")
        // A calendar without working time is refused, as are overlapping hours and unknown zones.
        for bad: JSONValue in [
            .object([("weekdays", .array([])), ("hours", .array([.array([.string("09:00"), .string("17:00")])]))]),
            .object([("hours", .array([.array([.string("09:00"), .string("13:00")]), .array([.string("12:00"), .string("17:00")])]))]),
            .object([("time_zone", .string("Mars/Olympus"))]),
        ] {
            #expect(throws: FeatureProblem.self) { try WorkCalendar.parse(json: bad) }
        }
    }

    /// The local day by arithmetic (what locate asks for every point) agrees with Foundation's formatter, in zones
    /// east and west of UTC and across a daylight-saving change.
    @Test func theLocalDayAgreesWithTheFormatter() throws {
        var rng = SeededRandom(seed: 5)
        for zone in ["Asia/Shanghai", "America/Los_Angeles", "Europe/Helsinki", "UTC", "Pacific/Kiritimati"] {
            let tz = try #require(TimeZone(identifier: zone))
            for _ in 0..<300 {
                let date = Date(timeIntervalSince1970: rng.next(in: 1_700_000_000...1_900_000_000))
                #expect(PlanDesk.localDay(date, timeZone: tz) == ISO8601DateFormatter.string(from: date, timeZone: tz, formatOptions: [.withFullDate]), "\(zone) \(date)")
            }
        }
    }
}
