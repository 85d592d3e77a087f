import Config
import Foundation
import HTTPCodec
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Bodies streamed through the gateway over real sockets, with scripted upstreams on threads of their own.
@Suite("Gateway streaming: bodies, backpressure, early answers and failures")
struct GatewayStreamingTests {
    static let pattern: [UInt8] = (0..<65_536).map { UInt8($0 % 251) }

    /// A public route `prefix` to `upstream`, for GET, HEAD and POST.
    static func route(_ prefix: String, _ upstream: ScriptedUpstream) -> Route {
        Route(
            prefix: prefix, upstream: UpstreamURL(host: "127.0.0.1", port: upstream.port),
            scopesByMethod: ["GET": [], "HEAD": [], "POST": []], isPublic: true)
    }

    static func harness(
        _ routes: [Route], maxBodyBytes: Int = 1 << 20, upstreamTimeoutMilliseconds: UInt64 = 5_000
    ) throws -> GatewayHarness {
        var options = GatewayHarness.Options()
        options.extraRoutes = routes
        options.maxBodyBytes = maxBodyBytes
        options.upstreamTimeoutMilliseconds = upstreamTimeoutMilliseconds
        return try GatewayHarness(options)
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    @Test(
        "chunked and close-delimited upstream bodies reach HTTP/1.1 clients chunked, HTTP/1.0 ones by the close",
        arguments: [(true, "1.1"), (true, "1.0"), (false, "1.1"), (false, "1.0")])
    func relayFraming(upstreamChunked: Bool, clientVersion: String) throws {
        let body = Array(Self.pattern[..<50_000]) + Self.pattern + Array(Self.pattern[..<1_234])
        let upstream = try ScriptedUpstream { peer in
            guard peer.readHead() != nil else { return }
            if upstreamChunked {
                peer.send("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n")
                peer.send("Transfer-Encoding: chunked\r\n\r\n")
                for part in [body[..<50_000], body[50_000..<115_536], body[115_536...]] {
                    peer.send(String(part.count, radix: 16) + "\r\n")
                    peer.send(Array(part) + Array("\r\n".utf8))
                }
                peer.send("0\r\n\r\n")
            } else {
                peer.send("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")
                peer.send(body)
            }
        }
        defer { upstream.stop() }
        let harness = try Self.harness([Self.route("/s", upstream)])
        defer { harness.shutdown() }
        let client = try StreamClient(port: harness.gateway.port)
        client.peer.send("GET /s/file HTTP/\(clientVersion)\r\nHost: gw\r\n\r\n")
        let answer = client.read()
        #expect(answer.status == 200)
        #expect(answer.complete && answer.body == body)
        #expect(answer.header("X-Content-Type-Options") == "nosniff")
        if clientVersion == "1.1" {
            #expect(answer.header("Transfer-Encoding") == "chunked")
            #expect(!answer.closed)
        } else {
            #expect(answer.header("Transfer-Encoding") == nil && answer.header("Connection") == "close")
            #expect(answer.closed)
        }
    }

    @Test("a client that stops reading stops the gateway reading its upstream; when it leaves, the upstream is closed")
    func slowReaderThenDisconnect() throws {
        let sent = Shared(0)
        let finished = Shared(-1)
        let total = 1 << 30
        let upstream = try ScriptedUpstream { peer in
            guard peer.readHead() != nil else { return }
            peer.send("HTTP/1.1 200 OK\r\nContent-Length: \(total)\r\n\r\n")
            let count = peer.sendRepeated(Self.pattern, total: total, sent: sent)
            finished.update { $0 = count }
        }
        defer { upstream.stop() }
        let harness = try Self.harness([Self.route("/s", upstream)])
        defer { harness.shutdown() }
        var client: StreamClient? = try StreamClient(port: harness.gateway.port, receiveBufferBytes: 65_536)
        client?.peer.send("GET /s/big HTTP/1.1\r\nHost: gw\r\n\r\n")
        let first = client?.read(keep: 0, stopAfter: 1 << 20)
        #expect(first?.status == 200 && first?.header("Content-Length") == "\(total)")
        // The client reads nothing more: the upstream's sending must come to a halt far short of the whole body.
        usleep(1_500_000)
        let stalled = sent.value
        usleep(500_000)
        let later = sent.value
        #expect(later - stalled < 1 << 20, "the upstream kept sending: \(stalled) then \(later)")
        #expect(later < 128 << 20, "the gateway took \(later) bytes of a body its client did not read")
        client = nil
        #expect(Self.eventually { finished.value >= 0 })
        #expect(finished.value < total)
        // Counted once, with the status its head carried.
        let series = #"http_requests_total{method="GET",route="/s",status="200"}"#
        #expect(Self.eventually { (try? harness.metric(series)) == 1 })
    }

    @Test("uploads stream to the upstream, by length and chunked, up to a raised MAX_BODY_SIZE")
    func uploads() throws {
        let upstream = try ScriptedUpstream { peer in
            while let request = peer.readRequest() {
                let chunked = request.head.request.headers.first("Transfer-Encoding") == "chunked"
                let text = "n=\(request.bodyBytes) chunked=\(chunked)"
                peer.send("HTTP/1.1 200 OK\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)")
            }
        }
        defer { upstream.stop() }
        let harness = try Self.harness([Self.route("/s", upstream)], maxBodyBytes: 64 << 20)
        defer { harness.shutdown() }
        let client = try StreamClient(port: harness.gateway.port)
        let length = 32 << 20
        client.peer.send("POST /s/up HTTP/1.1\r\nHost: gw\r\nContent-Length: \(length)\r\n\r\n")
        let peer = client.peer
        Thread.detachNewThread { _ = peer.sendRepeated(Self.pattern, total: length) }
        let byLength = client.read(method: "POST")
        #expect(byLength.status == 200 && String(decoding: byLength.body, as: UTF8.self) == "n=\(length) chunked=false")

        client.peer.send("POST /s/up HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<64 {
            client.peer.send("10000\r\n")
            client.peer.send(Self.pattern + Array("\r\n".utf8))
        }
        client.peer.send("0\r\n\r\n")
        let chunked = client.read(method: "POST")
        #expect(chunked.status == 200 && String(decoding: chunked.body, as: UTF8.self) == "n=\(64 << 16) chunked=true")
    }

    @Test("an upstream that stops reading an upload stops the gateway reading the client")
    func uploadBackpressure() throws {
        let release = DispatchSemaphore(value: 0)
        let upstream = try ScriptedUpstream { peer in
            guard peer.readHead() != nil else { return }
            release.wait()
            let taken = peer.drain(512 << 20)
            peer.send("HTTP/1.1 200 OK\r\nContent-Length: \(String(taken).utf8.count)\r\n\r\n\(taken)")
        }
        defer { upstream.stop() }
        let harness = try Self.harness([Self.route("/s", upstream)], maxBodyBytes: 1 << 30)
        defer { harness.shutdown() }
        let client = try StreamClient(port: harness.gateway.port, timeoutSeconds: 30)
        let total = 512 << 20
        client.peer.send("POST /s/up HTTP/1.1\r\nHost: gw\r\nContent-Length: \(total)\r\n\r\n")
        let sent = Shared(0)
        let peer = client.peer
        Thread.detachNewThread { _ = peer.sendRepeated(Self.pattern, total: total, sent: sent) }
        usleep(1_500_000)
        let stalled = sent.value
        usleep(500_000)
        let later = sent.value
        #expect(later - stalled < 1 << 20, "the client kept sending: \(stalled) then \(later)")
        #expect(later < 160 << 20, "the gateway took \(later) bytes its upstream did not read")
        release.signal()
        let answer = client.read(method: "POST")
        #expect(answer.status == 200 && String(decoding: answer.body, as: UTF8.self) == "\(total)")
    }

    @Test("a request refused before the proxy is answered without its body being read, then the connection closes")
    func refusedBeforeBody() throws {
        let harness = try Self.harness([], maxBodyBytes: 1 << 30)
        defer { harness.shutdown() }
        for expect in ["Expect: 100-continue\r\n", ""] {
            let client = try StreamClient(port: harness.gateway.port)
            client.peer.send("POST /echo/x HTTP/1.1\r\nHost: gw\r\n\(expect)Content-Length: 1073741824\r\n\r\n")
            if expect.isEmpty { client.peer.send(Self.pattern) }
            let answer = client.read(method: "POST")
            #expect(answer.status == 401, "\(expect)")
            #expect(answer.header("Connection") == "close")
            #expect(client.waitForClose())
        }
        #expect(harness.fake.seen.isEmpty)
    }

    @Test("MAX_BODY_SIZE: a declared length past it is 413; a chunked upload past it closes both connections")
    func uploadLimit() throws {
        // The upstream may get part of the body, or nothing at all when the limit is passed in the same read.
        let upstreamSaw = Shared<(done: Bool, request: PeerSocket.ReceivedRequest?)>((false, nil))
        let upstream = try ScriptedUpstream { peer in
            let request = peer.readRequest()
            upstreamSaw.update { $0 = (true, request) }
        }
        defer { upstream.stop() }
        let harness = try Self.harness([Self.route("/s", upstream)], maxBodyBytes: 100_000)
        defer { harness.shutdown() }
        let declared = try StreamClient(port: harness.gateway.port)
        declared.peer.send("POST /s/up HTTP/1.1\r\nHost: gw\r\nContent-Length: 100001\r\n\r\n")
        #expect(declared.read(method: "POST").status == 413)

        let client = try StreamClient(port: harness.gateway.port)
        client.peer.send("POST /s/up HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<2 { client.peer.send("ea60\r\n" + String(repeating: "x", count: 60_000) + "\r\n") }
        #expect(client.waitForClose())
        #expect(Self.eventually { upstreamSaw.value.done || upstream.accepted.value == 0 })
        let seen = upstreamSaw.value.request
        #expect(seen?.complete != true)
        #expect((seen?.bodyBytes ?? 0) <= 100_000)
    }

    @Test("the upstream timeout is 504 before the head; after the head a stalled upstream closes the client")
    func upstreamTimeouts() throws {
        let slow = try ScriptedUpstream { peer in
            guard peer.readHead() != nil else { return }
            usleep(3_000_000)
        }
        let stalling = try ScriptedUpstream { peer in
            guard peer.readHead() != nil else { return }
            peer.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "y", count: 100))
            usleep(3_000_000)
        }
        defer {
            slow.stop()
            stalling.stop()
        }
        let harness = try Self.harness(
            [Self.route("/slow", slow), Self.route("/stall", stalling)], upstreamTimeoutMilliseconds: 500)
        defer { harness.shutdown() }
        let started = Date()
        let before = try StreamClient(port: harness.gateway.port)
        before.peer.send("GET /slow HTTP/1.1\r\nHost: gw\r\n\r\n")
        let gatewayTimeout = before.read()
        #expect(gatewayTimeout.status == 504)
        let after = try StreamClient(port: harness.gateway.port)
        after.peer.send("GET /stall HTTP/1.1\r\nHost: gw\r\n\r\n")
        let cut = after.read()
        #expect(cut.status == 200 && cut.bodyBytes == 100 && !cut.complete && cut.closed)
        #expect(Date().timeIntervalSince(started) < 2.9)
    }

    @Test("a client that leaves before the head closes the upstream connection and is counted once, as 499")
    func clientLeavesBeforeHead() throws {
        let upstreamClosed = Shared(false)
        let upstream = try ScriptedUpstream { peer in
            guard peer.readHead() != nil else { return }
            _ = peer.drain()
            upstreamClosed.update { $0 = true }
        }
        defer { upstream.stop() }
        let harness = try Self.harness([Self.route("/s", upstream)])
        defer { harness.shutdown() }
        var client: StreamClient? = try StreamClient(port: harness.gateway.port)
        client?.peer.send("GET /s/wait HTTP/1.1\r\nHost: gw\r\n\r\n")
        #expect(Self.eventually { upstream.accepted.value == 1 })
        client = nil
        #expect(Self.eventually { upstreamClosed.value })
        let series = #"http_requests_total{method="GET",route="/s",status="499"}"#
        #expect(Self.eventually { (try? harness.metric(series)) == 1 })
    }

    @Test("a streamed answer read whole returns its upstream connection to the pool; HEAD keeps its length")
    func pooledAfterWholeAnswer() throws {
        let upstream = try ScriptedUpstream { peer in
            while let head = peer.readHead() {
                peer.send("HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n")
                if !head.hasPrefix("HEAD ") { _ = peer.sendRepeated(Self.pattern, total: 300_000) }
            }
        }
        defer { upstream.stop() }
        let harness = try Self.harness([Self.route("/s", upstream)])
        defer { harness.shutdown() }
        let client = try StreamClient(port: harness.gateway.port)
        for method in ["GET", "HEAD", "GET"] {
            client.peer.send("\(method) /s/a HTTP/1.1\r\nHost: gw\r\n\r\n")
            let answer = client.read(method: method, keep: 0)
            #expect(answer.status == 200 && answer.complete, "\(method)")
            #expect(answer.header("Content-Length") == "300000")
            #expect(answer.bodyBytes == (method == "HEAD" ? 0 : 300_000))
        }
        #expect(upstream.accepted.value == 1)
    }
}

extension GatewayStreamingTests {
    @Test("Expect: 100-continue is answered by the gateway once the request is allowed, and not forwarded")
    func continueAnsweredByGateway() throws {
        let upstream = try ScriptedUpstream { peer in
            guard let request = peer.readRequest() else { return }
            let text = "n=\(request.bodyBytes) expect=\(request.head.request.headers.first("Expect") ?? "none")"
            peer.send("HTTP/1.1 200 OK\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)")
        }
        defer { upstream.stop() }
        let harness = try Self.harness([Self.route("/s", upstream)])
        defer { harness.shutdown() }
        let client = try StreamClient(port: harness.gateway.port)
        client.peer.send("POST /s/up HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        // The 100 comes before any body byte is sent (the client waits for it).
        #expect(client.peer.readHead() == "HTTP/1.1 100 Continue\r\n\r\n")
        client.peer.send("hello")
        let answer = client.read(method: "POST")
        #expect(answer.status == 200 && String(decoding: answer.body, as: UTF8.self) == "n=5 expect=none")
    }
}
