import Auth
import Config
import Limits
import Net

/// The gateway's validated settings, built once at start-up.
public struct GatewaySettings: Sendable {
    /// Peers whose `X-Forwarded-For` is believed; empty believes nobody.
    public var trustedProxies: CIDRList
    /// How long an upstream may take to answer, in nanoseconds; default 30 s.
    public var upstreamTimeoutNanoseconds: UInt64
    /// Keys the gateway presents, as `X-Service-Key`, to internal upstreams (the data layer).
    public var serviceKeys: [ServiceKeyBinding]
    /// The per-client-address limit; default 100 a minute with a burst of 20.
    public var rateLimit: RateLimitPolicy
    /// Upstreams that get the caller's identity signed (`X-Consumer-Signature`), with their keys.
    public var identityKeys: [IdentityKeyBinding] = []
    /// `AUDIT_FAIL_MODE=closed`: answer 503 (E9960) while no audit sink can write durably; default false
    /// here (the settings loader picks closed in production).
    public var auditFailClosed = false

    public init(
        trustedProxies: CIDRList = CIDRList(), upstreamTimeoutNanoseconds: UInt64 = 30_000_000_000,
        serviceKeys: [ServiceKeyBinding] = [], rateLimit: RateLimitPolicy = RateLimitPolicy()
    ) {
        self.trustedProxies = trustedProxies
        self.rateLimit = rateLimit
        self.upstreamTimeoutNanoseconds = upstreamTimeoutNanoseconds
        self.serviceKeys = serviceKeys
    }

    /// The identity signer of `address`, when it has one.
    func identitySignature(for address: UpstreamAddress) -> ConsumerSignature? {
        identityKeys.first { $0.host == address.host && $0.port == address.port }?.signature
    }

    /// The key to present to `address`, if it is an internal upstream.
    func serviceKey(for address: UpstreamAddress) -> String? {
        serviceKeys.first { $0.host == address.host && $0.port == address.port }?.key
    }
}

/// A service key the gateway presents to one internal upstream.
public struct ServiceKeyBinding: Sendable {
    public var host: String
    public var port: Int
    /// The key itself: a secret, never logged.
    public var key: String

    public init(host: String, port: Int, key: String) {
        self.host = host
        self.port = port
        self.key = key
    }
}

/// The key under which the gateway signs the caller's identity for one upstream.
public struct IdentityKeyBinding: Sendable {
    public var host: String
    public var port: Int
    public var signature: ConsumerSignature

    /// - Parameter key: at least 32 bytes, shared with the upstream.
    public init(host: String, port: Int, key: [UInt8]) {
        self.host = host
        self.port = port
        signature = ConsumerSignature(key: key)
    }
}
