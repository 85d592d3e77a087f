import Foundation
import Testing

@testable import Config

@Suite("AuthSettings and production credential checks")
struct AuthSettingsTests {
    static let strong = "0123456789abcdef0123456789abcdef-strong"

    private func load(_ variables: [String: String], files: [String: String] = [:]) throws -> PortalSettings {
        let environment = Environment(variables: variables, readFile: { files[$0] })
        return try PortalSettings.load(from: environment, readConfigFile: { files[$0].map { Data($0.utf8) } })
    }

    @Test("defaults: no JWKS, no issuer or audience, 60 s leeway, HS256, 14-day refresh, brute force 10 in 300 s")
    func defaults() throws {
        let auth = try load([:]).auth
        #expect(auth.jwksFile == nil && auth.jwksURL == nil && auth.jwtIssuer == nil && auth.jwtAudience == nil)
        #expect(auth.jwtLeewaySeconds == 60 && auth.signingAlgorithm == .hs256 && auth.signingKeyFile == nil)
        #expect(auth.jwksRefreshSeconds == 300 && auth.jwksMinRefreshSeconds == 30 && auth.jwksTimeoutSeconds == 5)
        #expect(auth.refreshTokenExpirationSeconds == 1_209_600 && auth.credentialHMACKey == nil)
        #expect(auth.bruteForceMaxFailures == 10 && auth.bruteForceWindowSeconds == 300)
        #expect(auth.bruteForceBanSeconds == 900 && auth.bruteForceMaxBanSeconds == 86_400)
        #expect(auth.apiKeyRotationGraceSeconds == 86_400 && auth.credentialCacheRefreshSeconds == 1)
        #expect(auth.credentialPurgeIntervalSeconds == 3600)
    }

    @Test("every variable is read")
    func readsEverything() throws {
        let auth = try load(
            [
                "JWKS_FILE": "/etc/jwks.json", "JWKS_URL": "https://idp.example/.well-known/jwks.json",
                "JWKS_CA_PATH": "/etc/ca.pem", "JWKS_REFRESH_SECONDS": "60", "JWKS_MIN_REFRESH_SECONDS": "5",
                "JWKS_TIMEOUT_SECONDS": "1.5", "JWT_ISSUER": "https://idp.example", "JWT_AUDIENCE": "portal",
                "JWT_LEEWAY": "0", "JWT_SIGNING_ALGORITHM": "es256", "JWT_SIGNING_KEY_FILE": "/etc/es256.pem",
                "REFRESH_TOKEN_EXPIRATION": "3600", "CREDENTIAL_HMAC_KEY_FILE": "/s/cred",
                "CREDENTIAL_CACHE_REFRESH_SECONDS": "0.5", "API_KEY_ROTATION_GRACE_SECONDS": "600",
                "CREDENTIAL_PURGE_INTERVAL_SECONDS": "60",
                "BRUTE_FORCE_MAX_FAILURES": "30", "BRUTE_FORCE_WINDOW_SECONDS": "60", "BRUTE_FORCE_BAN_SECONDS": "10",
                "BRUTE_FORCE_MAX_BAN_SECONDS": "40", "L01_IDENTITY_KEY": Self.strong + "-l01",
            ],
            files: ["/s/cred": Self.strong + "\n"]
        ).auth
        #expect(auth.jwksFile == "/etc/jwks.json" && auth.jwksURL == "https://idp.example/.well-known/jwks.json")
        #expect(auth.jwksCAPath == "/etc/ca.pem" && auth.jwksRefreshSeconds == 60)
        #expect(auth.jwksMinRefreshSeconds == 5 && auth.jwksTimeoutSeconds == 1.5)
        #expect(auth.jwtIssuer == "https://idp.example" && auth.jwtAudience == "portal")
        #expect(auth.jwtLeewaySeconds == 0 && auth.signingAlgorithm == .es256)
        #expect(auth.signingKeyFile == "/etc/es256.pem")
        #expect(auth.refreshTokenExpirationSeconds == 3600 && auth.credentialHMACKey?.text == Self.strong)
        #expect(auth.credentialCacheRefreshSeconds == 0.5 && auth.apiKeyRotationGraceSeconds == 600)
        #expect(auth.credentialPurgeIntervalSeconds == 60)
        #expect(auth.bruteForceMaxFailures == 30 && auth.bruteForceWindowSeconds == 60)
        #expect(auth.bruteForceBanSeconds == 10 && auth.bruteForceMaxBanSeconds == 40)
        #expect(auth.l01IdentityKey?.text == Self.strong + "-l01")
    }

    @Test(
        "a bad value stops loading with one line naming the variable",
        arguments: [
            (["JWKS_URL": "ftp://idp/jwks"], "JWKS_URL: expected an http:// or https:// URL"),
            (["JWKS_URL": "https://user:pw@idp/jwks"], "JWKS_URL: expected an http:// or https:// URL"),
            (["JWT_LEEWAY": "3601"], "JWT_LEEWAY: expected an integer from 0 to 3600"),
            (["JWT_ISSUER": "has space"], "JWT_ISSUER: expected 1 to 256 visible characters"),
            (["JWT_SIGNING_ALGORITHM": "none"], "JWT_SIGNING_ALGORITHM: expected one of HS256, ES256"),
            (["JWT_SIGNING_ALGORITHM": "ES256"], "JWT_SIGNING_KEY_FILE: is required"),
            (["CREDENTIAL_HMAC_KEY": "short"], "CREDENTIAL_HMAC_KEY: expected at least 32 bytes"),
            (["L01_IDENTITY_KEY": "short"], "L01_IDENTITY_KEY: expected at least 32 bytes"),
            (["BRUTE_FORCE_MAX_FAILURES": "0"], "BRUTE_FORCE_MAX_FAILURES: expected an integer from 1"),
            (["BRUTE_FORCE_MAX_BAN_SECONDS": "60", "BRUTE_FORCE_BAN_SECONDS": "61"], "BRUTE_FORCE_BAN_SECONDS: "),
            (["JWKS_TIMEOUT_SECONDS": "0"], "JWKS_TIMEOUT_SECONDS: expected a duration"),
            (["CREDENTIAL_PURGE_INTERVAL_SECONDS": "59"], "CREDENTIAL_PURGE_INTERVAL_SECONDS: expected an integer"),
            (["CREDENTIAL_PURGE_INTERVAL_SECONDS": "604801"], "CREDENTIAL_PURGE_INTERVAL_SECONDS: expected an integer"),
            (["CREDENTIAL_PURGE_INTERVAL_SECONDS": "1.5"], "CREDENTIAL_PURGE_INTERVAL_SECONDS: expected an integer"),
        ] as [([String: String], String)])
    func badValue(variables: [String: String], prefix: String) {
        #expect {
            try load(variables)
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix(prefix) && !text.contains("short") && !text.contains("\n")
        }
    }

    @Test(
        "production refuses every weak credential setting with one line naming it",
        arguments: [
            ([:], "CREDENTIAL_HMAC_KEY: is required"),
            (["L01_API_KEYS": "too-short-key"], "L01_API_KEYS: must be at least 32 bytes"),
            (["GATEWAY_L01_API_KEY": "secure_password"], "GATEWAY_L01_API_KEY: is a known example value"),
            (["JWT_SECRET": "admin"], "JWT_SECRET: is a known example value"),
            (["JWT_SECRET": String(repeating: "k", count: 31)], "JWT_SECRET: must be at least 32 bytes"),
        ] as [([String: String], String)])
    func productionRefuses(overrides: [String: String], prefix: String) {
        var variables = ["PORTAL_ENV": "production", "JWT_SECRET": Self.strong, "AUDIT_LOG_ENABLED": "false"]
        if prefix.hasPrefix("CREDENTIAL") == false { variables["CREDENTIAL_HMAC_KEY"] = Self.strong + "-c" }
        variables.merge(overrides) { $1 }
        #expect {
            try load(variables)
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix(prefix) && text.hasSuffix("(PORTAL_ENV=production)")
        }
    }

    @Test("production with ES256 signing needs no JWT_SECRET; with HS256 it does")
    func productionSigning() throws {
        let base = [
            "PORTAL_ENV": "production", "AUDIT_LOG_ENABLED": "false", "CREDENTIAL_HMAC_KEY": Self.strong,
        ]
        let es256 = try load(base.merging(["JWT_SIGNING_ALGORITHM": "ES256", "JWT_SIGNING_KEY_FILE": "/k.pem"]) { $1 })
        #expect(es256.jwtSecret == nil && es256.auth.signingAlgorithm == .es256)
        #expect(throws: ConfigError.self) { try load(base) }
    }
}
