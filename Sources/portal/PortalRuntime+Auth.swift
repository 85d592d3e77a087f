import Auth
import Config
import Foundation
import Gateway
import Limits
import PortalCore
import Store
import Telemetry

extension PortalRuntime {
    /// The gateway's authentication: keys from `JWT_SECRET` (or the development secret), `JWKS_FILE` and
    /// `JWKS_URL`, with `JWT_ISSUER`, `JWT_AUDIENCE` and `JWT_LEEWAY`, and the access policy of `PORTAL_CONFIG`;
    /// bans, revocations and (with Redis) failure counts in `shared`.
    static func makeAuthentication(
        settings: PortalSettings, shared: SharedState, registry: MetricsRegistry, logger: Logger, clock: any PortalClock
    ) throws -> GatewayAuthentication {
        let auth = settings.auth
        var keys: [JWTVerifier.Key] = []
        let signer = try makeSigner(settings)
        keys.append(try signer.verificationKey())
        // With ES256 signing, JWT_SECRET (or the development secret) still verifies HS256 tokens, such as those
        // of `portal token issue`.
        if signer.algorithm != .hs256, settings.jwtSecret != nil || settings.portalEnvironment == .development {
            let secret = try SigningSecret.resolve(settings)
            keys.append(try JWTVerifier.Key.hmac(secret: secret, kid: JWTSigner.keyID(forSecret: secret)))
        }
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
        let credentials = try makeCredentialCache(
            settings: settings, revocations: shared.revocations, registry: registry, logger: logger, clock: clock)
        let tokens = TokenIssuer(
            signer: signer, issuer: auth.jwtIssuer, audience: auth.jwtAudience,
            accessLifetimeSeconds: settings.jwtExpirationSeconds,
            refreshLifetimeSeconds: auth.refreshTokenExpirationSeconds, clock: clock)
        let bruteForce = BruteForceGuard(
            bans: shared.bans, tracker: InMemoryAuthFailureTracker(policy: bruteForcePolicy(settings)),
            shared: shared.failures, clock: clock, registry: registry)
        return GatewayAuthentication(
            keyRing: ring, jwks: refresher, policy: settings.access, credentials: credentials, tokens: tokens,
            bruteForce: bruteForce)
    }

    /// The brute-force limits of `BRUTE_FORCE_*`, the same for this gateway's count and the shared one.
    static func bruteForcePolicy(_ settings: PortalSettings) -> BruteForcePolicy {
        let auth = settings.auth
        return BruteForcePolicy(
            maxFailures: auth.bruteForceMaxFailures, windowSeconds: auth.bruteForceWindowSeconds,
            baseBanSeconds: auth.bruteForceBanSeconds, maxBanSeconds: auth.bruteForceMaxBanSeconds)
    }

    /// The signer of issued tokens: HS256 under `JWT_SECRET` (or the development secret), or ES256 under the PEM
    /// P-256 key of `JWT_SIGNING_KEY_FILE`; the `kid` is derived from the key.
    static func makeSigner(_ settings: PortalSettings) throws -> JWTSigner {
        switch settings.auth.signingAlgorithm {
        case .hs256:
            let secret = try SigningSecret.resolve(settings)
            return try JWTSigner.hs256(secret: secret, kid: JWTSigner.keyID(forSecret: secret))
        case .es256:
            let path = settings.auth.signingKeyFile ?? ""
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StartError(description: "JWT_SIGNING_KEY_FILE: cannot read \(path)", badSetting: true)
            }
            let pem = String(decoding: data, as: UTF8.self)
            do {
                return try JWTSigner.es256(privateKeyPEM: pem, kid: JWTSigner.keyID(forPrivateKeyPEM: pem))
            } catch {
                throw StartError(
                    description: "JWT_SIGNING_KEY_FILE: \(path) is not an unencrypted PEM P-256 key", badSetting: true)
            }
        }
    }

    /// The credential store in memory for requests: API keys and revocations, refreshed in the background.
    /// The store is PostgreSQL when it is configured, so that every gateway on the database shares users, keys
    /// and logins; else the data directory's SQLite file.
    /// Production refuses to start while an enabled user has a weak or default password.
    static func makeCredentialCache(
        settings: PortalSettings, revocations: SharedRevocations, registry: MetricsRegistry, logger: Logger,
        clock: any PortalClock
    ) throws -> CredentialCache {
        let store = try CredentialSetup.store(settings, gateway: true)
        if settings.portalEnvironment == .production {
            do {
                try CredentialSetup.refuseWeakUsers(store)
            } catch let error as StoreError {
                throw StartError(description: CredentialSetup.readFailure(settings, error))
            }
        }
        let cache = CredentialCache(
            store: store, hasher: try CredentialSetup.hasher(settings), revocations: revocations,
            workers: BlockingWorkers(name: "portal-auth"),
            passwordChecks: PasswordHashPool(
                threadCount: settings.auth.passwordHashThreads, maxPending: settings.auth.passwordHashQueue,
                maxSuspectPending: settings.auth.passwordHashQueue,
                maxPerAddress: settings.auth.passwordHashPerAddress),
            clock: clock,
            refreshSeconds: settings.auth.credentialCacheRefreshSeconds, logger: logger, registry: registry)
        do {
            try cache.start()
        } catch {
            throw StartError(description: CredentialSetup.readFailure(settings, error))
        }
        return cache
    }

    /// The usable keys of a JWKS file; a file without one stops start-up, skipped keys are logged.
    static func jwksFileKeys(_ path: String, logger: Logger) throws -> [JWTVerifier.Key] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StartError(description: "JWKS_FILE: cannot read \(path)", badSetting: true)
        }
        let set: JWKSet
        do {
            set = try JWKSet(json: Array(data))
        } catch {
            throw StartError(
                description: "JWKS_FILE: \(path) is not a JWKS document ({\"keys\": [...]})", badSetting: true)
        }
        guard !set.keys.isEmpty else {
            let reasons = set.skipped.map { "key \($0.index): \($0.reason)" }.joined(separator: "; ")
            throw StartError(description: "JWKS_FILE: \(path) holds no usable key (\(reasons))", badSetting: true)
        }
        for skipped in set.skipped {
            logger.warning("jwks.key_skipped", ["jwks.index": .int(skipped.index), "reason": .string(skipped.reason)])
        }
        return set.keys
    }
}
