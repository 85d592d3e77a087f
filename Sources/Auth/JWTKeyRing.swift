import PortalCore
import Synchronization

/// The keys that verify tokens right now: fixed ones (`JWT_SECRET`, the product's own signing key,
/// `JWKS_FILE`) plus those last fetched from `JWKS_URL`, which a refresher replaces as a whole.
///
/// Requests read the current `JWTVerifier` (a value) under a lock held only to copy one reference; the
/// verification itself runs outside it. A refresh never leaves a moment without keys.
public final class JWTKeyRing: Sendable {
    /// Keys that never change while the process runs.
    public let fixedKeys: [JWTVerifier.Key]
    private let configuration: JWTVerifier.Configuration
    private let clock: any PortalClock
    private let current: Mutex<JWTVerifier>

    /// - Parameters:
    ///   - fixedKeys: keys configured at start-up.
    ///   - configuration: issuer, audience, leeway and size limit for every verification.
    ///   - clock: the time source for `exp`, `nbf` and `iat`.
    public init(
        fixedKeys: [JWTVerifier.Key], configuration: JWTVerifier.Configuration = JWTVerifier.Configuration(),
        clock: any PortalClock = SystemClock()
    ) {
        self.fixedKeys = fixedKeys
        self.configuration = configuration
        self.clock = clock
        current = Mutex(JWTVerifier(keys: fixedKeys, configuration: configuration, clock: clock))
    }

    /// The verifier over the current keys.
    public var verifier: JWTVerifier { current.withLock { $0 } }

    /// Replaces the fetched keys (the fixed ones stay first).
    public func replaceFetchedKeys(_ keys: [JWTVerifier.Key]) {
        let fresh = JWTVerifier(keys: fixedKeys + keys, configuration: configuration, clock: clock)
        current.withLock { $0 = fresh }
    }

    /// How many keys verify tokens now.
    public var keyCount: Int { verifier.keys.count }
}

extension JWTKeyRing {
    /// A ring whose fixed keys and checks are those of `verifier`.
    public convenience init(verifier: JWTVerifier) {
        self.init(fixedKeys: verifier.keys, configuration: verifier.configuration, clock: verifier.clock)
    }
}
