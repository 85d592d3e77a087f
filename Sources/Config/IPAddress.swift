#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 address as 128 bits; IPv4 is kept in its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so
/// one comparison serves both families.
public struct IPAddress: Sendable, Hashable {
    /// The high 64 bits, in host order.
    public let high: UInt64
    /// The low 64 bits, in host order.
    public let low: UInt64

    /// Whether the address is an IPv4 address (or IPv4-mapped IPv6).
    public var isIPv4: Bool { high == 0 && (low >> 32) == 0xFFFF }

    /// An address from its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses dotted IPv4 or textual IPv6 (no zone, no brackets); nil when not an address.
    public init?(_ text: some StringProtocol) {
        var copy = String(text)
        let parsed = copy.withUTF8 { IPAddress.parse(UnsafeRawBufferPointer($0)) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// An address from 4 (IPv4) or 16 (IPv6) network-order bytes, as in a `sockaddr`; nil for other lengths.
    public init?(networkBytes bytes: UnsafeRawBufferPointer) {
        switch bytes.count {
        case 4:
            var value: UInt64 = 0xFFFF
            for byte in bytes { value = value << 8 | UInt64(byte) }
            self.init(high: 0, low: value)
        case 16:
            var high: UInt64 = 0
            var low: UInt64 = 0
            for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
            self.init(high: high, low: low)
        default:
            return nil
        }
    }

    /// Parses address text held in bytes without allocating; nil when not an address.
    ///
    /// Uses the C library's `inet_pton`, on a stack copy with a terminating NUL.
    public static func parse(_ text: UnsafeRawBufferPointer) -> IPAddress? {
        // The longest IPv6 text (IPv4-mapped with full groups) is 45 bytes.
        guard !text.isEmpty, text.count <= 45 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { buffer -> IPAddress? in
            for index in 0..<text.count { buffer[index] = CChar(bitPattern: text[index]) }
            buffer[text.count] = 0
            let isV6 = text.contains(UInt8(ascii: ":"))
            var storage = (UInt64(0), UInt64(0))
            let status = withUnsafeMutableBytes(of: &storage) { raw in
                buffer.baseAddress.map { inet_pton(isV6 ? AF_INET6 : AF_INET, $0, raw.baseAddress) } ?? 0
            }
            guard status == 1 else { return nil }
            return withUnsafeBytes(of: &storage) { raw in
                IPAddress(networkBytes: UnsafeRawBufferPointer(rebasing: raw[0..<(isV6 ? 16 : 4)]))
            }
        }
    }
}
