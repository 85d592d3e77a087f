/// A list of IPv4 and IPv6 networks, such as `TRUSTED_PROXIES`, with a matcher cheap enough to run per request.
///
/// Text form: comma-separated CIDRs (`10.0.0.0/8, 2001:db8::/32`); a bare address means a single host.
/// Host bits set below the prefix (`10.0.0.1/8`) are refused, as they usually hide a typo.
public struct CIDRList: Sendable, Hashable {
    private struct Network: Sendable, Hashable {
        let high: UInt64
        let low: UInt64
        let maskHigh: UInt64
        let maskLow: UInt64
    }

    private let networks: [Network]

    /// The networks in canonical text form, for logs (e.g. `10.0.0.0/8`).
    public let descriptions: [String]

    /// The empty list: matches nothing.
    public init() {
        networks = []
        descriptions = []
    }

    /// Whether the list has no networks.
    public var isEmpty: Bool { networks.isEmpty }

    /// Parses comma-separated CIDRs; an empty or blank text gives the empty list.
    ///
    /// - Throws: `ConfigError` naming `variable` and the first bad entry.
    public init(parsing text: String, variable: String = "TRUSTED_PROXIES") throws(ConfigError) {
        var networks: [Network] = []
        var descriptions: [String] = []
        for rawEntry in text.split(separator: ",") {
            let entry = rawEntry.trimmingSpaces()
            if entry.isEmpty { continue }
            guard let network = Self.parseNetwork(entry) else {
                throw ConfigError.invalidValue(
                    variable, expected: "a comma-separated list of IPv4/IPv6 CIDRs like 10.0.0.0/8 or ::1/128",
                    got: String(entry))
            }
            networks.append(network)
            descriptions.append(String(entry))
        }
        self.networks = networks
        self.descriptions = descriptions
    }

    /// Whether `address` lies in one of the networks.
    public func contains(_ address: IPAddress) -> Bool {
        for network in networks
        where address.high & network.maskHigh == network.high && address.low & network.maskLow == network.low {
            return true
        }
        return false
    }

    /// Whether the address written in `ipText` lies in one of the networks; false when it is not an address.
    public func contains(ipText: String) -> Bool {
        var text = ipText
        return text.withUTF8 { contains(ipTextBytes: UnsafeRawBufferPointer($0)) }
    }

    /// Whether the address text in `bytes` (e.g. a peer address or an `X-Forwarded-For` item) lies in one of
    /// the networks; false when it is not an address. Does not allocate.
    public func contains(ipTextBytes bytes: UnsafeRawBufferPointer) -> Bool {
        guard !networks.isEmpty, let address = IPAddress.parse(bytes) else { return false }
        return contains(address)
    }

    private static func parseNetwork(_ entry: Substring) -> Network? {
        let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(parts[0]) else { return nil }
        // IPv4 lives in the last 32 of 128 bits, so its prefix shifts by 96.
        let width = address.isIPv4 && !parts[0].contains(":") ? 32 : 128
        var prefix = width
        if parts.count == 2 {
            guard parts[1].allSatisfy(\.isASCIIDigit), let bits = Int(parts[1]), (0...width).contains(bits) else {
                return nil
            }
            prefix = bits
        }
        let bits128 = prefix + (128 - width)
        let maskHigh: UInt64 = bits128 >= 64 ? ~0 : (bits128 == 0 ? 0 : ~0 << (64 - bits128))
        let maskLow: UInt64 = bits128 <= 64 ? 0 : (bits128 == 128 ? ~0 : ~0 << (128 - bits128))
        guard address.high & ~maskHigh == 0, address.low & ~maskLow == 0 else { return nil }
        return Network(high: address.high, low: address.low, maskHigh: maskHigh, maskLow: maskLow)
    }
}

extension Character {
    /// Whether the character is one of `0`...`9`.
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
