/// Strict readers for the numbers in RESP header lines. Only what Redis writes is accepted: no spaces,
/// no `+`, no empty numbers; a length is `-1` (null, where allowed) or decimal digits.
enum RESPNumbers {
    /// A bulk length or aggregate count: nil for `-1` when `allowsNull`, else 0 or more.
    static func length(_ bytes: ArraySlice<UInt8>, allowsNull: Bool) throws(RESPParseError) -> Int? {
        if bytes.elementsEqual([UInt8(ascii: "-"), UInt8(ascii: "1")]) {
            guard allowsNull else { throw RESPParseError(.badLength) }
            return nil
        }
        // Twelve digits pass every limit a parser can be given and cannot overflow.
        guard !bytes.isEmpty, bytes.count <= 12, bytes.allSatisfy(isDigit) else { throw RESPParseError(.badLength) }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 48) }
    }

    /// A signed 64-bit integer.
    static func integer(_ bytes: ArraySlice<UInt8>) throws(RESPParseError) -> Int64 {
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 19, digits.allSatisfy(isDigit) else {
            throw RESPParseError(.badNumber)
        }
        // Accumulate downwards: the negative range is one larger, so Int64.min parses.
        var value: Int64 = 0
        for digit in digits {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times.subtractingReportingOverflow(Int64(digit - 48))
            guard !o1, !o2 else { throw RESPParseError(.badNumber) }
            value = next
        }
        if negative { return value }
        guard value != Int64.min else { throw RESPParseError(.badNumber) }
        return -value
    }

    /// A RESP3 double: `inf`, `-inf`, `nan`, or a decimal with an optional exponent.
    static func double(_ bytes: ArraySlice<UInt8>) throws(RESPParseError) -> Double {
        let text = String(decoding: bytes, as: UTF8.self)
        switch text {
        case "inf": return .infinity
        case "-inf": return -.infinity
        case "nan": return .nan
        default: break
        }
        let allowed = bytes.allSatisfy { isDigit($0) || $0 == 43 || $0 == 45 || $0 == 46 || $0 == 69 || $0 == 101 }
        guard !bytes.isEmpty, bytes.count <= 64, allowed, bytes.contains(where: isDigit), let value = Double(text)
        else { throw RESPParseError(.badNumber) }
        return value
    }

    /// A RESP3 big number, as its text.
    static func bigNumber(_ bytes: ArraySlice<UInt8>) throws(RESPParseError) -> String {
        let digits = bytes.first == UInt8(ascii: "-") ? bytes.dropFirst() : bytes
        guard !digits.isEmpty, digits.allSatisfy(isDigit) else { throw RESPParseError(.badNumber) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
}
