import Foundation
import HTTPCodec
import Net
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Answers every request with a fixed JSON document.
private final class DocumentHandler: HTTPHandler {
    let body: [UInt8]
    init(_ body: String) { self.body = Array(body.utf8) }

    func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        let status = request.target == "/missing" ? 404 : 200
        respond(HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: body))
    }
}

@Suite("BlockingHTTPFetch")
struct BlockingHTTPFetchTests {
    /// A server on 127.0.0.1 answering `body`, over TLS with a certificate for `tlsHost` when given.
    private static func server(
        _ body: String, tlsHost: String? = nil, in directory: String
    ) throws -> (EventLoopGroup, HTTPServer, certificate: String?) {
        var context: TLSContext?
        var certificatePath: String?
        if let tlsHost {
            let made = try SelfSignedCertificate(host: tlsHost, days: 2)
            let cert = directory + "/\(tlsHost)-cert.pem"
            let key = directory + "/\(tlsHost)-key.pem"
            _ = FileManager.default.createFile(atPath: cert, contents: Data(made.certificatePEM))
            _ = FileManager.default.createFile(
                atPath: key, contents: Data(made.privateKeyPEM), attributes: [.posixPermissions: 0o600])
            context = try TLSContext(configuration: TLSConfiguration(certificateChainPath: cert, privateKeyPath: key))
            certificatePath = cert
        }
        let group = try EventLoopGroup(threads: 1)
        let server = HTTPServer(host: "127.0.0.1", port: 0, group: group, handler: DocumentHandler(body), tls: context)
        try server.start()
        return (group, server, certificatePath)
    }

    private static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "fetch-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a plain http GET returns the status and the whole body; a 404 is a status, not an error")
    func plain() throws {
        let directory = try Self.temporaryDirectory()
        let (group, server, _) = try Self.server(#"{"keys":[]}"#, in: directory)
        defer {
            server.shutdown(deadline: .milliseconds(200))
            group.shutdown()
        }
        let response = try BlockingHTTPFetch.get("http://127.0.0.1:\(server.port)/jwks.json", timeoutSeconds: 5)
        #expect(response.status == 200 && String(decoding: response.body, as: UTF8.self) == #"{"keys":[]}"#)
        let missing = try BlockingHTTPFetch.get("http://127.0.0.1:\(server.port)/missing", timeoutSeconds: 5)
        #expect(missing.status == 404)
        #expect(throws: BlockingHTTPFetch.Failure.self) {
            try BlockingHTTPFetch.get("http://127.0.0.1:\(server.port)/", timeoutSeconds: 5, maxBodyBytes: 4)
        }
    }

    @Test("https verifies the chain against the CA file and the certificate's IP address; anything else fails")
    func https() throws {
        let directory = try Self.temporaryDirectory()
        let (group, server, cert) = try Self.server(#"{"keys":[1]}"#, tlsHost: "127.0.0.1", in: directory)
        let (otherGroup, other, otherCert) = try Self.server("{}", tlsHost: "localhost", in: directory)
        defer {
            for s in [server, other] { s.shutdown(deadline: .milliseconds(200)) }
            group.shutdown()
            otherGroup.shutdown()
        }
        let url = "https://127.0.0.1:\(server.port)/jwks"
        let response = try BlockingHTTPFetch.get(url, timeoutSeconds: 5, caPath: cert)
        #expect(response.status == 200 && response.body == Array(#"{"keys":[1]}"#.utf8))
        // Not in the system's trust store.
        #expect(throws: BlockingHTTPFetch.Failure.self) { try BlockingHTTPFetch.get(url, timeoutSeconds: 5) }
        // Trusted, but made out to another name than the address asked for.
        #expect(throws: BlockingHTTPFetch.Failure.self) {
            try BlockingHTTPFetch.get("https://127.0.0.1:\(other.port)/", timeoutSeconds: 5, caPath: otherCert)
        }
        // Plain HTTP to a TLS port is not an answer.
        #expect(throws: BlockingHTTPFetch.Failure.self) {
            try BlockingHTTPFetch.get("http://127.0.0.1:\(server.port)/", timeoutSeconds: 2)
        }
    }

    @Test("a server that accepts but never answers costs about the timeout, then a failure")
    func timeout() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        #expect(listen(fd, 4) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let start = Date()
        #expect(throws: BlockingHTTPFetch.Failure.self) {
            try BlockingHTTPFetch.get("http://127.0.0.1:\(port)/", timeoutSeconds: 0.5)
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.4 && elapsed < 4, "\(elapsed)")
    }

    @Test("URLs other than http(s) without user info are refused before any connection")
    func badURLs() {
        for url in ["ftp://example.com/", "http://user:pw@127.0.0.1/", "http:///x", "https://[::1/", "http://a:0/"] {
            #expect(throws: BlockingHTTPFetch.Failure.self, "\(url)") {
                try BlockingHTTPFetch.get(url, timeoutSeconds: 1)
            }
        }
    }
}
