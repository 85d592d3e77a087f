/// RFC 3339 timestamps in UTC, computed from the proleptic Gregorian calendar without Foundation.
public enum RFC3339 {
    /// Formats a time as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always UTC and always six fraction digits,
    /// for example `2026-01-01T00:00:00.000000Z`. Times before 1970 are handled; years below 1000
    /// are zero-padded to four digits.
    /// - Parameter unixMicroseconds: microseconds since 1970-01-01T00:00:00Z.
    public static func format(unixMicroseconds: Int64) -> String {
        let (seconds, fraction) = floorDivide(unixMicroseconds, by: 1_000_000)
        let (days, second) = floorDivide(seconds, by: 86_400)
        // Days since 1970-01-01 to a civil date, counting in 400-year eras that start on March 1.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(second / 3600, 2) + ":"
            + pad(second / 60 % 60, 2) + ":" + pad(second % 60, 2) + "." + pad(fraction, 6) + "Z"
    }

    /// Division rounding toward negative infinity, so the remainder is never negative.
    private static func floorDivide(_ value: Int64, by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
