import Config

#if canImport(Glibc)
    import Glibc
#endif

/// Canonical text for client addresses, so one client cannot appear as many by respelling its address.
///
/// `2001:DB8::1`, `2001:0db8:0::1` and `2001:db8::1` are one address; `::ffff:10.0.0.1` is `10.0.0.1`.
/// For rate limiting an IPv6 client is keyed by its /64, the block one subscriber usually holds.
enum ClientKey {
    /// The canonical form of `address`, or `address` itself when it is not an IP literal.
    static func canonical(_ address: String) -> String {
        guard let ip = IPAddress(address) else { return address }
        return format(ip)
    }

    /// The rate-limit key for an already canonical address: itself for IPv4, its /64 for IPv6.
    static func limitKey(_ canonicalAddress: String) -> String {
        guard canonicalAddress.utf8.contains(UInt8(ascii: ":")), let ip = IPAddress(canonicalAddress) else {
            return canonicalAddress
        }
        return format(IPAddress(high: ip.high, low: 0)) + "/64"
    }

    /// The ban key that an operator's text names: an IP address in any spelling (an IPv6 one as its /64, the way
    /// clients are keyed) or an IPv6 /64 key such as `2001:db8::/64`; nil for anything else (other prefixes,
    /// host names, stray spaces), which would be a ban that matches nobody.
    static func banKey(operatorText text: String) -> String? {
        var address = Substring(text)
        if address.hasSuffix("/64") {
            address = address.dropLast(3)
            guard address.contains(":") else { return nil }
        }
        guard let ip = IPAddress(address) else { return nil }
        return limitKey(format(ip))
    }

    /// `ip` as `inet_ntop` writes it: dotted IPv4 for IPv4 (also IPv4-mapped), RFC 5952 text for IPv6.
    static func format(_ ip: IPAddress) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        if ip.isIPv4 {
            var v4 = in_addr(s_addr: UInt32(truncatingIfNeeded: ip.low).bigEndian)
            _ = buffer.withUnsafeMutableBufferPointer { inet_ntop(AF_INET, &v4, $0.baseAddress, 64) }
        } else {
            var bytes = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 {
                bytes[i] = UInt8(truncatingIfNeeded: ip.high >> (56 - 8 * UInt64(i)))
                bytes[8 + i] = UInt8(truncatingIfNeeded: ip.low >> (56 - 8 * UInt64(i)))
            }
            _ = bytes.withUnsafeBytes { raw in
                buffer.withUnsafeMutableBufferPointer { inet_ntop(AF_INET6, raw.baseAddress, $0.baseAddress, 64) }
            }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
