/// How long events are kept, by event type (`PORTAL_CONFIG` `"retention"`), and how often the data layer
/// purges what is older.
///
/// A type named on its own has its own maximum age; `"*"`, when given, is the maximum age of every other type.
/// Types without a rule, when there is no `"*"`, are kept for ever. Without any rule nothing is purged and no
/// purge runs.
public struct RetentionPolicy: Sendable, Equatable {
    /// Maximum age in seconds of each named event type.
    public var maxAgeSecondsByType: [String: Int64]
    /// Maximum age in seconds of every type not named (`"*"`); nil keeps them.
    public var defaultMaxAgeSeconds: Int64?
    /// `RETENTION_PURGE_INTERVAL_SECONDS`, default 3600: time between purges (the first runs at most 10 s
    /// after start).
    public var purgeIntervalSeconds: Double

    /// A policy; the default keeps everything.
    public init(
        maxAgeSecondsByType: [String: Int64] = [:], defaultMaxAgeSeconds: Int64? = nil,
        purgeIntervalSeconds: Double = 3600
    ) {
        self.maxAgeSecondsByType = maxAgeSecondsByType
        self.defaultMaxAgeSeconds = defaultMaxAgeSeconds
        self.purgeIntervalSeconds = purgeIntervalSeconds
    }

    /// Whether any rule is set, so that a purge has something to do.
    public var hasRules: Bool { !maxAgeSecondsByType.isEmpty || defaultMaxAgeSeconds != nil }

    /// One rule: the named type (nil for `"*"`) and its maximum age.
    public struct Rule: Sendable, Equatable {
        /// The event type; nil for every type not named on its own.
        public let eventType: String?
        public let maxAgeSeconds: Int64
    }

    /// The rules in a fixed order: named types sorted, then `"*"`.
    public var rules: [Rule] {
        var rules = maxAgeSecondsByType.keys.sorted().map {
            Rule(eventType: $0, maxAgeSeconds: maxAgeSecondsByType[$0]!)
        }
        if let seconds = defaultMaxAgeSeconds { rules.append(Rule(eventType: nil, maxAgeSeconds: seconds)) }
        return rules
    }
}
