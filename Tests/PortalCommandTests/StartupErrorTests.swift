import Foundation
import Testing

@Suite("portal start-up errors and help")
struct StartupErrorTests {
    @Test("help texts exit 0 and unknown commands exit 2 with one line")
    func help() throws {
        let dir = try PortalProcess.temporaryDirectory()
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let top = try PortalProcess.run(["--help"], environment: env, in: dir)
        #expect(top.status == 0)
        #expect(top.stdout.contains("serve") && top.stdout.contains("token issue"))
        for command in ["audit verify", "audit tail", "audit search", "backup", "erase", "db init"] {
            #expect(top.stdout.contains("\n  \(command) "), "portal --help omits \(command)")
        }
        #expect(top.stdout.contains("\n  master-key rotate\n"), "portal --help omits master-key rotate")
        for command in [["serve", "--help"], ["token", "--help"], ["gateway", "--help"], ["master-key", "--help"]] {
            let outcome = try PortalProcess.run(command, environment: env, in: dir)
            #expect(outcome.status == 0, "\(command)")
            #expect(outcome.stdout.contains("Usage: portal"), "\(command)")
        }
        let unknown = try PortalProcess.run(["launch"], environment: env, in: dir)
        #expect(unknown.status == 2)
        #expect(unknown.stderrLines.count == 1)
        #expect(unknown.stderr.contains("launch"))
    }

    @Test(
        "a bad setting stops start-up with one line naming the variable, never its secret value",
        arguments: [
            (["RATE_LIMIT_BURST": "abc"], "RATE_LIMIT_BURST"),
            (["RATE_LIMIT_REQUESTS_PER_MINUTE": "0"], "RATE_LIMIT_REQUESTS_PER_MINUTE"),
            (["GATEWAY_PORT": "70000"], "GATEWAY_PORT"),
            (["LOG_LEVEL": "loud"], "LOG_LEVEL"),
            (["PORTAL_ENV": "production"], "JWT_SECRET"),
            (["PORTAL_ENV": "production", "JWT_SECRET": "short-secret-value"], "JWT_SECRET"),
            (["PORTAL_ENV": "production", "JWT_SECRET": "secure_secret"], "JWT_SECRET"),
            (["JWT_SECRET_FILE": "/nonexistent/secret"], "JWT_SECRET"),
            (["PORTAL_CONFIG": "/nonexistent/routes.json"], "PORTAL_CONFIG"),
            (["TRUSTED_PROXIES": "10.0.0.0/99"], "TRUSTED_PROXIES"),
            (
                ["TLS_ENABLED": "true", "TLS_CERT_PATH": "/nonexistent/c.pem", "TLS_KEY_PATH": "/nonexistent/k.pem"],
                "TLS_CERT_PATH"
            ),
            (["TLS_ENABLED": "true"], "TLS_CERT_PATH"),
            (["REDIS_URL": "http://127.0.0.1"], "REDIS_URL"),
            (["REDIS_URL": "redis://:p@127.0.0.1", "REDIS_PASSWORD": "q"], "REDIS_PASSWORD"),
            (["RATE_LIMIT_FAIL_MODE": "sometimes"], "RATE_LIMIT_FAIL_MODE"),
            (
                ["TLS_ENABLED": "true", "TLS_CERT_PATH": "/etc/hostname", "TLS_KEY_PATH": "/etc/hostname"],
                "TLS_CERT_PATH"
            ),
            (["AUDIT_SIGNING_KEY_FILE": "/nonexistent/signing.pem"], "AUDIT_SIGNING_KEY_FILE"),
            (["AUDIT_SIGNING_KEY_FILE": "/etc/hostname"], "AUDIT_SIGNING_KEY_FILE"),
            (["JWKS_FILE": "/nonexistent/jwks.json"], "JWKS_FILE"),
            (["JWKS_FILE": "/etc/hostname"], "JWKS_FILE"),
            (["PORTAL_MASTER_KEY": "too-short"], "PORTAL_MASTER_KEY"),
            (["PORTAL_MASTER_KEY_PREVIOUS": "prev-too-short"], "PORTAL_MASTER_KEY_PREVIOUS"),
            (["PORTAL_MASTER_KEY_PREVIOUS_FILE": "/nonexistent/previous"], "PORTAL_MASTER_KEY_PREVIOUS"),
            (
                [
                    "PORTAL_MASTER_KEY": "the-same-master-key-given-twice-0123456789",
                    "PORTAL_MASTER_KEY_PREVIOUS": "the-same-master-key-given-twice-0123456789",
                ],
                "PORTAL_MASTER_KEY_PREVIOUS"
            ),
        ] as [([String: String], String)])
    func badSetting(overrides: [String: String], variable: String) throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir).merging(overrides) { $1 }
        let outcome = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(outcome.status == 2, "a bad setting exits 2: \(outcome.stderr)")
        #expect(outcome.stderrLines.count == 1, "expected one line, got: \(outcome.stderr)")
        #expect(outcome.stderr.contains(variable), "\(outcome.stderr)")
        for name in ["JWT_SECRET", "PORTAL_MASTER_KEY", "PORTAL_MASTER_KEY_PREVIOUS"] {
            if let secret = overrides[name] { #expect(!outcome.stderr.contains(secret)) }
        }
    }

    @Test("portal gateway without the data layer's service key is a bad setting: exit 2, one line naming it")
    func gatewayWithoutServiceKey() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try PortalProcess.run(
            ["gateway"], environment: PortalProcess.baseEnvironment(dataDirectory: dir), in: dir)
        #expect(outcome.status == 2, "\(outcome.stderr)")
        #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("GATEWAY_L01_API_KEY"), "\(outcome.stderr)")
    }

    @Test(
        "an option given twice is refused by every command, in one line naming it",
        arguments: [
            ["token", "issue", "--sub", "a", "--sub", "b"], ["erase", "--subject", "a", "--subject=b"],
            ["master-key", "rotate", "--batch-size", "4", "--batch-size", "5"],
            ["audit", "search", "--limit", "1", "--limit=2"], ["user", "add", "x", "--roles", "a", "--roles", "b"],
        ])
    func repeatedOption(arguments: [String]) throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try PortalProcess.run(
            arguments, environment: PortalProcess.baseEnvironment(dataDirectory: dir), in: dir)
        let option = try #require(arguments.first { $0.hasPrefix("--") }?.split(separator: "=").first)
        #expect(outcome.status == 2 && outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("\(option) is given more than once"), "\(outcome.stderr)")
    }

    @Test("a PORTAL_CONFIG that repeats a member name is refused, naming the file's line and column")
    func repeatedConfigMember() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Read with "last wins", this route would be public; read with "first wins", protected. Neither is safe.
        let config = """
            {"routes": [{"prefix": "/api/v1/events", "upstream": "http://127.0.0.1:8001",
                         "methods": ["GET"], "scopes": ["events:read"],
                         "public": false, "public": true}]}
            """
        let path = dir.appendingPathComponent("portal.json").path
        try Data(config.utf8).write(to: URL(fileURLWithPath: path))
        let env = PortalProcess.baseEnvironment(dataDirectory: dir).merging(["PORTAL_CONFIG": path]) { $1 }
        let outcome = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(outcome.status == 2)
        #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("PORTAL_CONFIG: $ (line 3, column 31)"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("repeated"), "\(outcome.stderr)")
    }

    @Test("a second server on the same data directory refuses to start, so the audit chain cannot fork")
    func dataDirectoryInUse() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let first = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        let second = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(second.status != 0)
        #expect(second.stderrLines.count == 1, "\(second.stderr)")
        #expect(second.stderr.contains("PORTAL_DATA_DIR") && second.stderr.contains("in use"), "\(second.stderr)")
        #expect(first.terminate() == 0)
        // Once the first has stopped, the directory is free again.
        let third = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        #expect(third.terminate() == 0)
    }

    @Test("a port already in use is named in one line")
    func portInUse() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try RunningPortal(
            environment: PortalProcess.baseEnvironment(dataDirectory: dir), directory: dir,
            expectedListeners: ["gateway", "admin", "data layer"])
        let taken = try #require(first.ports["gateway"])
        var env = PortalProcess.baseEnvironment(dataDirectory: dir.appendingPathComponent("second"))
        env["GATEWAY_PORT"] = String(taken)
        let second = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(second.status != 0)
        #expect(second.stderrLines.count == 1, "\(second.stderr)")
        #expect(second.stderr.contains("in use") && second.stderr.contains(String(taken)), "\(second.stderr)")
        #expect(first.terminate() == 0)
    }
}
