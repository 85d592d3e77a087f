/// Reading `AuthSettings` from an `Environment`.
extension AuthSettings {
    /// Reads and checks the authentication settings.
    ///
    /// Variables: `JWKS_FILE`, `JWKS_URL`, `JWKS_CA_PATH`, `JWKS_REFRESH_SECONDS` (10–86400),
    /// `JWKS_MIN_REFRESH_SECONDS` (1–3600), `JWKS_TIMEOUT_SECONDS` (0.1–60), `JWT_ISSUER`, `JWT_AUDIENCE`,
    /// `JWT_LEEWAY` (0–3600), `JWT_SIGNING_ALGORITHM` (`HS256`, `ES256`), `JWT_SIGNING_KEY_FILE`,
    /// `REFRESH_TOKEN_EXPIRATION` (60–31536000), `CREDENTIAL_HMAC_KEY(_FILE)`, `CREDENTIAL_CACHE_REFRESH_SECONDS`
    /// (0.05–300), `CREDENTIAL_PURGE_INTERVAL_SECONDS` (60–604800), `PASSWORD_HASH_THREADS` (1–64),
    /// `PASSWORD_HASH_QUEUE` (1–10000), `PASSWORD_HASH_PER_ADDRESS` (1–100), `API_KEY_ROTATION_GRACE_SECONDS`
    /// (0–31536000), `BRUTE_FORCE_MAX_FAILURES` (1–100000),
    /// `BRUTE_FORCE_WINDOW_SECONDS` (1–86400), `BRUTE_FORCE_BAN_SECONDS` (1–86400 and at most the maximum),
    /// `BRUTE_FORCE_MAX_BAN_SECONDS` (1–31536000), `L01_IDENTITY_KEY(_FILE)`.
    /// - Throws: `ConfigError` naming the variable.
    public static func load(from env: Environment) throws(ConfigError) -> AuthSettings {
        var settings = AuthSettings()
        settings.jwksFile = try path(env, "JWKS_FILE")
        settings.jwksURL = try env.string("JWKS_URL")
        if let url = settings.jwksURL, !isFetchableURL(url) {
            throw .invalidValue("JWKS_URL", expected: "an http:// or https:// URL without user info", got: url)
        }
        settings.jwksCAPath = try path(env, "JWKS_CA_PATH")
        settings.jwksRefreshSeconds = try env.int("JWKS_REFRESH_SECONDS", default: 300, range: 10...86_400)
        settings.jwksMinRefreshSeconds = try env.int("JWKS_MIN_REFRESH_SECONDS", default: 30, range: 1...3600)
        settings.jwksTimeoutSeconds = try env.durationSeconds("JWKS_TIMEOUT_SECONDS", default: 5, range: 0.1...60)

        settings.jwtIssuer = try claimText(env, "JWT_ISSUER")
        settings.jwtAudience = try claimText(env, "JWT_AUDIENCE")
        settings.jwtLeewaySeconds = try env.int("JWT_LEEWAY", default: 60, range: 0...3600)
        settings.signingAlgorithm = try env.enumeration("JWT_SIGNING_ALGORITHM", default: SigningAlgorithm.hs256)
        settings.signingKeyFile = try path(env, "JWT_SIGNING_KEY_FILE")
        if settings.signingAlgorithm == .es256 && settings.signingKeyFile == nil {
            throw .missing("JWT_SIGNING_KEY_FILE", expected: "a PEM P-256 private key when JWT_SIGNING_ALGORITHM=ES256")
        }
        settings.refreshTokenExpirationSeconds = try env.int(
            "REFRESH_TOKEN_EXPIRATION", default: 1_209_600, range: 60...31_536_000)

        settings.credentialHMACKey = try env.secret("CREDENTIAL_HMAC_KEY")
        try requireLength(settings.credentialHMACKey, "CREDENTIAL_HMAC_KEY")
        settings.credentialCacheRefreshSeconds = try env.durationSeconds(
            "CREDENTIAL_CACHE_REFRESH_SECONDS", default: 1, range: 0.05...300)
        settings.credentialPurgeIntervalSeconds = try env.int(
            "CREDENTIAL_PURGE_INTERVAL_SECONDS", default: 3600, range: 60...604_800)
        settings.passwordHashThreads = try env.int("PASSWORD_HASH_THREADS", default: 2, range: 1...64)
        settings.passwordHashQueue = try env.int("PASSWORD_HASH_QUEUE", default: 8, range: 1...10_000)
        settings.passwordHashPerAddress = try env.int("PASSWORD_HASH_PER_ADDRESS", default: 1, range: 1...100)
        settings.apiKeyRotationGraceSeconds = try env.int(
            "API_KEY_ROTATION_GRACE_SECONDS", default: 86_400, range: 0...31_536_000)

        settings.bruteForceMaxFailures = try env.int("BRUTE_FORCE_MAX_FAILURES", default: 10, range: 1...100_000)
        settings.bruteForceWindowSeconds = try env.int("BRUTE_FORCE_WINDOW_SECONDS", default: 300, range: 1...86_400)
        settings.bruteForceMaxBanSeconds = try env.int(
            "BRUTE_FORCE_MAX_BAN_SECONDS", default: 86_400, range: 1...31_536_000)
        settings.bruteForceBanSeconds = try env.int(
            "BRUTE_FORCE_BAN_SECONDS", default: min(900, settings.bruteForceMaxBanSeconds),
            range: 1...min(86_400, settings.bruteForceMaxBanSeconds))

        settings.l01IdentityKey = try env.secret("L01_IDENTITY_KEY")
        try requireLength(settings.l01IdentityKey, "L01_IDENTITY_KEY")
        return settings
    }

    /// Production demands: the credential key set (a generated one beside the store protects it from nobody who
    /// can read the store), and, with HS256 signing, `JWT_SECRET` (checked by `PortalSettings`).
    /// - Throws: `ConfigError` naming the variable.
    public func requireProductionKeys() throws(ConfigError) {
        guard credentialHMACKey != nil else {
            throw .weakSecret("CREDENTIAL_HMAC_KEY", reason: "is required: set CREDENTIAL_HMAC_KEY or its _FILE")
        }
    }

    /// Whether `text` is an `http://` or `https://` URL with a host and without user info or whitespace.
    static func isFetchableURL(_ text: String) -> Bool {
        let rest: Substring
        if text.hasPrefix("https://") {
            rest = text.dropFirst(8)
        } else if text.hasPrefix("http://") {
            rest = text.dropFirst(7)
        } else {
            return false
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return !authority.isEmpty && !authority.contains("@") && !text.contains("#")
            && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    private static func path(_ env: Environment, _ name: String) throws(ConfigError) -> String? {
        guard let text = try env.string(name) else { return nil }
        guard !text.isEmpty, !text.contains("\0") else {
            throw ConfigError.invalidValue(name, expected: "a non-empty file path", got: text)
        }
        return text
    }

    /// An `iss` or `aud` value: 1 to 256 visible characters.
    private static func claimText(_ env: Environment, _ name: String) throws(ConfigError) -> String? {
        guard let text = try env.string(name) else { return nil }
        guard (1...256).contains(text.utf8.count), text.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw ConfigError.invalidValue(name, expected: "1 to 256 visible characters without spaces", got: text)
        }
        return text
    }

    private static func requireLength(_ secret: SecretValue?, _ name: String) throws(ConfigError) {
        if let secret, secret.byteCount < minimumSecretBytes {
            throw ConfigError.invalidValue(name, expected: "at least \(minimumSecretBytes) bytes", got: "")
        }
    }
}
