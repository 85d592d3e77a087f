import Foundation
import Gateway
import HTTPCodec
import Net
import Synchronization
import Testing

@Suite("Gateway over HTTPS: HSTS, and the plain listener's redirect")
struct GatewayHTTPSTests {
    /// Calls the gateway's handler directly, with connection facts only a TLS socket would give.
    private func answer(_ harness: GatewayHarness, _ target: String, isTLS: Bool) throws -> HTTPResponse {
        let result = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        let loop = harness.group.loops[0]
        let connection = ConnectionInfo(remoteAddress: "127.0.0.1", remotePort: 40000, localPort: 8443, isTLS: isTLS)
        let service = harness.service
        loop.execute {
            service.handle(
                HTTPRequest(method: "GET", target: target, headers: HTTPHeaders([("Host", "gw.test")])),
                connection: connection, loop: loop
            ) { response in
                result.withLock { $0 = response }
                done.signal()
            }
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        return try #require(result.withLock { $0 })
    }

    @Test("HTTPS answers carry Strict-Transport-Security, plain HTTP answers do not")
    func hstsOnlyOverTLS() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let overTLS = try answer(harness, "/nowhere", isTLS: true)
        #expect(overTLS.status == 404)
        #expect(overTLS.headers.first("Strict-Transport-Security") == "max-age=31536000; includeSubDomains")
        let plain = try answer(harness, "/nowhere", isTLS: false)
        #expect(plain.headers.first("Strict-Transport-Security") == nil)
    }

    @Test(
        "the redirect listener answers 308 to the same normalised path on HTTPS",
        arguments: [
            ("gw.test", "/echo/a?x=1", "https://gw.test:8443/echo/a?x=1"),
            ("gw.test:8009", "//echo/./b", "https://gw.test:8443/echo/b"),
            ("[2001:db8::1]:8009", "/", "https://[2001:db8::1]:8443/"),
            ("10.0.0.5", "/%7euser", "https://10.0.0.5:8443/~user"),
        ])
    func redirects(host: String, target: String, location: String) throws {
        let server = try RedirectServer(httpsPort: 8443)
        defer { server.stop() }
        let response = try TestHTTPClient(port: server.port).requestRaw(
            "GET \(target) HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(response.status == 308)
        #expect(response.header("Location") == location)
        #expect(response.header("X-Content-Type-Options") == "nosniff")
    }

    @Test(
        "a Host or target that could inject into Location is refused with 400, never redirected",
        arguments: [
            ("evil.test/x", "/"), ("a@b", "/"), ("gw.test:99999x", "/"), ("[::1", "/"), ("", "/"),
            ("gw.test", "/a/../../b"), ("gw.test", "/a%2Fb"), ("gw.test", "http://evil/"),
        ])
    func refusesInjection(host: String, target: String) throws {
        let server = try RedirectServer(httpsPort: 8443)
        defer { server.stop() }
        let response = try TestHTTPClient(port: server.port).requestRaw(
            "GET \(target) HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(response.status == 400)
        #expect(response.header("Location") == nil)
    }
}

/// An `HTTPSRedirectService` on a real socket.
private final class RedirectServer {
    let group: EventLoopGroup
    let server: HTTPServer

    init(httpsPort: Int) throws {
        group = try EventLoopGroup(threads: 1)
        server = HTTPServer(
            host: "127.0.0.1", port: 0, group: group, handler: HTTPSRedirectService(httpsPort: httpsPort),
            errorHeaders: GatewayService.serverErrorHeaders)
        try server.start()
    }

    var port: Int { server.port }

    func stop() {
        server.shutdown(deadline: .milliseconds(200))
        group.shutdown()
    }
}
