import Foundation
import Net
import PortalCore
import Testing

@Suite("Self-signed development certificates, as openssl reads them")
struct TLSCertificateTests {
    func text(_ made: SelfSignedCertificate) throws -> String {
        let path = TLSFixtures.shared.directory + "/inspect-\(UUID().uuidString).pem"
        try Data(made.certificatePEM).write(to: URL(fileURLWithPath: path))
        return runTool("openssl", ["x509", "-in", path, "-noout", "-text"]).output
    }

    @Test("the certificate has SAN, CA:FALSE, digitalSignature, serverAuth, P-256 and the asked validity")
    func extensions() throws {
        let clock = ManualClock(unixSeconds: 1_767_225_600)  // 2026-01-01T00:00:00Z
        let table: [(String, Int, String, String)] = [
            ("api.example.test", 30, "DNS:api.example.test", "Jan 31 00:00:00 2026 GMT"),
            ("127.0.0.1", 365, "DNS:127.0.0.1, IP Address:127.0.0.1", "Jan  1 00:00:00 2027 GMT"),
            ("::1", 1, "IP Address:0:0:0:0:0:0:0:1", "Jan  2 00:00:00 2026 GMT"),
        ]
        for (host, days, san, notAfter) in table {
            let output = try text(SelfSignedCertificate(host: host, days: days, clock: clock))
            #expect(output.contains("Version: 3 (0x2)"), "\(host)")
            #expect(output.contains(san), "\(host)")
            #expect(output.contains("CA:FALSE"))
            #expect(output.contains("X509v3 Key Usage: critical\n                Digital Signature\n"))
            #expect(output.contains("TLS Web Server Authentication"))
            #expect(output.contains("NIST CURVE: P-256"))
            #expect(output.contains("Signature Algorithm: ecdsa-with-SHA256"))
            #expect(output.contains("Not After : \(notAfter)"), "\(host)")
            #expect(output.contains("Subject: CN = \(host)"))
        }
    }

    @Test("serials are random and keys are fresh")
    func serials() throws {
        let a = try SelfSignedCertificate(host: "a.test")
        let b = try SelfSignedCertificate(host: "a.test")
        #expect(a.certificatePEM != b.certificatePEM)
        #expect(a.privateKeyPEM != b.privateKeyPEM)
        #expect(String(decoding: a.privateKeyPEM, as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test("host names that could smuggle extra SAN entries or are not names are refused")
    func hostileHosts() {
        let hosts = [
            "", "a.test,IP:10.0.0.1", "a.test, DNS:evil.test", "a test", "a.test\n", "a.test\0", "-leading.test",
            ".leading.test", "é.test", "a/b", "a:b", String(repeating: "a", count: 254), "*.wild.test", "a@b",
        ]
        for host in hosts {
            #expect(throws: TLSError.self, "\(host.debugDescription)") { try SelfSignedCertificate(host: host) }
        }
        for days in [0, -1, 3651] {
            #expect(throws: TLSError.self) { try SelfSignedCertificate(host: "a.test", days: days) }
        }
    }
}
