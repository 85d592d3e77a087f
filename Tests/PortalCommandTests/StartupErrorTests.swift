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
        for command in [["serve", "--help"], ["token", "--help"], ["gateway", "--help"]] {
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
        ] as [([String: String], String)])
    func badSetting(overrides: [String: String], variable: String) throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = PortalProcess.baseEnvironment(dataDirectory: dir).merging(overrides) { $1 }
        let outcome = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(outcome.status != 0)
        #expect(outcome.stderrLines.count == 1, "expected one line, got: \(outcome.stderr)")
        #expect(outcome.stderr.contains(variable), "\(outcome.stderr)")
        if let secret = overrides["JWT_SECRET"] { #expect(!outcome.stderr.contains(secret)) }
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
