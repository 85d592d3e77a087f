import Testing

@testable import Config

@Suite("Redis and limiter-backend settings")
struct RedisSettingsTests {
    private static let strongSecret = "0123456789abcdef0123456789abcdef-strong"

    private func load(_ variables: [String: String], files: [String: String] = [:]) throws -> PortalSettings {
        try PortalSettings.load(from: Environment(variables: variables, readFile: { files[$0] }))
    }

    @Test(
        "REDIS_URL forms: user, password, IPv6, port, database and TLS",
        arguments: [
            ("redis://127.0.0.1", RedisSettings(host: "127.0.0.1")),
            (
                "redis://:pw@redis:6380/2",
                RedisSettings(host: "redis", port: 6380, password: SecretValue("pw"), database: 2)
            ),
            (
                "rediss://limiter:p%40ss%3Aw0rd@cache.example:6390/0",
                RedisSettings(
                    host: "cache.example", port: 6390, username: "limiter", password: SecretValue("p@ss:w0rd"),
                    tls: true)
            ),
            ("redis://[::1]:6379", RedisSettings(host: "::1")),
            ("redis://u:a@b@h", RedisSettings(host: "h", username: "u", password: SecretValue("a@b"))),
            ("redis://h/", RedisSettings(host: "h")),
        ])
    func urlForms(url: String, expected: RedisSettings) throws {
        #expect(try load(["REDIS_URL": url]).redis == expected)
    }

    @Test(
        "a bad REDIS_URL is refused with one line that never quotes it",
        arguments: [
            "http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h:x", "redis://h/db",
            "redis://h/12345", "redis://h?ssl=1", "redis://:@h", "redis://u:%zz@h", "redis://[::1",
            "redis://:pa%0Ass@h", "redis://bad host",
        ])
    func badURLs(url: String) {
        #expect {
            try load(["REDIS_URL": url.replacingOccurrences(of: "pa", with: "secret-pa")])
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix("REDIS_URL: expected") && !text.contains("secret") && !text.contains("\n")
        }
    }

    @Test("the host form reads every part; REDIS_PASSWORD_FILE fills in a URL without a password")
    func hostForm() throws {
        let settings = try load(
            [
                "REDIS_HOST": "10.0.0.5", "REDIS_PORT": "6380", "REDIS_USERNAME": "limiter", "REDIS_DB": "4",
                "REDIS_TLS": "true", "REDIS_TLS_CA_PATH": "/ca.pem", "REDIS_PASSWORD_FILE": "/s/redis",
                "REDIS_CONNECT_TIMEOUT_SECONDS": "1.5", "REDIS_COMMAND_TIMEOUT_SECONDS": "0.25",
                "REDIS_KEY_PREFIX": "blue:",
            ], files: ["/s/redis": "from-file\n"])
        #expect(
            settings.redis
                == RedisSettings(
                    host: "10.0.0.5", port: 6380, username: "limiter", password: SecretValue("from-file"),
                    database: 4, tls: true, tlsCAPath: "/ca.pem", connectTimeoutSeconds: 1.5,
                    commandTimeoutSeconds: 0.25, keyPrefix: "blue:"))
        let fromURL = try load(["REDIS_URL": "redis://h", "REDIS_PASSWORD_FILE": "/s/redis"], files: ["/s/redis": "f"])
        #expect(fromURL.redis?.password == SecretValue("f"))
    }

    @Test(
        "conflicting or misplaced Redis settings are refused, naming the variable",
        arguments: [
            (["REDIS_URL": "redis://h", "REDIS_HOST": "h"], "REDIS_HOST: expected unset when REDIS_URL is set"),
            (["REDIS_URL": "redis://h", "REDIS_DB": "1"], "REDIS_DB: expected unset when REDIS_URL is set"),
            (["REDIS_URL": "redis://:a@h", "REDIS_PASSWORD": "b"], "REDIS_URL's password and REDIS_PASSWORD"),
            (["REDIS_HOST": "h", "REDIS_TLS_CA_PATH": "/ca.pem"], "REDIS_TLS_CA_PATH: expected set only with"),
            (["REDIS_HOST": "h", "REDIS_DB": "-1"], "REDIS_DB: expected an integer"),
            (["REDIS_HOST": "h", "REDIS_KEY_PREFIX": "a b"], "REDIS_KEY_PREFIX: expected"),
            (["REDIS_HOST": "h", "REDIS_COMMAND_TIMEOUT_SECONDS": "0"], "REDIS_COMMAND_TIMEOUT_SECONDS: expected"),
            (["REDIS_PORT": "0"], "REDIS_PORT: expected a port"),
            (["RATE_LIMIT_FAIL_MODE": "maybe"], "RATE_LIMIT_FAIL_MODE: expected one of open, closed, local"),
            (["RATE_LIMIT_INSTANCES": "0"], "RATE_LIMIT_INSTANCES: expected an integer from 1 to 1000"),
            (["RATE_LIMIT_CIRCUIT_FAILURES": "0"], "RATE_LIMIT_CIRCUIT_FAILURES: expected"),
            (["RATE_LIMIT_CIRCUIT_COOLDOWN_SECONDS": "0"], "RATE_LIMIT_CIRCUIT_COOLDOWN_SECONDS: expected"),
        ] as [([String: String], String)])
    func refused(variables: [String: String], message: String) {
        #expect {
            try load(variables)
        } throws: { error in
            String(describing: error).hasPrefix(message)
        }
    }

    @Test("production refuses Redis without a password, naming REDIS_PASSWORD; with one it loads")
    func productionNeedsPassword() throws {
        let base = [
            "PORTAL_ENV": "production", "JWT_SECRET": Self.strongSecret, "AUDIT_LOG_ENABLED": "false",
            "CREDENTIAL_HMAC_KEY": Self.strongSecret + "-credentials",
        ]
        for redis in [["REDIS_HOST": "r"], ["REDIS_URL": "rediss://r:6380"], ["REDIS_URL": "redis://user@r"]] {
            #expect {
                try load(base.merging(redis) { $1 })
            } throws: { error in
                String(describing: error).hasPrefix("REDIS_PASSWORD: is required with Redis")
            }
        }
        let withPassword = try load(base.merging(["REDIS_URL": "redis://:Xq9-long-random@r"]) { $1 })
        #expect(withPassword.redis?.password?.text == "Xq9-long-random")
    }

    @Test("the fail mode defaults to local with one instance, and reads all four settings")
    func backendSettings() throws {
        let defaults = try load([:]).rateLimitBackend
        #expect(defaults.failMode == .local && defaults.instances == 1)
        #expect(defaults.circuitFailures == 3 && defaults.circuitCooldownSeconds == 5)
        let set = try load([
            "RATE_LIMIT_FAIL_MODE": "CLOSED", "RATE_LIMIT_INSTANCES": "3", "RATE_LIMIT_CIRCUIT_FAILURES": "5",
            "RATE_LIMIT_CIRCUIT_COOLDOWN_SECONDS": "0.5",
        ]).rateLimitBackend
        #expect(set.failMode == .closed && set.instances == 3 && set.circuitFailures == 5)
        #expect(set.circuitCooldownSeconds == 0.5)
    }

    @Test("printing Redis settings never shows the password")
    func redacted() throws {
        let settings = try load(["REDIS_URL": "redis://u:hunter42@h"])
        var dumped = ""
        dump(settings.redis, to: &dumped)
        #expect(!("\(String(describing: settings.redis))" + dumped).contains("hunter42"))
    }
}
