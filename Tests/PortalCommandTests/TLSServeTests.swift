import Foundation
import Testing

/// `portal serve` with `TLS_ENABLED=true`, exercised with curl and openssl as an operator would.
@Suite("portal serve over HTTPS")
struct TLSServeTests {
    /// A fresh directory holding `tls/cert.pem` and `tls/key.pem` for `localhost`.
    private func directoryWithCertificate() throws -> (URL, [String: String]) {
        let dir = try PortalProcess.temporaryDirectory()
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let made = try PortalProcess.run(
            ["cert", "self-signed", "--host", "localhost", "--out", dir.appendingPathComponent("tls").path],
            environment: env, in: dir)
        #expect(made.status == 0, "\(made.stderr)")
        env["TLS_ENABLED"] = "true"
        env["TLS_PORT"] = "0"
        env["TLS_CERT_PATH"] = dir.appendingPathComponent("tls/cert.pem").path
        env["TLS_KEY_PATH"] = dir.appendingPathComponent("tls/key.pem").path
        return (dir, env)
    }

    /// The SHA-256 fingerprint of the certificate the server presents on a new connection.
    private func servedFingerprint(port: Int) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c",
            "openssl s_client -connect 127.0.0.1:\(port) -servername localhost </dev/null 2>/dev/null"
                + " | openssl x509 -noout -fingerprint -sha256",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("curl completes TLS 1.3 and 1.2 and gets the gateway's answer with HSTS; SIGHUP swaps the certificate")
    func httpsAndReload() throws {
        let (dir, env) = try directoryWithCertificate()
        defer { try? FileManager.default.removeItem(at: dir) }
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "gateway https", "admin", "data layer"])
        let https = try #require(portal.ports["gateway https"])
        let cacert = dir.appendingPathComponent("tls/cert.pem").path

        for version in ["--tlsv1.3", "--tlsv1.2"] {
            var arguments = ["--cacert", cacert, version]
            if version == "--tlsv1.2" { arguments += ["--tls-max", "1.2"] }
            let response = try Curl.request(arguments + ["https://localhost:\(https)/api/v1/events"])
            #expect(response.status == 401, "\(version)")
            #expect(response.header("Strict-Transport-Security") == "max-age=31536000; includeSubDomains")
        }
        // The plain listener still answers, without HSTS.
        let plain = try Curl.request(["http://127.0.0.1:\(try #require(portal.ports["gateway"]))/api/v1/events"])
        #expect(plain.status == 401)
        #expect(plain.header("Strict-Transport-Security") == nil)

        // Replace the pair on disk and send SIGHUP: new connections see the new certificate.
        let before = try servedFingerprint(port: https)
        #expect(before.contains("Fingerprint"))
        let fresh = dir.appendingPathComponent("fresh")
        let made = try PortalProcess.run(
            ["cert", "self-signed", "--host", "localhost", "--out", fresh.path], environment: env, in: dir)
        #expect(made.status == 0)
        for name in ["cert.pem", "key.pem"] {
            let target = dir.appendingPathComponent("tls/\(name)")
            try FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: fresh.appendingPathComponent(name), to: target)
        }
        kill(portal.process.processIdentifier, SIGHUP)
        var after = before
        for _ in 0..<50 where after == before {
            usleep(100_000)
            after = try servedFingerprint(port: https)
        }
        #expect(after != before && after.contains("Fingerprint"))
        #expect(portal.terminate() == 0)
    }

    @Test("TLS_REDIRECT_HTTP sends plain clients to the HTTPS port with 308")
    func redirect() throws {
        var (dir, env) = try directoryWithCertificate()
        defer { try? FileManager.default.removeItem(at: dir) }
        env["TLS_REDIRECT_HTTP"] = "true"
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "gateway https", "admin", "data layer"])
        let https = try #require(portal.ports["gateway https"])
        let response = try Curl.request([
            "-H", "Host: localhost", "http://127.0.0.1:\(try #require(portal.ports["gateway"]))/api/v1/events?limit=5",
        ])
        #expect(response.status == 308)
        #expect(response.header("Location") == "https://localhost:\(https)/api/v1/events?limit=5")
        #expect(portal.terminate() == 0)
    }

    @Test("production refuses a key readable by others, in one line naming TLS_KEY_PATH")
    func productionRefusesReadableKey() throws {
        var (dir, env) = try directoryWithCertificate()
        defer { try? FileManager.default.removeItem(at: dir) }
        env["PORTAL_ENV"] = "production"
        env["JWT_SECRET"] = "a-production-secret-of-at-least-32-bytes!"
        // Production also wants the audit and credential keys; this test is about the TLS key alone.
        env["AUDIT_LOG_ENABLED"] = "false"
        env["CREDENTIAL_HMAC_KEY"] = "a-production-credential-key-of-32-bytes!"
        env["PORTAL_MASTER_KEY"] = "a-production-master-key-of-32-bytes-or-more"
        chmod(dir.appendingPathComponent("tls/key.pem").path, 0o644)
        let outcome = try PortalProcess.run(["serve"], environment: env, in: dir)
        #expect(outcome.status != 0)
        #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("TLS_KEY_PATH"), "\(outcome.stderr)")
    }
}
