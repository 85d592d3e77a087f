#if canImport(Glibc)
    import Glibc
#endif

/// The `Host` field's grammar (RFC 9112 §3.2, RFC 3986 §3.2.2–3.2.3), checked on bytes in one pass.
///
/// `uri-host [ ":" port ]`, where the host is a name of letters, digits, `-`, `_` and `.` (dotted IPv4 is one
/// of those; no empty label but a final dot; at most 253 bytes) or a bracketed IPv6 literal, and the port is
/// 1 to 5 digits of at most 65535. Narrower than RFC 3986's `reg-name` on purpose: percent-escapes, sub-delims
/// (`'`, `(`, `;`, ...) and userinfo (`@`) are refused, so a value can go on in `X-Forwarded-Host` or into a
/// `Location` without quoting.
public enum HostHeader {
    /// Whether `value` is a valid `Host` field value.
    public static func isValid(_ value: UnsafeRawBufferPointer) -> Bool { hostLength(value) != nil }

    /// The host of a `Host` value without its port (an IPv6 literal keeps its brackets), or nil when invalid.
    public static func hostName(_ value: String) -> String? {
        var copy = value
        return copy.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            return hostLength(raw).map { String(decoding: raw[..<$0], as: UTF8.self) }
        }
    }

    /// The length of the host part when the whole value is valid.
    static func hostLength(_ value: UnsafeRawBufferPointer) -> Int? {
        guard let first = value.first else { return nil }
        let end: Int
        if first == UInt8(ascii: "[") {
            guard let close = value.firstIndex(of: UInt8(ascii: "]")), isIPv6(value[1..<close]) else { return nil }
            end = close + 1
        } else {
            end = nameLength(value)
            guard end > 0 else { return nil }
        }
        guard end == value.count || isPort(value[(end + 1)...], after: value[end]) else { return nil }
        return end
    }

    /// The length of the name at the start of `value` (up to a `:` or the end), or 0 when it breaks the rules.
    private static func nameLength(_ value: UnsafeRawBufferPointer) -> Int {
        var previous = UInt8(ascii: ".")
        var index = 0
        while index < value.count {
            let b = value[index]
            if b == UInt8(ascii: ":") { break }
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "_"): break
            case UInt8(ascii: "."): if previous == UInt8(ascii: ".") { return 0 }
            default: return 0
            }
            previous = b
            index += 1
        }
        return index <= 253 ? index : 0
    }

    /// `:` then 1–5 digits naming a port from 0 to 65535.
    private static func isPort(_ digits: Slice<UnsafeRawBufferPointer>, after colon: UInt8) -> Bool {
        guard colon == UInt8(ascii: ":"), (1...5).contains(digits.count) else { return false }
        var port = 0
        for b in digits {
            guard b >= 0x30, b <= 0x39 else { return false }
            port = port * 10 + Int(b - 0x30)
        }
        return port <= 65_535
    }

    /// An IPv6 address between the brackets, as `inet_pton` reads one (a zone id is not allowed in `Host`).
    private static func isIPv6(_ literal: Slice<UnsafeRawBufferPointer>) -> Bool {
        guard (2...45).contains(literal.count) else { return false }
        var text = [CChar](repeating: 0, count: literal.count + 1)
        for (i, b) in literal.enumerated() {
            guard (0x30...0x3A).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b) || b == 0x2E
            else { return false }
            text[i] = CChar(bitPattern: b)
        }
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }
}
