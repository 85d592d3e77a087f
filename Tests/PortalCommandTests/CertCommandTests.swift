import Foundation
import Testing

@Suite("portal cert self-signed")
struct CertCommandTests {
    @Test("writes a 0600 key and a 0644 certificate that openssl reads, and never overwrites them")
    func writesKeyAndCertificate() throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("tls")
        let env = PortalProcess.baseEnvironment(dataDirectory: dir)
        let first = try PortalProcess.run(
            ["cert", "self-signed", "--host", "gateway.test", "--days", "30", "--out", out.path], environment: env,
            in: dir)
        #expect(first.status == 0, "\(first.stderr)")

        let key = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("key.pem").path)
        let cert = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("cert.pem").path)
        #expect((key[.posixPermissions] as? Int) == 0o600)
        #expect((cert[.posixPermissions] as? Int) == 0o644)

        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "x509", "-noout", "-ext", "subjectAltName", "-in", out.appendingPathComponent("cert.pem").path,
        ]
        let pipe = Pipe()
        openssl.standardOutput = pipe
        try openssl.run()
        openssl.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("DNS:gateway.test"), "\(text)")

        let second = try PortalProcess.run(
            ["cert", "self-signed", "--host", "gateway.test", "--out", out.path], environment: env, in: dir)
        #expect(second.status != 0)
        #expect(second.stderrLines.count == 1, "\(second.stderr)")
    }

    @Test("a host name that could smuggle extra SAN entries is refused", arguments: ["a,DNS:evil", "a b", "*.x", ""])
    func refusesHostileHosts(host: String) throws {
        let dir = try PortalProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcome = try PortalProcess.run(
            ["cert", "self-signed", "--host", host, "--out", dir.appendingPathComponent("tls").path],
            environment: PortalProcess.baseEnvironment(dataDirectory: dir), in: dir)
        #expect(outcome.status != 0)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("tls/key.pem").path))
    }
}
