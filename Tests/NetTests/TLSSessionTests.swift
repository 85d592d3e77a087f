import COpenSSL
import Net
import Testing

@Suite("TLSSession paired in-process with an OpenSSL client")
struct TLSSessionTests {
    let fixtures = TLSFixtures.shared

    func server(_ auth: TLSClientAuthentication = .none) throws -> TLSSession {
        let configuration = TLSConfiguration(
            certificateChainPath: fixtures.serverCert, privateKeyPath: fixtures.serverKey,
            clientCAPath: auth == .none ? nil : fixtures.caCert, clientAuthentication: auth)
        return try TLSContext(configuration: configuration).makeSession()
    }

    @Test("TLS 1.3 and 1.2 complete with ALPN http/1.1, SNI recorded and an AEAD cipher")
    func handshakes() throws {
        let table: [(Int32, String, String)] = [
            (TLS1_3_VERSION, "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
            (TLS1_2_VERSION, "TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"),
        ]
        for (version, name, cipher) in table {
            let session = try server()
            let client = MemoryTLSClient(versions: (version, version))
            let result = client.handshake(with: session)
            #expect(result.clientDone && result.server == .established, "\(name)")
            #expect(session.protocolVersion == name)
            #expect(session.cipher == cipher)
            #expect(session.applicationProtocol == "http/1.1")
            #expect(session.serverName == "portal.test")
            #expect(session.peerCertificate == nil)
        }
    }

    @Test("plaintext flows both ways and close_notify is seen")
    func dataAndClose() throws {
        let session = try server()
        let client = MemoryTLSClient()
        _ = client.handshake(with: session)
        session.feedCiphertext(client.write("GET / HTTP/1.1\r\n\r\n"))
        var plain: [UInt8] = []
        #expect(session.readPlaintext(into: &plain) == .established)
        #expect(String(decoding: plain, as: UTF8.self) == "GET / HTTP/1.1\r\n\r\n")
        try session.writePlaintext(Array("HTTP/1.1 204 No Content\r\n\r\n".utf8))
        client.feed(session.takeCiphertextToSend())
        #expect(client.read() == "HTTP/1.1 204 No Content\r\n\r\n")
        _ = SSL_shutdown(client.ssl)
        session.feedCiphertext(client.take())
        #expect(session.readPlaintext(into: &plain) == .closed)
    }

    @Test("old protocols, CBC, non-ECDHE and ALPN without http/1.1 are refused by the server")
    func refusals() throws {
        let table: [(String, MemoryTLSClient)] = [
            ("TLS 1.0", MemoryTLSClient(versions: (TLS1_VERSION, TLS1_VERSION))),
            ("TLS 1.1", MemoryTLSClient(versions: (TLS1_1_VERSION, TLS1_1_VERSION))),
            ("CBC only", MemoryTLSClient(versions: (TLS1_2_VERSION, TLS1_2_VERSION), cipherList: "AES128-SHA")),
            (
                "ECDHE CBC",
                MemoryTLSClient(
                    versions: (TLS1_2_VERSION, TLS1_2_VERSION), cipherList: "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")
            ),
            (
                "RSA key exchange",
                MemoryTLSClient(
                    versions: (TLS1_2_VERSION, TLS1_2_VERSION), cipherList: "AES128-GCM-SHA256")
            ),
            (
                "DHE",
                MemoryTLSClient(
                    versions: (TLS1_2_VERSION, TLS1_2_VERSION), cipherList: "DHE-RSA-AES128-GCM-SHA256")
            ),
            ("ALPN h2 only", MemoryTLSClient(alpn: Array("\u{2}h2".utf8))),
        ]
        for (name, client) in table {
            let session = try server()
            let result = client.handshake(with: session)
            #expect(!result.clientDone, "\(name)")
            guard case .failed = result.server else {
                Issue.record("\(name): server state \(result.server)")
                continue
            }
        }
    }

    @Test("garbage instead of a ClientHello fails the handshake without crashing")
    func garbage() throws {
        let inputs: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 300),
            [0x16, 0x03, 0x03, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00],
            [UInt8](repeating: 0xFF, count: 4096),
        ]
        for input in inputs {
            let session = try server()
            session.feedCiphertext(input)
            guard case .failed = session.advanceHandshake() else {
                Issue.record("accepted \(input.prefix(8))")
                continue
            }
            var plain: [UInt8] = []
            #expect(throws: TLSError.self) { try session.writePlaintext([1]) }
            #expect(plain.isEmpty && session.readPlaintext(into: &plain) != .established)
        }
    }

    @Test("mTLS: a CA-signed client certificate yields subject and SHA-256 fingerprint")
    func mutualAccepted() throws {
        for auth in [TLSClientAuthentication.optional, .required] {
            let session = try server(auth)
            let client = MemoryTLSClient(certificate: (fixtures.clientCert, fixtures.clientKey))
            #expect(client.handshake(with: session).server == .established)
            #expect(session.peerCertificate?.subject == "CN=client-1,O=Example")
            #expect(session.peerCertificate?.sha256Fingerprint == TLSFixtures.fingerprint(of: fixtures.clientCert))
        }
    }

    @Test("mTLS: foreign certificates are refused; no certificate passes only when optional")
    func mutualRefused() throws {
        let table: [(TLSClientAuthentication, (String, String)?, Bool, String)] = [
            (.required, (fixtures.foreignCert, fixtures.foreignKey), false, "foreign, required"),
            (.optional, (fixtures.foreignCert, fixtures.foreignKey), false, "foreign, optional"),
            (.required, (fixtures.serverCert, fixtures.serverKey), false, "server's own cert, required"),
            (.required, nil, false, "absent, required"),
            (.optional, nil, true, "absent, optional"),
        ]
        for (auth, certificate, accepted, name) in table {
            for version in [TLS1_2_VERSION, TLS1_3_VERSION] {
                let session = try server(auth)
                let client = MemoryTLSClient(versions: (version, version), certificate: certificate)
                let state = client.handshake(with: session).server
                #expect((state == .established) == accepted, "\(name) v\(version)")
                #expect(session.peerCertificate == nil, "\(name)")
            }
        }
    }
}
