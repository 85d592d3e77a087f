import COpenSSL
import Foundation
import Net
import PortalCore
import Testing

@Suite("TLSContext loading, reload and production checks")
struct TLSContextTests {
    let fixtures = TLSFixtures.shared

    func file(_ name: String, _ text: String, mode: Int = 0o600) -> String {
        let path = fixtures.directory + "/" + name
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        return path
    }

    @Test("bad files stop start-up with one line naming the variable")
    func loadErrors() {
        let junk = file("junk.pem", "not a pem file\n")
        let table: [(String, String, String?, TLSClientAuthentication, String)] = [
            ("/nonexistent/cert.pem", fixtures.serverKey, nil, .none, "TLS_CERT_PATH: cannot read"),
            (junk, fixtures.serverKey, nil, .none, "TLS_CERT_PATH:"),
            (fixtures.serverCert, "/nonexistent/key.pem", nil, .none, "TLS_KEY_PATH: cannot read"),
            (fixtures.serverCert, junk, nil, .none, "TLS_KEY_PATH:"),
            (fixtures.serverCert, fixtures.serverCert, nil, .none, "TLS_KEY_PATH:"),
            (fixtures.serverCert, fixtures.clientKey, nil, .none, "does not match"),
            (fixtures.serverCert, fixtures.serverKey, nil, .required, "TLS_CLIENT_CA_PATH"),
            (fixtures.serverCert, fixtures.serverKey, junk, .optional, "TLS_CLIENT_CA_PATH"),
        ]
        for (cert, key, ca, auth, expected) in table {
            let configuration = TLSConfiguration(
                certificateChainPath: cert, privateKeyPath: key, clientCAPath: ca, clientAuthentication: auth)
            do {
                _ = try TLSContext(configuration: configuration)
                Issue.record("accepted \(expected)")
            } catch {
                #expect(error.description.contains(expected), "\(error.description)")
                #expect(!error.description.contains("\n"))
                #expect(!error.description.contains("PRIVATE KEY"))
            }
        }
    }

    @Test("reload swaps the certificate for new sessions and keeps open ones working")
    func reload() throws {
        let directory = fixtures.directory + "/reload"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func install(_ host: String) throws {
            let made = try SelfSignedCertificate(host: host, days: 2)
            try Data(made.certificatePEM).write(to: URL(fileURLWithPath: directory + "/cert.pem"))
            try Data(made.privateKeyPEM).write(to: URL(fileURLWithPath: directory + "/key.pem"))
        }
        try install("old.test")
        let context = try TLSContext(
            configuration: TLSConfiguration(
                certificateChainPath: directory + "/cert.pem", privateKeyPath: directory + "/key.pem"))
        let before = try context.makeSession()
        let beforeClient = MemoryTLSClient()
        #expect(beforeClient.handshake(with: before).server == .established)

        try install("new.test")
        try context.reload()
        let after = try context.makeSession()
        let afterClient = MemoryTLSClient()
        #expect(afterClient.handshake(with: after).server == .established)
        #expect(MemoryTLSClientPeer.subject(afterClient) == "CN=new.test")
        #expect(MemoryTLSClientPeer.subject(beforeClient) == "CN=old.test")

        // The session made before the reload still carries data.
        before.feedCiphertext(beforeClient.write("ping"))
        var plain: [UInt8] = []
        before.readPlaintext(into: &plain)
        #expect(plain == Array("ping".utf8))

        // A broken file on reload throws and leaves the working context in place.
        _ = file("reload/key.pem", "broken")
        #expect(throws: TLSError.self) { try context.reload() }
        #expect(MemoryTLSClient().handshake(with: try context.makeSession()).server == .established)
    }

    @Test("production refuses a key readable by group or others and an expired certificate")
    func production() throws {
        let made = try SelfSignedCertificate(host: "prod.test", days: 10)
        let cert = file("prod-cert.pem", String(decoding: made.certificatePEM, as: UTF8.self), mode: 0o644)
        for (mode, ok) in [(0o600, true), (0o400, true), (0o640, false), (0o604, false), (0o644, false)] {
            let key = file("prod-key-\(mode).pem", String(decoding: made.privateKeyPEM, as: UTF8.self), mode: mode)
            chmod(key, mode_t(mode))
            let configuration = TLSConfiguration(certificateChainPath: cert, privateKeyPath: key)
            if ok {
                try TLSProductionCheck.verify(configuration)
            } else {
                #expect(throws: TLSError.self, "mode \(String(mode, radix: 8))") {
                    try TLSProductionCheck.verify(configuration)
                }
            }
        }
        let key = fixtures.directory + "/prod-key-384.pem"
        let configuration = TLSConfiguration(certificateChainPath: cert, privateKeyPath: key)
        let clock = ManualClock(unixSeconds: SystemClock().unixSeconds())
        clock.advance(seconds: 9 * 86_400)
        try TLSProductionCheck.verify(configuration, clock: clock)
        clock.advance(seconds: 2 * 86_400)
        #expect(throws: TLSError.self) { try TLSProductionCheck.verify(configuration, clock: clock) }
    }
}

/// What the in-memory client saw of the server.
enum MemoryTLSClientPeer {
    static func subject(_ client: MemoryTLSClient) -> String? {
        guard let certificate = SSL_get0_peer_certificate(client.ssl) else { return nil }
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        _ = X509_NAME_print_ex(bio, X509_get_subject_name(certificate), 0, portal_XN_FLAG_RFC2253())
        var name = [UInt8](repeating: 0, count: BIO_ctrl_pending(bio))
        _ = name.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
        return String(decoding: name, as: UTF8.self)
    }
}
