import Foundation
import Net
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny blocking HTTPS server driven through `TLSSession`, one connection at a time, for real clients.
final class BlockingTLSServer: Sendable {
    struct Outcome: Sendable {
        var state: TLSSession.State
        var peer: TLSPeerCertificate?
    }

    let listenFD: Int32
    let port: Int
    let context: TLSContext
    let outcomes = Mutex<[Outcome]>([])

    init(_ configuration: TLSConfiguration) throws {
        context = try TLSContext(configuration: configuration)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            _ = close(fd)
            throw SyscallError(call: "bind", errno: errno)
        }
        listenFD = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    var count: Int { outcomes.withLock { $0.count } }

    /// The outcome of connection number `index` (from 0), waiting up to 3 s for the server to record it.
    func outcome(_ index: Int) -> Outcome? {
        for _ in 0..<300 {
            if let found = outcomes.withLock({ $0.count > index ? $0[index] : nil }) { return found }
            usleep(10_000)
        }
        return nil
    }

    func stop() {
        _ = shutdown(listenFD, Int32(SHUT_RDWR))
        _ = close(listenFD)
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            serve(fd)
            _ = close(fd)
        }
    }

    private func serve(_ fd: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let session = try? context.makeSession() else { return }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var plain: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            session.feedCiphertext(Array(buffer[..<n]))
            let state = session.readPlaintext(into: &plain)
            if state == .established, plain.count >= 4, plain.suffix(4) == Array("\r\n\r\n".utf8) {
                let peer = session.peerCertificate
                let body =
                    "version=\(session.protocolVersion ?? "?") cipher=\(session.cipher ?? "?") "
                    + "sni=\(session.serverName ?? "none") subject=\(peer?.subject ?? "none") "
                    + "fingerprint=\(peer?.sha256Fingerprint ?? "none")\n"
                let head = "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
                try? session.writePlaintext(Array((head + body).utf8))
                session.shutdown()
            }
            send(fd, session.takeCiphertextToSend())
            if case .failed = state { break }
            if session.state == .closed { break }
        }
        outcomes.withLock { $0.append(Outcome(state: session.state, peer: session.peerCertificate)) }
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard n > 0 else { return }
            offset += n
        }
    }
}

@Suite("TLS listener against curl, openssl s_client and Python's ssl", .serialized)
struct TLSRealClientTests {
    let fixtures = TLSFixtures.shared

    func withServer(_ auth: TLSClientAuthentication = .none, _ body: (BlockingTLSServer) throws -> Void) throws {
        let server = try BlockingTLSServer(
            TLSConfiguration(
                certificateChainPath: fixtures.serverCert, privateKeyPath: fixtures.serverKey,
                clientCAPath: auth == .none ? nil : fixtures.caCert, clientAuthentication: auth))
        defer { server.stop() }
        try body(server)
    }

    func curl(_ server: BlockingTLSServer, _ extra: [String]) -> (status: Int32, output: String) {
        runTool(
            "curl",
            [
                "-sS", "--max-time", "10", "--cacert", fixtures.serverCert,
                "--resolve", "portal.test:\(server.port):127.0.0.1", "https://portal.test:\(server.port)/",
            ] + extra)
    }

    func sClient(_ server: BlockingTLSServer, _ extra: [String]) -> Int32 {
        runTool("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "portal.test"] + extra)
            .status
    }

    @Test("curl completes TLS 1.3 and TLS 1.2 with SNI")
    func curlVersions() throws {
        try withServer { server in
            for (flags, version) in [(["--tlsv1.3"], "TLSv1.3"), (["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2")] {
                let result = curl(server, flags)
                #expect(result.status == 0, "\(result.output)")
                #expect(result.output.contains("version=\(version) "))
                #expect(result.output.contains("sni=portal.test"))
            }
        }
    }

    @Test("Python's ssl completes TLS 1.3 and TLS 1.2")
    func python() throws {
        try withServer { server in
            for version in ["TLSv1_3", "TLSv1_2"] {
                let script = """
                    import socket, ssl
                    c = ssl.create_default_context(cafile="\(fixtures.serverCert)")
                    c.minimum_version = c.maximum_version = ssl.TLSVersion.\(version)
                    s = c.wrap_socket(socket.create_connection(("127.0.0.1", \(server.port)), timeout=10),
                                      server_hostname="portal.test")
                    s.sendall(b"GET / HTTP/1.1\\r\\nHost: portal.test\\r\\n\\r\\n")
                    print(s.version(), s.selected_alpn_protocol(), s.recv(4096).decode())
                    """
                let result = runTool("python3", ["-c", script])
                #expect(result.status == 0, "\(result.output)")
                #expect(result.output.hasPrefix(version.replacingOccurrences(of: "_", with: ".")), "\(result.output)")
            }
        }
    }

    @Test("openssl s_client: 1.3 and 1.2 succeed; 1.0, 1.1, CBC and non-ECDHE suites fail at the server")
    func sClientTable() throws {
        try withServer { server in
            let table: [([String], Bool)] = [
                (["-tls1_3"], true),
                (["-tls1_2"], true),
                (["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"], false),
                (["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], false),
                (["-tls1_2", "-cipher", "AES128-SHA"], false),
                (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"], false),
                (["-tls1_2", "-cipher", "AES128-GCM-SHA256"], false),
            ]
            for (flags, succeeds) in table {
                let index = server.count
                let status = sClient(server, flags)
                #expect((status == 0) == succeeds, "\(flags)")
                // The refusal must come from the server, not from a client that never sent a hello.
                let outcome = server.outcome(index)
                if succeeds {
                    #expect(outcome?.state != nil && outcome?.state != .handshaking, "\(flags)")
                } else if case .failed = outcome?.state {
                } else {
                    Issue.record("\(flags): server outcome \(String(describing: outcome?.state))")
                }
            }
        }
    }

    @Test("mTLS required: the CA-signed client is seen with subject and fingerprint; foreign and absent fail")
    func mutualRequired() throws {
        try withServer(.required) { server in
            let signed = curl(server, ["--cert", fixtures.clientCert, "--key", fixtures.clientKey])
            #expect(signed.status == 0, "\(signed.output)")
            #expect(signed.output.contains("subject=CN=client-1,O=Example"))
            #expect(signed.output.contains("fingerprint=\(TLSFixtures.fingerprint(of: fixtures.clientCert))"))
            for extra in [["--cert", fixtures.foreignCert, "--key", fixtures.foreignKey], []] {
                let index = server.count
                #expect(curl(server, extra).status != 0, "\(extra)")
                guard case .failed = server.outcome(index)?.state else {
                    Issue.record("\(extra): server did not refuse")
                    continue
                }
            }
        }
    }

    @Test("mTLS optional: absent certificate allowed without identity, foreign refused")
    func mutualOptional() throws {
        try withServer(.optional) { server in
            let absent = curl(server, [])
            #expect(absent.status == 0, "\(absent.output)")
            #expect(absent.output.contains("subject=none fingerprint=none"))
            #expect(curl(server, ["--cert", fixtures.foreignCert, "--key", fixtures.foreignKey]).status != 0)
        }
    }
}
