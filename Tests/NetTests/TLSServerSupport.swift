import Dispatch
import HTTPCodec
import Net

#if canImport(Glibc)
    import Glibc
#endif

// Test-only support for TLS over HTTPServer (no tests of its own): a handler that reports the connection, and
// a started TLS server.

/// Answers with what the server told it about the connection; `/big` answers `bigSize` pattern bytes,
/// `/slow...` answers after 150 ms from another thread.
final class ConnectionReportingHandler: HTTPHandler {
    static let bigSize = 5 * 1024 * 1024

    /// The body `/big` answers: byte `i` is `i % 251`, so a shifted or lost block shows.
    static func bigBody() -> [UInt8] { (0..<bigSize).map { UInt8($0 % 251) } }

    let big = ConnectionReportingHandler.bigBody()

    func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        if request.target == "/big" {
            respond(HTTPResponse(status: 200, headers: HTTPHeaders(), body: big))
            return
        }
        let report = [
            "target=\(request.target)", "tls=\(connection.isTLS)",
            "subject=\(connection.clientCertificateSubject ?? "none")",
            "fingerprint=\(connection.clientCertificateFingerprint ?? "none")",
            "body=\(String(decoding: request.body, as: UTF8.self))",
        ].joined(separator: " ")
        let response = HTTPResponse(status: 200, headers: HTTPHeaders(), body: Array((report + "\n").utf8))
        if request.target.hasPrefix("/slow") {
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(150)) { respond(response) }
        } else {
            respond(response)
        }
    }
}

/// A started TLS `HTTPServer` on 127.0.0.1 (kernel-chosen port) with the fixtures' server certificate.
struct TLSTestServer {
    let fixtures = TLSFixtures.shared
    let group: EventLoopGroup
    let server: HTTPServer

    init(
        _ auth: TLSClientAuthentication = .none, timeouts: HTTPServerTimeouts = HTTPServerTimeouts(),
        handler: any HTTPHandler = ConnectionReportingHandler()
    ) throws {
        let fixtures = TLSFixtures.shared
        let context = try TLSContext(
            configuration: TLSConfiguration(
                certificateChainPath: fixtures.serverCert, privateKeyPath: fixtures.serverKey,
                clientCAPath: auth == .none ? nil : fixtures.caCert, clientAuthentication: auth))
        group = try EventLoopGroup(threads: 1)
        server = HTTPServer(
            host: "127.0.0.1", port: 0, group: group, handler: handler, timeouts: timeouts, tls: context)
        try server.start()
    }

    var port: Int { server.port }

    /// The fixtures' SHA-256 of the CA-signed client certificate.
    var clientFingerprint: String { TLSFixtures.fingerprint(of: fixtures.clientCert) }

    /// Runs curl against `https://portal.test:<port>` + each of `paths`, with the server certificate as CA.
    func curl(_ paths: [String] = ["/"], _ extra: [String]) -> (status: Int32, output: String) {
        runTool(
            "curl",
            [
                "-sS", "--max-time", "10", "--cacert", fixtures.serverCert,
                "--resolve", "portal.test:\(port):127.0.0.1",
            ] + extra + paths.map { "https://portal.test:\(port)\($0)" })
    }

    /// Runs a Python script with `PORT` and `CA` defined first; returns its status and output.
    func python(_ script: String) -> (status: Int32, output: String) {
        runTool("python3", ["-c", "PORT = \(port)\nCA = \"\(fixtures.serverCert)\"\n" + script])
    }

    /// Waits up to 3 s for `failedHandshakes` to reach `count`.
    func waitForFailedHandshakes(_ count: UInt64) -> Bool {
        for _ in 0..<300 {
            if server.failedHandshakes >= count { return true }
            usleep(10_000)
        }
        return false
    }

    func stop() {
        server.shutdown(deadline: .milliseconds(500))
        group.shutdown()
    }
}
