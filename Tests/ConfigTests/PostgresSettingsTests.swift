import Testing

@testable import Config

@Suite("PostgresSettings")
struct PostgresSettingsTests {
    private static let production = [
        "PORTAL_ENV": "production", "JWT_SECRET": "0123456789abcdef0123456789abcdef-strong",
        "AUDIT_HMAC_KEY": "audit-chain-key-0123456789abcdef-strong", "AUDIT_SIGNING_KEY_FILE": "/keys/audit.pem",
        "CREDENTIAL_HMAC_KEY": "credential-key-0123456789abcdef-strong",
    ]

    private func load(_ variables: [String: String]) throws -> PortalSettings {
        try PortalSettings.load(from: Environment(variables: variables, readFile: { _ in nil }))
    }

    @Test("the pool, timeout, sslmode and CA come from their variables; sslmode defaults to prefer")
    func reads() throws {
        let defaults = try #require(try load(["POSTGRES_HOST": "db"]).postgres)
        #expect(defaults.poolSize == 4 && defaults.timeoutSeconds == 5 && defaults.sslMode == .prefer)
        let set = try #require(
            try load([
                "POSTGRES_HOST": "/var/run/postgresql", "POSTGRES_POOL_SIZE": "12", "POSTGRES_TIMEOUT_SECONDS": "0.5",
                "POSTGRES_SSLMODE": "verify-full", "POSTGRES_SSLROOTCERT": "/etc/ssl/db-ca.pem",
            ]).postgres)
        #expect(set.host == "/var/run/postgresql" && set.poolSize == 12 && set.timeoutSeconds == 0.5)
        #expect(set.sslMode == .verifyFull && set.sslRootCertificatePath == "/etc/ssl/db-ca.pem")
        let fromURL = try #require(try load(["DATABASE_URL": "postgresql://u:p@db/portal?sslmode=require"]).postgres)
        #expect(fromURL.sslMode == .require && fromURL.sslModeSource == "DATABASE_URL")
    }

    @Test(
        "the gateway's own role: GATEWAY_POSTGRES_USER and its password; an example password is refused in production")
    func gatewayRole() throws {
        #expect(try load(["POSTGRES_HOST": "db"]).postgres?.gatewayUser == nil)
        let set = try #require(
            try load([
                "DATABASE_URL": "postgresql://l01_service@db/portal", "GATEWAY_POSTGRES_USER": "l09_service",
                "GATEWAY_POSTGRES_PASSWORD": "l09-password-of-the-gateway",
            ]).postgres)
        #expect(set.gatewayUser == "l09_service" && set.gatewayPassword?.text == "l09-password-of-the-gateway")
        #expect(throws: ConfigError.self) { try load(["POSTGRES_HOST": "db", "GATEWAY_POSTGRES_USER": ""]) }
        var production = Self.production
        production["DATABASE_URL"] = "postgresql://l01_service@db/portal?sslmode=verify-full"
        production["GATEWAY_POSTGRES_PASSWORD"] = "changeme"
        #expect { try load(production) } throws: { "\($0)".contains("GATEWAY_POSTGRES_PASSWORD") }
    }

    @Test(
        "production refuses every sslmode that may fall back to plain text, naming where it came from",
        arguments: [
            (["POSTGRES_HOST": "db"], "POSTGRES_SSLMODE: expected sslmode require, verify-ca or verify-full"),
            (["POSTGRES_HOST": "db", "POSTGRES_SSLMODE": "allow"], "POSTGRES_SSLMODE: expected sslmode require"),
            (["DATABASE_URL": "postgres://u:secret-pw@db/p?sslmode=disable"], "DATABASE_URL: expected sslmode require"),
            (["DATABASE_URL": "postgres://u:secret-pw@db/p"], "POSTGRES_SSLMODE: expected sslmode require"),
        ])
    func productionNeedsTLS(extra: [String: String], prefix: String) {
        #expect {
            try load(Self.production.merging(extra) { $1 })
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix(prefix) && !text.contains("secret-pw") && !text.contains("\n")
        }
    }

    @Test("production accepts require, verify-ca and verify-full", arguments: ["require", "verify-ca", "verify-full"])
    func productionAccepts(mode: String) throws {
        let viaURL = try load(Self.production.merging(["DATABASE_URL": "postgres://u@db/p?sslmode=\(mode)"]) { $1 })
        #expect(viaURL.postgres?.sslMode.rawValue == mode)
        let viaVariable = try load(Self.production.merging(["POSTGRES_HOST": "db", "POSTGRES_SSLMODE": mode]) { $1 })
        #expect(viaVariable.postgres?.sslMode.rawValue == mode)
    }

    @Test(
        "bad values stop loading with one line naming the variable, never quoting the URL",
        arguments: [
            (
                ["DATABASE_URL": "postgres://u:secret-pw@db/p?sslmode=sometimes"],
                "DATABASE_URL: expected sslmode one of"
            ),
            (
                ["DATABASE_URL": "postgres://u:secret-pw@db/p?sslmode=require", "POSTGRES_SSLMODE": "disable"],
                "POSTGRES_SSLMODE: expected the same sslmode as DATABASE_URL's (require)"
            ),
            (["POSTGRES_HOST": "db", "POSTGRES_POOL_SIZE": "0"], "POSTGRES_POOL_SIZE: expected an integer from 1"),
            (["POSTGRES_HOST": "db", "POSTGRES_TIMEOUT_SECONDS": "0"], "POSTGRES_TIMEOUT_SECONDS: expected"),
            (["POSTGRES_HOST": "db", "POSTGRES_SSLMODE": "on"], "POSTGRES_SSLMODE: expected one of disable, allow"),
            (["POSTGRES_HOST": "bad host"], "POSTGRES_HOST: expected a host name"),
        ])
    func badValues(variables: [String: String], prefix: String) {
        #expect {
            try load(variables)
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix(prefix) && !text.contains("secret-pw")
        }
    }
}
