import Foundation
import Synchronization
import Testing

/// Samples a process's resident set on a thread of its own and keeps the peak.
final class ResidentSampler: @unchecked Sendable {
    private let pid: Int32
    private let state = Mutex<(peak: Int, running: Bool)>((0, true))
    private let finished = DispatchSemaphore(value: 0)

    init(pid: Int32) {
        self.pid = pid
        Thread.detachNewThread { [self] in
            while state.withLock({ $0.running }) {
                if let rss = residentBytes(of: pid) { state.withLock { $0.peak = max($0.peak, rss) } }
                usleep(10_000)
            }
            finished.signal()
        }
    }

    /// Stops sampling and returns the largest resident set seen.
    func stop() -> Int {
        state.withLock { $0.running = false }
        finished.wait()
        return state.withLock { $0.peak }
    }
}

/// `portal serve` proxying large bodies to a loopback upstream, its memory read from /proc.
@Suite("portal serve streams bodies with flat memory", .serialized)
struct StreamingMemoryTests {
    /// The issue's bound: RSS within 10 MiB of where it stood before the transfer.
    static let budget = 10 * 1024 * 1024
    static let size = 256 << 20

    /// `portal serve` with public routes `/down` (GET) and `/up` (POST) to `upstream` and a 1 GiB body limit.
    static func start(upstream: LoopbackUpstream) throws -> (RunningPortal, port: Int, URL) {
        let dir = try PortalProcess.temporaryDirectory()
        let config = dir.appendingPathComponent("routes.json")
        let base = "http://127.0.0.1:\(upstream.port)"
        try #"""
        {"routes": [{"prefix": "/down", "upstream": "\#(base)", "methods": ["GET"], "public": true},
                    {"prefix": "/up", "upstream": "\#(base)", "methods": ["POST"], "public": true}]}
        """#.write(to: config, atomically: true, encoding: .utf8)
        var env = PortalProcess.baseEnvironment(dataDirectory: dir)
        env["PORTAL_CONFIG"] = config.path
        env["MAX_BODY_SIZE"] = "1073741824"
        env["RATE_LIMIT_REQUESTS_PER_MINUTE"] = "100000"
        let portal = try RunningPortal(
            environment: env, directory: dir, expectedListeners: ["gateway", "admin", "data layer"])
        return (portal, try #require(portal.ports["gateway"]), dir)
    }

    /// Downloads `bytes` from `/down`; returns the body bytes received.
    static func download(port: Int, bytes: Int) throws -> Int {
        let client = try RawClient(port: port)
        client.send("GET /down/\(bytes) HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
        let (total, start) = client.receive(atLeast: .max)
        let head = String(decoding: start, as: UTF8.self).components(separatedBy: "\r\n\r\n").first ?? ""
        return head.hasPrefix("HTTP/1.1 200 ") ? total - head.utf8.count - 4 : -1
    }

    /// Uploads `bytes` to `/up`; returns the upstream's count (`n=` of its answer), or -1.
    static func upload(port: Int, bytes: Int) throws -> Int {
        let client = try RawClient(port: port)
        client.send("POST /up/x HTTP/1.1\r\nHost: gw\r\nContent-Length: \(bytes)\r\nConnection: close\r\n\r\n")
        var sent = 0
        while sent < bytes {
            let n = min(LoopbackUpstream.pattern.count, bytes - sent)
            guard client.send(Array(LoopbackUpstream.pattern[..<n])) else { return -1 }
            sent += n
        }
        let text = String(decoding: client.receive(atLeast: .max).start, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200 "), let n = text.components(separatedBy: "n=").last else { return -1 }
        return Int(n) ?? -1
    }

    @Test("RSS stays within 10 MiB while 256 MiB stream down through the gateway, then while 256 MiB stream up")
    func flatMemoryBothWays() throws {
        let upstream = try LoopbackUpstream()
        defer { upstream.stop() }
        let (portal, port, dir) = try Self.start(upstream: upstream)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pid = portal.process.processIdentifier
        // Warm up both paths, so buffers and allocator arenas that stay are in the baseline.
        #expect(try Self.download(port: port, bytes: 16 << 20) == 16 << 20)
        #expect(try Self.upload(port: port, bytes: 16 << 20) == 16 << 20)
        usleep(200_000)
        let baseline = try #require(residentBytes(of: pid))

        let down = ResidentSampler(pid: pid)
        let downloaded = try Self.download(port: port, bytes: Self.size)
        let downPeak = down.stop()
        #expect(downloaded == Self.size)
        #expect(downPeak - baseline <= Self.budget, "download: RSS \(baseline) → peak \(downPeak)")

        let up = ResidentSampler(pid: pid)
        let uploaded = try Self.upload(port: port, bytes: Self.size)
        let upPeak = up.stop()
        #expect(uploaded == Self.size)
        #expect(upPeak - baseline <= Self.budget, "upload: RSS \(baseline) → peak \(upPeak)")
        #expect(portal.terminate() == 0)
    }

    @Test("a client that stops reading a 1 GiB download holds no memory; when it leaves, the upstream is let go")
    func slowReader() throws {
        let upstream = try LoopbackUpstream()
        defer { upstream.stop() }
        let (portal, port, dir) = try Self.start(upstream: upstream)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pid = portal.process.processIdentifier
        #expect(try Self.download(port: port, bytes: 16 << 20) == 16 << 20)
        usleep(200_000)
        let baseline = try #require(residentBytes(of: pid))

        let sampler = ResidentSampler(pid: pid)
        var client: RawClient? = try RawClient(port: port, receiveBufferBytes: 65_536)
        client?.send("GET /down/1073741824 HTTP/1.1\r\nHost: gw\r\n\r\n")
        let firstBytes = client?.receive(atLeast: 1 << 20).start ?? []
        let firstText = String(decoding: firstBytes, as: UTF8.self)
        #expect(firstText.hasPrefix("HTTP/1.1 200 "))
        // The client reads nothing for two seconds while the upstream has a gigabyte to give.
        usleep(2_000_000)
        let peak = sampler.stop()
        #expect(peak - baseline <= Self.budget, "stalled client: RSS \(baseline) → peak \(peak)")
        #expect(upstream.handler.abandoned.load(ordering: .relaxed) == 0)
        client = nil
        var abandoned = 0
        for _ in 0..<250 where abandoned == 0 {
            usleep(20_000)
            abandoned = upstream.handler.abandoned.load(ordering: .relaxed)
        }
        #expect(abandoned == 1)
        #expect(portal.terminate() == 0)
    }
}
