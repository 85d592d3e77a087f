/// Typed reads of single variables. Each returns `default` when the variable is unset, and throws a
/// `ConfigError` whose one-line description names the variable and what it accepts. An empty value counts
/// as set, and is therefore an error for every typed accessor except `string`.
extension Environment {
    /// The text of `name`, or `default` when unset.
    public func string(_ name: String, default defaultValue: String? = nil) throws(ConfigError) -> String? {
        try value(name) ?? defaultValue
    }

    /// A secret (password, key); nil when unset. An empty secret is an error.
    public func secret(_ name: String) throws(ConfigError) -> SecretValue? {
        guard let text = try value(name) else { return nil }
        guard !text.isEmpty else { throw ConfigError.invalidValue(name, expected: "a non-empty secret", got: text) }
        return SecretValue(text)
    }

    /// A decimal integer within `range` (optional leading `-`, no spaces, no `+`, no separators).
    public func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let text = try value(name) else { return defaultValue }
        let expected = "an integer from \(range.lowerBound) to \(range.upperBound)"
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.count <= 19, digits.allSatisfy(\.isASCIIDigit), let number = Int(text),
            range.contains(number)
        else { throw ConfigError.invalidValue(name, expected: expected, got: text) }
        return number
    }

    /// A boolean: `true/false/1/0/yes/no`, case-insensitive.
    public func bool(_ name: String, default defaultValue: Bool) throws(ConfigError) -> Bool {
        guard let text = try value(name) else { return defaultValue }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigError.invalidValue(name, expected: "one of true, false, 1, 0, yes, no", got: text)
        }
    }

    /// A host to bind or connect to: an IPv4/IPv6 literal (no brackets) or a DNS name.
    public func host(_ name: String, default defaultValue: String) throws(ConfigError) -> String {
        guard let text = try value(name) else { return defaultValue }
        guard HostName.isValid(text) else {
            throw ConfigError.invalidValue(name, expected: "a host name or an IPv4/IPv6 address", got: text)
        }
        return text
    }

    /// A TCP port from 1 to 65535; with `allowsZero`, 0 is accepted too (the OS picks a free port, for tests).
    public func port(_ name: String, default defaultValue: Int, allowsZero: Bool = false) throws(ConfigError) -> Int {
        guard let text = try value(name) else { return defaultValue }
        let range = allowsZero ? 0...65535 : 1...65535
        guard text.count <= 5, !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let port = Int(text),
            range.contains(port)
        else {
            throw ConfigError.invalidValue(name, expected: "a port from \(range.lowerBound) to 65535", got: text)
        }
        return port
    }

    /// A duration in seconds: digits with an optional fraction (`30`, `0.25`), within `range` seconds.
    public func durationSeconds(
        _ name: String, default defaultValue: Double, range: ClosedRange<Double>
    ) throws(ConfigError) -> Double {
        guard let text = try value(name) else { return defaultValue }
        let expected = "a duration in seconds from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let wellFormed = parts.count <= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }
        guard wellFormed, text.count <= 20, let seconds = Double(text), range.contains(seconds) else {
            throw ConfigError.invalidValue(name, expected: expected, got: text)
        }
        return seconds
    }

    /// One of `T`'s raw values, compared case-insensitively (so `LOG_LEVEL=INFO` and `info` both work).
    public func enumeration<T: RawRepresentable & CaseIterable>(
        _ name: String, default defaultValue: T
    ) throws(ConfigError) -> T where T.RawValue == String {
        guard let text = try value(name) else { return defaultValue }
        if let match = T.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) { return match }
        let names = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw ConfigError.invalidValue(name, expected: "one of \(names)", got: text)
    }

    /// A comma-separated list of IPv4/IPv6 CIDRs; the empty list when unset or blank.
    public func cidrList(_ name: String) throws(ConfigError) -> CIDRList {
        guard let text = try value(name) else { return CIDRList() }
        return try CIDRList(parsing: text, variable: name)
    }

    /// An upstream URL (`http://host:port[/base]`), or `default` when unset.
    public func upstreamURL(_ name: String, default defaultValue: UpstreamURL? = nil) throws(ConfigError)
        -> UpstreamURL?
    {
        guard let text = try value(name) else { return defaultValue }
        return try UpstreamURL(parsing: text, variable: name)
    }

    /// A comma-separated list of non-empty secrets (blank items are skipped); empty when unset.
    public func secretList(_ name: String) throws(ConfigError) -> [SecretValue] {
        guard let text = try value(name) else { return [] }
        let items = text.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        guard !items.isEmpty else {
            throw ConfigError.invalidValue(name, expected: "a comma-separated list of non-empty keys", got: text)
        }
        return items.map { SecretValue(String($0)) }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : String(seconds)
    }
}
