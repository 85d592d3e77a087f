import Foundation

/// Reading retention rules from the `PORTAL_CONFIG` JSON file.
///
/// Shape (optional; other top-level members belong to other readers):
/// ```json
/// {"retention": {"events": {"order.created": "30d", "session.started": "12h", "*": "365d"}}}
/// ```
/// A key is an event type (as the data layer accepts them: `^[a-z][a-z0-9_.:-]{0,127}$`) or `"*"`; a value is
/// a whole number and a unit, `h` (hours) or `d` (days), from `1h` to `36500d`. No prefix patterns: a type is
/// named exactly, everything else falls under `"*"`.
extension RetentionPolicy {
    /// The longest maximum age accepted: 100 years.
    static let longestSeconds: Int64 = 36_500 * 86_400

    /// Parses the retention rules out of a `PORTAL_CONFIG` document (no rules when it has no `"retention"`).
    /// - Throws: `ConfigError` naming `PORTAL_CONFIG` and the JSON path of the first problem, on one line.
    public init(json data: Data, purgeIntervalSeconds: Double = 3600) throws(ConfigError) {
        self.init(purgeIntervalSeconds: purgeIntervalSeconds)
        try ConfigJSON.check(data)
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ConfigError.invalidRouteTable(jsonPath: "$", reason: "expected a JSON object")
        }
        guard let value = root["retention"] else { return }
        guard let retention = value as? [String: Any] else {
            throw ConfigError.invalidRouteTable(jsonPath: "$.retention", reason: "expected an object")
        }
        if let unknown = retention.keys.sorted().first(where: { $0 != "events" }) {
            let reason = "unknown key \(ConfigError.quoted(unknown)) (known: events)"
            throw ConfigError.invalidRouteTable(jsonPath: "$.retention", reason: reason)
        }
        guard let events = retention["events"] as? [String: Any] else {
            let reason = "expected an object of event type: maximum age"
            throw ConfigError.invalidRouteTable(jsonPath: "$.retention.events", reason: reason)
        }
        for type in events.keys.sorted() {
            let path = "$.retention.events[\(ConfigError.quoted(type))]"
            guard type == "*" || Self.isEventType(type) else {
                let reason = "an event type matches ^[a-z][a-z0-9_.:-]{0,127}$, or is \"*\" for every other type"
                throw ConfigError.invalidRouteTable(jsonPath: path, reason: reason)
            }
            guard let text = events[type] as? String, let seconds = Self.maxAgeSeconds(text) else {
                let reason = "expected a maximum age such as \"30d\" or \"12h\" (1h to 36500d)"
                throw ConfigError.invalidRouteTable(jsonPath: path, reason: reason)
            }
            if type == "*" { defaultMaxAgeSeconds = seconds } else { maxAgeSecondsByType[type] = seconds }
        }
    }

    /// Seconds of `"<n>h"` or `"<n>d"`, within 1 hour and 100 years; nil otherwise.
    static func maxAgeSeconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.count <= 7, let unit = bytes.last else { return nil }
        let digits = bytes.dropLast()
        guard digits.first != UInt8(ascii: "0"), digits.allSatisfy({ (0x30...0x39).contains($0) }),
            let count = Int64(String(decoding: digits, as: UTF8.self))
        else { return nil }
        let seconds: Int64
        switch unit {
        case UInt8(ascii: "h"): seconds = count * 3_600
        case UInt8(ascii: "d"): seconds = count * 86_400
        default: return nil
        }
        return seconds <= longestSeconds ? seconds : nil
    }

    /// Whether `text` is an event type as the data layer accepts it.
    static func isEventType(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= 128, (0x61...0x7A).contains(first) else { return false }
        return bytes.allSatisfy { byte in
            (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x5F || byte == 0x2E
                || byte == 0x3A || byte == 0x2D
        }
    }
}
