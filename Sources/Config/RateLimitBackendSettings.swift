/// `RATE_LIMIT_FAIL_MODE`: what the limiter does while Redis cannot answer.
public enum RateLimitFailModeSetting: String, Sendable, CaseIterable {
    /// Requests pass unlimited.
    case open
    /// Requests are refused with 503.
    case closed
    /// Requests are limited in memory to this gateway's share (`RATE_LIMIT_INSTANCES`). The default.
    case local
}

/// How the shared limiter behaves when Redis fails: the fail mode, the share of `local` mode and the circuit.
///
/// Read whether or not Redis is configured, so that a bad value always stops start-up.
public struct RateLimitBackendSettings: Sendable, Hashable {
    /// `RATE_LIMIT_FAIL_MODE`, default `local`.
    public var failMode: RateLimitFailModeSetting = .local
    /// `RATE_LIMIT_INSTANCES`, default 1: how many gateways share the limit; `local` mode enforces
    /// 1/N of the rate and capacity in each.
    public var instances: Int = 1
    /// `RATE_LIMIT_CIRCUIT_FAILURES`, default 3: Redis failures in a row before the circuit opens.
    public var circuitFailures: Int = 3
    /// `RATE_LIMIT_CIRCUIT_COOLDOWN_SECONDS`, default 5: how long the circuit stays open before a probe.
    public var circuitCooldownSeconds: Double = 5

    /// Every default.
    public init() {}

    /// Reads the four settings. - Throws: `ConfigError` naming the variable.
    public static func load(from env: Environment) throws(ConfigError) -> RateLimitBackendSettings {
        var settings = RateLimitBackendSettings()
        settings.failMode = try env.enumeration("RATE_LIMIT_FAIL_MODE", default: RateLimitFailModeSetting.local)
        settings.instances = try env.int("RATE_LIMIT_INSTANCES", default: 1, range: 1...1_000)
        settings.circuitFailures = try env.int("RATE_LIMIT_CIRCUIT_FAILURES", default: 3, range: 1...1_000)
        settings.circuitCooldownSeconds = try env.durationSeconds(
            "RATE_LIMIT_CIRCUIT_COOLDOWN_SECONDS", default: 5, range: 0.1...3600)
        return settings
    }
}
