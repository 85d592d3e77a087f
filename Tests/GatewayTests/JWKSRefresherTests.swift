import Auth
import Crypto
import Foundation
import Gateway
import HTTPCodec
import Net
import PortalCore
import Synchronization
import Telemetry
import Testing

/// Answers with the current document (or a status), counting requests.
final class JWKSDocumentHandler: HTTPHandler {
    let state = Mutex<(document: String, status: Int, requests: Int)>(("{\"keys\":[]}", 200, 0))

    func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        let (document, status) = state.withLock { state in
            state.requests += 1
            return (state.document, state.status)
        }
        respond(HTTPResponse(status: status, headers: HTTPHeaders(), body: Array(document.utf8)))
    }
}

/// A key server on 127.0.0.1: `GET /jwks` answers the document set with `serve`.
final class JWKSServer {
    let handler = JWKSDocumentHandler()
    let group: EventLoopGroup
    let server: HTTPServer

    init() throws {
        group = try EventLoopGroup(threads: 1)
        server = HTTPServer(host: "127.0.0.1", port: 0, group: group, handler: handler)
        try server.start()
    }

    var url: String { "http://127.0.0.1:\(server.port)/jwks" }
    var requests: Int { handler.state.withLock { $0.requests } }

    func serve(_ document: String, status: Int = 200) {
        handler.state.withLock {
            $0.document = document
            $0.status = status
        }
    }

    func stop() {
        server.shutdown(deadline: .milliseconds(200))
        group.shutdown()
    }

    /// A JWKS document of HS256 `oct` keys, each `(kid, secret)`.
    static func document(_ keys: [(String, [UInt8])]) -> String {
        let entries = keys.map { kid, secret in
            #"{"kty":"oct","alg":"HS256","use":"sig","kid":"\#(kid)","k":"\#(Base64URL.encode(secret))"}"#
        }
        return #"{"keys":[\#(entries.joined(separator: ","))]}"#
    }
}

@Suite("JWKS_URL refresh through the gateway")
struct JWKSRefresherTests {
    static let keyA = ("key-a", Array("jwks-secret-a-of-at-least-thirty-two-bytes".utf8))
    static let keyB = ("key-b", Array("jwks-secret-b-of-at-least-thirty-two-bytes".utf8))

    /// An HS256 token with `kid`, valid for an hour from `clock`.
    static func token(_ key: (String, [UInt8]), clock: ManualClock) -> String {
        let now = clock.unixSeconds()
        let header = #"{"alg":"HS256","typ":"JWT","kid":"\#(key.0)"}"#
        let payload = #"{"sub":"svc","scope":"events:read","iat":\#(now),"exp":\#(now + 3600)}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(HMAC.authenticationCode(for: Array(input.utf8), key: key.1))
    }

    private static func gateway(_ keys: JWKSServer) throws -> (GatewayHarness, JWKSRefresher) {
        let box = Mutex<JWKSRefresher?>(nil)
        let url = keys.url
        var options = GatewayHarness.Options()
        options.makeAuth = { clock in
            let ring = JWTKeyRing(fixedKeys: [], clock: clock)
            let refresher = JWKSRefresher(
                configuration: JWKSRefresher.Configuration(
                    url: url, refreshSeconds: 3600, minimumIntervalSeconds: 30, timeoutSeconds: 2),
                ring: ring, clock: clock, logger: Logger(level: .error, sink: MemoryLogSink()))
            box.withLock { $0 = refresher }
            return GatewayAuthentication(keyRing: ring, jwks: refresher)
        }
        let harness = try GatewayHarness(options)
        return (harness, try #require(box.withLock { $0 }))
    }

    private static func call(_ harness: GatewayHarness, _ token: String) throws -> Int {
        try harness.send("GET", "/api/v1/events", headers: [("Authorization", "Bearer \(token)")]).status
    }

    @Test("an unknown kid fetches the set again at once, but at most once per minimum interval")
    func unknownKid() throws {
        let keys = try JWKSServer()
        defer { keys.stop() }
        keys.serve(JWKSServer.document([Self.keyA]))
        let (harness, refresher) = try Self.gateway(keys)
        defer {
            refresher.stop()
            harness.shutdown()
        }
        #expect(refresher.start())
        #expect(keys.requests == 1)
        #expect(try Self.call(harness, Self.token(Self.keyA, clock: harness.clock)) == 200)

        // The key server starts publishing B; a token signed with B triggers a fetch once the interval allows.
        keys.serve(JWKSServer.document([Self.keyA, Self.keyB]))
        harness.clock.advance(seconds: 31)
        #expect(try Self.call(harness, Self.token(Self.keyB, clock: harness.clock)) == 200)
        #expect(keys.requests == 2)

        // Forged kids right after a fetch cost the key server nothing.
        let forged = ("key-forged", Array("forged-secret-of-at-least-thirty-two-bytes".utf8))
        for _ in 0..<5 { #expect(try Self.call(harness, Self.token(forged, clock: harness.clock)) == 401) }
        #expect(keys.requests == 2)
        harness.clock.advance(seconds: 31)
        #expect(try Self.call(harness, Self.token(forged, clock: harness.clock)) == 401)
        #expect(keys.requests == 3)
    }

    @Test("a failed fetch or a document without usable keys keeps the last good set")
    func failureKeepsLastGood() throws {
        let keys = try JWKSServer()
        defer { keys.stop() }
        keys.serve(JWKSServer.document([Self.keyA]))
        let (harness, refresher) = try Self.gateway(keys)
        defer {
            refresher.stop()
            harness.shutdown()
        }
        #expect(refresher.start())
        for (document, status) in [("oops", 500), ("not json", 200), (#"{"keys":[{"kty":"oct"}]}"#, 200)] {
            keys.serve(document, status: status)
            harness.clock.advance(seconds: 31)
            let before = keys.requests
            #expect(try Self.call(harness, Self.token(Self.keyB, clock: harness.clock)) == 401)
            #expect(keys.requests == before + 1)
            #expect(try Self.call(harness, Self.token(Self.keyA, clock: harness.clock)) == 200)
        }
    }

    @Test("a key server that is down at start leaves the gateway up, refusing tokens until a fetch succeeds")
    func downAtStart() throws {
        let keys = try JWKSServer()
        defer { keys.stop() }
        keys.serve("down", status: 503)
        let (harness, refresher) = try Self.gateway(keys)
        defer {
            refresher.stop()
            harness.shutdown()
        }
        #expect(!refresher.start())
        #expect(try Self.call(harness, Self.token(Self.keyA, clock: harness.clock)) == 401)
        keys.serve(JWKSServer.document([Self.keyA]))
        harness.clock.advance(seconds: 31)
        #expect(try Self.call(harness, Self.token(Self.keyA, clock: harness.clock)) == 200)
    }
}
