import Foundation
import HTTPCodec
import Net
import Testing

@Suite("UpstreamClient: no retry once a body byte reached a socket")
struct UpstreamBodyRetryTests {
    /// A PUT is idempotent, but its body went out with its head on the stale connection: the bytes are no longer
    /// held anywhere to send again, and the upstream may have read them, so it fails rather than being replayed.
    @Test("an idempotent PUT whose body went out on a stale pooled connection fails with closedEarly")
    func putWithBodyIsNotRetried() async throws {
        let upstream = StaleAfterOneUpstream()
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let client = UpstreamClient.patient()
        let loop = group.loops[0]
        let get = HTTPRequest(method: "GET", target: "/one", headers: HTTPHeaders([("Host", "u")]))
        let first = try await UpstreamClientTests.call(client, get, port: upstream.port, loop: loop)
        #expect(try first.get().body == Array("first".utf8))
        var put = HTTPRequest(method: "PUT", target: "/p", headers: HTTPHeaders([("Host", "u")]))
        put.body = Array("data".utf8)
        let second = try await UpstreamClientTests.call(client, put, port: upstream.port, loop: loop)
        #expect(throws: UpstreamError(.closedEarly)) { try second.get() }
        #expect(upstream.accepted.load(ordering: .relaxed) == 1)
        #expect(upstream.requestLines.withLock { $0 } == ["GET /one HTTP/1.1", "PUT /p HTTP/1.1"])
    }
}
