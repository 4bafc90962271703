import Foundation

/// An instant read from ISO 8601 / RFC 3339 text, kept as seconds since 1970 (UTC) and written back as UTC text
/// `YYYY-MM-DDTHH:MM:SS[.fff]Z`, whose text order is time order (so SQL compares stored timestamps as text).
/// Pure arithmetic (days from civil dates), no Foundation formatter: it runs per row on import.
public struct Timestamp: Hashable, Comparable, Sendable {
    /// Seconds since 1970-01-01T00:00:00Z, with milliseconds.
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }

    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fraction]]` (T or a space) with `Z`, `±HH:MM`, `±HHMM` or `±HH`, or
    /// no offset (read as UTC). Nil for anything else, including impossible dates and times.
    public init?(iso8601 text: String) {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                guard b[k] >= 48 && b[k] <= 57 else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2),
            (1...12).contains(month), day >= 1, day <= Self.daysIn(month, year)
        else { return nil }
        var secs = Double(Self.daysFromCivil(year, month, day)) * 86_400
        if i == b.count {
            self.seconds = secs
            return
        }
        guard b[i] == 84 || b[i] == 116 || b[i] == 32 else { return nil }  // T, t or a space
        i += 1
        guard let hour = digits(2), expect(58), let minute = digits(2), hour < 24, minute < 60 else { return nil }
        var second = 0.0
        if expect(58) {
            guard let s = digits(2), s < 61 else { return nil }  // 60: a leap second, as RFC 3339 allows
            second = Double(s)
            if i < b.count, b[i] == 46 || b[i] == 44 {
                i += 1
                var scale = 0.1, any = false
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    second += Double(b[i] - 48) * scale
                    scale /= 10
                    i += 1
                    any = true
                }
                guard any else { return nil }
            }
        }
        secs += Double(hour * 3600 + minute * 60) + second
        if i < b.count {
            if b[i] == 90 || b[i] == 122 {  // Z
                i += 1
            } else if b[i] == 43 || b[i] == 45 {
                let sign = b[i] == 43 ? 1.0 : -1.0
                i += 1
                guard let oh = digits(2), oh <= 23 else { return nil }
                var om = 0
                if i < b.count {
                    _ = expect(58)
                    guard let m = digits(2), m < 60 else { return nil }
                    om = m
                }
                secs -= sign * Double(oh * 3600 + om * 60)
            } else {
                return nil
            }
        }
        guard i == b.count else { return nil }
        self.seconds = (secs * 1000).rounded() / 1000
    }

    /// UTC text, with milliseconds only when there are some. Written digit by digit into a fixed buffer: it
    /// runs several times per case on import.
    public var text: String {
        let whole = seconds.rounded(.down)
        let millis = Int(((seconds - whole) * 1000).rounded())
        let total = Int64(whole)
        var days = total / 86_400, rest = total % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        let (y, m, d) = Self.civil(fromDays: days)
        var b = [UInt8](repeating: 0, count: 24)
        var n = 0
        func put(_ v: Int, _ width: Int) {
            var v = v, i = width - 1
            while i >= 0 {
                b[n + i] = UInt8(48 + v % 10)
                v /= 10
                i -= 1
            }
            n += width
        }
        func sep(_ c: Character) {
            b[n] = c.asciiValue!
            n += 1
        }
        if (0...9999).contains(y) { put(y, 4) } else {
            // Outside four digits (never in practice): the plain form.
            return "\(y)-\(m)-\(d)T\(rest / 3600):\(rest % 3600 / 60):\(rest % 60)Z"
        }
        sep("-"); put(m, 2); sep("-"); put(d, 2); sep("T")
        put(Int(rest / 3600), 2); sep(":"); put(Int(rest % 3600 / 60), 2); sep(":"); put(Int(rest % 60), 2)
        if millis > 0 { sep("."); put(millis, 3) }
        sep("Z")
        return String(decoding: b[0..<n], as: UTF8.self)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.seconds < b.seconds }

    /// This moment, to the millisecond.
    public static var now: Timestamp { Timestamp(seconds: (Date().timeIntervalSince1970 * 1000).rounded() / 1000) }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01 (`civil_from_days`).
    static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }
}
