import Crypto
import PortalCore

extension AuditRecord {
    /// The record as one JSON object, all fields in a fixed order, ending with `"prev_hash"`
    /// and without `"hash"`: the bytes that `hash` is computed over.
    func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(contentsOf: Array("{\"time\":\"".utf8))
        out.append(contentsOf: Array(RFC3339.format(unixMicroseconds: timeMicroseconds).utf8))
        out.append(contentsOf: Array("\",\"sequence\":\(sequence),\"type\":".utf8))
        Self.append(type.rawValue, to: &out)
        out.append(contentsOf: Array(",\"outcome\":".utf8))
        Self.append(outcome.rawValue, to: &out)
        let optionals: [(String, String?)] = [
            ("request_id", requestID), ("client_address", clientAddress), ("subject", subject),
            ("route", route), ("reason", reason), ("token_fingerprint", tokenFingerprint),
        ]
        for (name, value) in optionals {
            out.append(contentsOf: Array(",\"\(name)\":".utf8))
            if let value { Self.append(value, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
        }
        out.append(contentsOf: Array(",\"prev_hash\":".utf8))
        Self.append(prevHash, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Sets `hash` from the canonical bytes and returns the full line, newline included.
    mutating func sealLine() -> [UInt8] {
        var line = canonicalBytes()
        hash = Digest.hex(Digest.sha256(line))
        line.removeLast()
        line.append(contentsOf: Array(",\"hash\":\"\(hash)\"}\n".utf8))
        return line
    }

    /// Appends `value` quoted and escaped, cut to `maxFieldBytes` on a character boundary.
    private static func append(_ value: String, to out: inout [UInt8]) {
        guard value.utf8.count > maxFieldBytes else { return JSONEscaping.appendQuoted(value, to: &out) }
        var kept = Substring()
        var bytes = 0
        for character in value {
            bytes += character.utf8.count
            if bytes > maxFieldBytes { break }
            kept.append(character)
        }
        JSONEscaping.appendQuoted(kept, to: &out)
    }
}

/// RFC 3339 timestamps in UTC, computed from the proleptic Gregorian calendar without Foundation.
enum RFC3339 {
    /// For example `2026-01-01T00:00:00.000000Z`.
    static func format(unixMicroseconds: Int64) -> String {
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
