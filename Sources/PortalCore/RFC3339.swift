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

    /// Reads exactly the form `format(unixMicroseconds:)` writes (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), or nil.
    ///
    /// Anything else is refused, including valid RFC 3339 in another form (offsets, fewer digits) and
    /// impossible dates such as February 30: the result must format back to the very same text.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 27 else { return nil }
        let separators: [Int: UInt8] = [
            4: UInt8(ascii: "-"), 7: UInt8(ascii: "-"), 10: UInt8(ascii: "T"), 13: UInt8(ascii: ":"),
            16: UInt8(ascii: ":"), 19: UInt8(ascii: "."), 26: UInt8(ascii: "Z"),
        ]
        for (index, byte) in bytes.enumerated() {
            if let separator = separators[index] {
                guard byte == separator else { return nil }
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            }
        }
        func number(_ range: Range<Int>) -> Int64 {
            bytes[range].reduce(0) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
        }
        let (year, month, day) = (number(0..<4), number(5..<7), number(8..<10))
        let (hour, minute, second) = (number(11..<13), number(14..<16), number(17..<19))
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        // Civil date to days since 1970-01-01, in 400-year eras that start on March 1.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        let micros = seconds * 1_000_000 + number(20..<26)
        // Day 31 of a 30-day month (and the like) would format as another date: refuse it.
        return format(unixMicroseconds: micros).utf8.elementsEqual(bytes) ? micros : nil
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
