import Testing

@testable import Config

@Suite("Environment typed accessors")
struct AccessorTests {
    private func env(_ name: String, _ value: String) -> Environment {
        Environment(variables: [name: value], readFile: { _ in nil })
    }

    @Test("int accepts plain decimals in range", arguments: [("0", 0), ("20", 20), ("1000000", 1_000_000)])
    func intAccepts(text: String, expected: Int) throws {
        #expect(try env("RATE_LIMIT_BURST", text).int("RATE_LIMIT_BURST", default: 5, range: 0...1_000_000) == expected)
    }

    @Test(
        "int refuses hostile values with one line naming the variable and range",
        arguments: [
            "abc", "", " 1", "1 ", "+1", "-1", "1000001", "0x10", "1e3", "1_000", "１２", "99999999999999999999999",
            "1\n2", "١",
        ])
    func intRefuses(text: String) {
        #expect {
            try env("RATE_LIMIT_BURST", text).int("RATE_LIMIT_BURST", default: 5, range: 0...1_000_000)
        } throws: { error in
            let description = String(describing: error)
            return description.hasPrefix("RATE_LIMIT_BURST: expected an integer from 0 to 1000000, got \"")
                && !description.contains("\n")
        }
    }

    @Test("int quotes the bad value exactly as the contract shows")
    func intMessage() {
        #expect {
            try env("RATE_LIMIT_BURST", "abc").int("RATE_LIMIT_BURST", default: 5, range: 0...1_000_000)
        } throws: { error in
            String(describing: error) == #"RATE_LIMIT_BURST: expected an integer from 0 to 1000000, got "abc""#
        }
    }

    @Test("unset values give the default")
    func defaults() throws {
        let empty = Environment(variables: [:])
        #expect(try empty.int("X", default: 7, range: 0...10) == 7)
        #expect(try empty.bool("X", default: true))
        #expect(try empty.port("X", default: 8009) == 8009)
        #expect(try empty.host("X", default: "0.0.0.0") == "0.0.0.0")
        #expect(try empty.durationSeconds("X", default: 30, range: 0...60) == 30)
        #expect(try empty.enumeration("X", default: LogLevel.info) == .info)
        #expect(try empty.cidrList("X").isEmpty)
        #expect(try empty.secret("X_SECRET") == nil)
        #expect(try empty.secretList("X_KEYS").isEmpty)
    }

    @Test(
        "bool accepts true/false/1/0/yes/no in any case",
        arguments: [
            ("true", true), ("TRUE", true), ("Yes", true), ("1", true), ("false", false), ("No", false),
            ("0", false), ("FaLsE", false),
        ])
    func boolAccepts(text: String, expected: Bool) throws {
        #expect(try env("TLS_ENABLED", text).bool("TLS_ENABLED", default: !expected) == expected)
    }

    @Test("bool refuses anything else", arguments: ["", "on", "off", "y", "2", "true ", "enabled", "t"])
    func boolRefuses(text: String) {
        #expect(throws: ConfigError.self) { try env("TLS_ENABLED", text).bool("TLS_ENABLED", default: false) }
    }

    @Test("port accepts 1 to 65535", arguments: [("1", 1), ("8009", 8009), ("65535", 65535)])
    func portAccepts(text: String, expected: Int) throws {
        #expect(try env("GATEWAY_PORT", text).port("GATEWAY_PORT", default: 1) == expected)
    }

    @Test("port refuses hostile values", arguments: ["0", "65536", "-1", "", "80a", "08009x", " 80", "999999", "+80"])
    func portRefuses(text: String) {
        #expect(throws: ConfigError.self) { try env("GATEWAY_PORT", text).port("GATEWAY_PORT", default: 1) }
    }

    @Test("port 0 only where allowed")
    func portZero() throws {
        #expect(try env("GATEWAY_PORT", "0").port("GATEWAY_PORT", default: 1, allowsZero: true) == 0)
    }

    @Test(
        "host accepts names and IP literals",
        arguments: ["localhost", "0.0.0.0", "127.0.0.1", "::", "::1", "db.internal", "a-b.example.com", "2001:db8::1"])
    func hostAccepts(text: String) throws {
        #expect(try env("ADMIN_HOST", text).host("ADMIN_HOST", default: "x") == text)
    }

    @Test(
        "host refuses hostile values",
        arguments: [
            "", "-bad", "bad-", "a..b", "http://x", "[::1]", "host:80", "a b", "999.1.1.1", "x\n", "évil.com",
            String(repeating: "a", count: 64), "a/b", "1.2.3",
        ])
    func hostRefuses(text: String) {
        #expect(throws: ConfigError.self) { try env("ADMIN_HOST", text).host("ADMIN_HOST", default: "x") }
    }

    @Test("duration accepts seconds with fractions", arguments: [("30", 30.0), ("0.25", 0.25), ("3600", 3600.0)])
    func durationAccepts(text: String, expected: Double) throws {
        let value = try env("T", text).durationSeconds("T", default: 1, range: 0.001...3600)
        #expect(value == expected)
    }

    @Test(
        "duration refuses hostile values",
        arguments: ["", "-1", "1e3", "inf", "nan", "30s", ".5", "5.", "3601", "0", "1.2.3", "0x10", " 1"])
    func durationRefuses(text: String) {
        #expect {
            try env("UPSTREAM_TIMEOUT_SECONDS", text).durationSeconds(
                "UPSTREAM_TIMEOUT_SECONDS", default: 1, range: 0.001...3600)
        } throws: { error in
            String(describing: error).hasPrefix("UPSTREAM_TIMEOUT_SECONDS: expected a duration in seconds from")
        }
    }

    @Test("enums accept their names in any case")
    func enumsAccept() throws {
        #expect(try env("LOG_LEVEL", "DEBUG").enumeration("LOG_LEVEL", default: LogLevel.info) == .debug)
        #expect(try env("LOG_FORMAT", "text").enumeration("LOG_FORMAT", default: LogFormat.json) == .text)
        #expect(
            try env("PORTAL_ENV", "Production").enumeration("PORTAL_ENV", default: PortalEnvironment.development)
                == .production)
        #expect(
            try env("AUDIT_LOG_LEVEL", "warning").enumeration("AUDIT_LOG_LEVEL", default: AuditLogLevel.info)
                == .warning)
    }

    @Test("enums refuse other words and list what they accept", arguments: ["", "verbose", "inf", "prod", "json "])
    func enumsRefuse(text: String) {
        #expect {
            try env("LOG_LEVEL", text).enumeration("LOG_LEVEL", default: LogLevel.info)
        } throws: { error in
            String(describing: error).hasPrefix(
                "LOG_LEVEL: expected one of trace, debug, info, notice, warning, error, critical, got")
        }
    }

    @Test("secret errors never show the value", arguments: ["JWT_SECRET", "REDIS_PASSWORD", "X_KEY", "L01_API_KEYS"])
    func secretErrorsHideValue(name: String) {
        #expect {
            try env(name, "hunter2-not-a-number").int(name, default: 1, range: 0...10)
        } throws: { error in
            let description = String(describing: error)
            return description.hasPrefix(name + ": expected") && !description.contains("hunter2")
        }
    }

    @Test("an empty secret is refused and a secret never prints")
    func secretHandling() throws {
        #expect(throws: ConfigError.self) { try env("JWT_SECRET", "").secret("JWT_SECRET") }
        let secret = try #require(try env("JWT_SECRET", "hunter2").secret("JWT_SECRET"))
        #expect(secret.text == "hunter2")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }

    @Test("a secret list splits on commas and skips blanks")
    func secretList() throws {
        let keys = try env("L01_API_KEYS", " k1, k2 ,,k3 ").secretList("L01_API_KEYS")
        #expect(keys.map(\.text) == ["k1", "k2", "k3"])
        #expect(throws: ConfigError.self) { try env("L01_API_KEYS", " , ").secretList("L01_API_KEYS") }
    }

    @Test("a long bad value is quoted bounded and escaped on one line")
    func boundedQuote() {
        let hostile = String(repeating: "x", count: 500) + "\n\u{1B}[31m"
        #expect {
            try env("LOG_FORMAT", hostile).enumeration("LOG_FORMAT", default: LogFormat.json)
        } throws: { error in
            let description = String(describing: error)
            return description.count < 200 && !description.contains("\n") && !description.contains("\u{1B}")
        }
    }
}
