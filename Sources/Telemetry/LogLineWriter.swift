import PortalCore

#if canImport(Glibc)
    import Glibc
#endif

/// Turns one log event into the bytes of one line: redaction, escaping, timestamp.
enum LogLineWriter {
    static let redacted = "[REDACTED]"
    private static let sensitiveWords = ["secret", "password", "token", "authorization", "key"]
    private static let reservedKeys: Set<String> = ["time", "level", "message"]

    /// Whether values under `key` are hidden unless marked safe.
    static func isSensitive(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return sensitiveWords.contains { lowered.contains($0) }
    }

    /// The whole line, ending in `\n`; metadata keys in sorted order.
    static func line(
        format: Logger.Format,
        unixNanoseconds: Int64,
        level: Logger.Level,
        message: String,
        metadata: [String: LogValue]
    ) -> [UInt8] {
        let time = timestamp(unixNanoseconds: unixNanoseconds)
        let fields = metadata.sorted { $0.key < $1.key }.map { key, value in
            (reservedKeys.contains(key) ? "meta." + key : key, rendered(value, under: key))
        }
        var out: [UInt8] = []
        out.reserveCapacity(128)
        switch format {
        case .json:
            out.append(contentsOf: Array("{\"time\":\"\(time)\",\"level\":\"\(level.name)\",\"message\":".utf8))
            JSONEscaping.appendQuoted(message, to: &out)
            for (key, value) in fields {
                out.append(UInt8(ascii: ","))
                JSONEscaping.appendQuoted(key, to: &out)
                out.append(UInt8(ascii: ":"))
                switch value {
                case .text(let text): JSONEscaping.appendQuoted(text, to: &out)
                case .literal(let literal): out.append(contentsOf: Array(literal.utf8))
                }
            }
            out.append(UInt8(ascii: "}"))
        case .text:
            out.append(contentsOf: Array("\(time) \(level.name) ".utf8))
            appendBareOrQuoted(message, to: &out)
            for (key, value) in fields {
                out.append(UInt8(ascii: " "))
                appendBareOrQuoted(key, to: &out)
                out.append(UInt8(ascii: "="))
                switch value {
                case .text(let text): appendBareOrQuoted(text, to: &out)
                case .literal(let literal): out.append(contentsOf: Array(literal.utf8))
                }
            }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private enum Rendered {
        case text(String)
        case literal(String)
    }

    private static func rendered(_ value: LogValue, under key: String) -> Rendered {
        if case .safe(let text) = value { return .text(text) }
        if isSensitive(key) { return .text(redacted) }
        switch value {
        case .string(let text), .safe(let text): return .text(text)
        case .int(let number): return .literal(String(number))
        case .bool(let flag): return .literal(flag ? "true" : "false")
        case .double(let number): return number.isFinite ? .literal("\(number)") : .text("\(number)")
        }
    }

    /// Text-format words: bare when made of plain characters, otherwise a quoted JSON string, so a
    /// value can never add a line or fake a field.
    private static func appendBareOrQuoted(_ text: String, to out: inout [UInt8]) {
        let plain =
            !text.isEmpty
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return true
                default:
                    return "._:/@-+".utf8.contains(byte)
                }
            }
        if plain {
            out.append(contentsOf: Array(text.utf8))
        } else {
            JSONEscaping.appendQuoted(text, to: &out)
        }
    }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-01-01T00:00:00.000Z`.
    static func timestamp(unixNanoseconds: Int64) -> String {
        var seconds = unixNanoseconds / 1_000_000_000
        var nanos = unixNanoseconds % 1_000_000_000
        if nanos < 0 {
            seconds -= 1
            nanos += 1_000_000_000
        }
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "1970-01-01T00:00:00.000Z" }
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let date = "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
        let clock = "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
        return "\(date)T\(clock).\(pad(Int(nanos / 1_000_000), 3))Z"
    }
}
