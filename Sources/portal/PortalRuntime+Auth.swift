import Auth
import Config
import Foundation
import Gateway
import Limits
import PortalCore
import Telemetry

extension PortalRuntime {
    /// The gateway's authentication: keys from `JWT_SECRET` (or the development secret), `JWKS_FILE` and
    /// `JWKS_URL`, with `JWT_ISSUER`, `JWT_AUDIENCE` and `JWT_LEEWAY`, and the access policy of `PORTAL_CONFIG`.
    static func makeAuthentication(
        settings: PortalSettings, registry: MetricsRegistry, logger: Logger, clock: any PortalClock
    ) throws -> GatewayAuthentication {
        let auth = settings.auth
        var keys: [JWTVerifier.Key] = []
        let secret = try SigningSecret.resolve(settings)
        keys.append(try JWTVerifier.Key.hmac(secret: secret, kid: JWTSigner.keyID(forSecret: secret)))
        if let path = auth.jwksFile { keys += try jwksFileKeys(path, logger: logger) }
        let configuration = JWTVerifier.Configuration(
            issuer: auth.jwtIssuer, audience: auth.jwtAudience, leewaySeconds: Int64(auth.jwtLeewaySeconds))
        let ring = JWTKeyRing(fixedKeys: keys, configuration: configuration, clock: clock)

        var refresher: JWKSRefresher?
        if let url = auth.jwksURL {
            let jwks = JWKSRefresher(
                configuration: JWKSRefresher.Configuration(
                    url: url, caPath: auth.jwksCAPath, refreshSeconds: auth.jwksRefreshSeconds,
                    minimumIntervalSeconds: auth.jwksMinRefreshSeconds, timeoutSeconds: auth.jwksTimeoutSeconds),
                ring: ring, clock: clock, logger: logger, registry: registry)
            // The first fetch happens before any listener opens; a failure is logged and retried, not fatal.
            jwks.start()
            refresher = jwks
        }
        let credentials = try makeCredentialCache(settings: settings, registry: registry, logger: logger, clock: clock)
        return GatewayAuthentication(keyRing: ring, jwks: refresher, policy: settings.access, credentials: credentials)
    }

    /// The credential store in memory for requests: API keys and revocations, refreshed in the background.
    /// Production refuses to start while an enabled user has a weak or default password.
    static func makeCredentialCache(
        settings: PortalSettings, registry: MetricsRegistry, logger: Logger, clock: any PortalClock
    ) throws -> CredentialCache {
        let store = try CredentialSetup.store(settings)
        if settings.portalEnvironment == .production { try CredentialSetup.refuseWeakUsers(store) }
        let revocations = InMemoryRevocationList(clock: clock)
        registry.gauge("revoked_tokens", help: "Revoked token ids held until their tokens expire.") {
            Double(revocations.count)
        }
        let cache = CredentialCache(
            store: store, hasher: try CredentialSetup.hasher(settings), revocations: revocations,
            workers: BlockingWorkers(name: "portal-auth"), clock: clock,
            refreshSeconds: settings.auth.credentialCacheRefreshSeconds, logger: logger, registry: registry)
        do {
            try cache.start()
        } catch {
            throw StartError(description: "PORTAL_DATA_DIR: cannot read the credential store: \(error)")
        }
        return cache
    }

    /// The usable keys of a JWKS file; a file without one stops start-up, skipped keys are logged.
    static func jwksFileKeys(_ path: String, logger: Logger) throws -> [JWTVerifier.Key] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StartError(description: "JWKS_FILE: cannot read \(path)")
        }
        let set: JWKSet
        do {
            set = try JWKSet(json: Array(data))
        } catch {
            throw StartError(description: "JWKS_FILE: \(path) is not a JWKS document ({\"keys\": [...]})")
        }
        guard !set.keys.isEmpty else {
            let reasons = set.skipped.map { "key \($0.index): \($0.reason)" }.joined(separator: "; ")
            throw StartError(description: "JWKS_FILE: \(path) holds no usable key (\(reasons))")
        }
        for skipped in set.skipped {
            logger.warning("jwks.key_skipped", ["jwks.index": .int(skipped.index), "reason": .string(skipped.reason)])
        }
        return set.keys
    }
}
