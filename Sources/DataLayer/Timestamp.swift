/// RFC 3339 timestamps in UTC with microseconds, from the proleptic Gregorian calendar, without Foundation.
///
/// The same arithmetic as the Audit module's; both would move to PortalCore once it offers one.
enum Timestamp {
    static func rfc3339(unixMicroseconds: Int64) -> String {
        let micros = unixMicroseconds.quotientAndRemainder(dividingBy: 1_000_000)
        var seconds = micros.quotient
        var fraction = micros.remainder
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        let dayAndSecond = seconds.quotientAndRemainder(dividingBy: 86_400)
        var days = dayAndSecond.quotient
        var second = dayAndSecond.remainder
        if second < 0 {
            second += 86_400
            days -= 1
        }
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

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
