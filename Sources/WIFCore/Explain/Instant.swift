/// Instants and durations as `wif explain` and `wif test` read and print them: RFC 3339 timestamps in UTC,
/// unix seconds, and short durations such as `9m58s`. Pure arithmetic (no calendar APIs, no clock).
public enum Instant {
    /// Parses `--at`-style input: unix seconds (`1767225600`, `1767225600.5`) or an RFC 3339 date-time
    /// (`2026-01-01T00:00:00Z`, `2026-01-01t01:30:00.250+01:30`; a space may separate date and time).
    /// Returns seconds since 1970, or nil.
    public static func parse(_ text: String) -> Double? {
        let text = text.trimmingSpaces
        if text.wholeMatch(of: /[0-9]{1,12}(\.[0-9]{1,9})?/) != nil { return Double(text) }
        let pattern =
            /([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))/
        guard let match = text.wholeMatch(of: pattern) else { return nil }
        let output = match.output
        guard let year = Int(output.1), let month = Int(output.2), let day = Int(output.3), let hour = Int(output.4),
            let minute = Int(output.5), let second = Int(output.6),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var seconds = Double(daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second)
        if let fraction = output.7 { seconds += Double("0" + fraction) ?? 0 }
        if output.8 == nil, let sign = output.9, let offsetHours = output.10.flatMap({ Int($0) }), let offsetMinutes = output.11.flatMap({ Int($0) })
        {
            guard offsetHours < 24, offsetMinutes < 60 else { return nil }
            let offset = Double(offsetHours * 3600 + offsetMinutes * 60)
            seconds += sign == "+" ? -offset : offset
        }
        return seconds
    }

    /// `2026-01-15T08:00:00Z` (whole seconds, rounded down).
    public static func format(_ seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 1e14 else { return "\(seconds)" }
        let whole = Int(seconds.rounded(.down))
        let days = whole >= 0 ? whole / 86_400 : (whole - 86_399) / 86_400
        let rest = whole - days * 86_400
        let (year, month, day) = civilFromDays(days)
        return "\(pad(year, 4))-\(pad(month))-\(pad(day))T\(pad(rest / 3600)):\(pad(rest % 3600 / 60)):\(pad(rest % 60))Z"
    }

    /// A short duration: `45s`, `9m58s`, `2h`, `3d4h`; negative values get a leading `-`.
    public static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.towardZero))
        if total < 0 { return "-" + duration(Double(-total)) }
        let (days, hours, minutes, secs) = (total / 86_400, total % 86_400 / 3600, total % 3600 / 60, total % 60)
        var text = ""
        if days > 0 { text += "\(days)d" }
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0, days == 0 { text += "\(minutes)m" }
        if secs > 0, days == 0, hours == 0 { text += "\(secs)s" }
        return text.isEmpty ? "0s" : text
    }

    /// `2026-01-15T08:10:00Z (in 10m)`, `… (5m ago)` or `… (now)` relative to `now`.
    public static func describe(_ seconds: Double, relativeTo now: Double) -> String {
        let delta = seconds - now
        let relative = abs(delta) < 1 ? "now" : delta > 0 ? "in \(duration(delta))" : "\(duration(-delta)) ago"
        return "\(format(seconds)) (\(relative))"
    }

    private static func pad(_ value: Int, _ width: Int = 2) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    private static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: String { ExchangeRequest.trimmed(self) }
}
