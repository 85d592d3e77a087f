import Dispatch
import HTTPCodec
import Net
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A streaming handler for tests, chosen by path:
/// `/echo` reads the body and answers `n=<bytes> parts=<deliveries>`; `/deny` answers 401 without reading;
/// `/stream/N` and `/stream-unknown/N` answer N pattern bytes (length known or not) while the connection is
/// writable; `/nocontent` answers 204 and tries to write a body; `/notmodified` answers 304 with a length.
final class StreamingTestHandler: HTTPStreamingHandler {
    struct Stats {
        var produced = 0
        var closed = 0
        var pausedOnce = false
        var bodyBytes = 0
    }

    let stats = Mutex(Stats())

    func handle(_ request: HTTPRequest, stream: any HTTPServerStream) {
        let path = String(request.path)
        if path == "/echo" {
            let counter = BodyCounter(stream: stream, handler: self)
            stream.delegate = counter
            stream.readBody()
        } else if path == "/late" {
            // Decides later, elsewhere, as a handler waiting on a store or a limiter would.
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(300)) {
                stream.loop.execute { Producer(stream: stream, handler: self, total: 1 << 20, known: true).start() }
            }
        } else if path == "/deny" {
            stream.respond(HTTPResponse(status: 401, body: Array("denied".utf8)))
        } else if path.hasPrefix("/stream") {
            let total = Int(path.split(separator: "/").last ?? "0") ?? 0
            Producer(stream: stream, handler: self, total: total, known: !path.hasPrefix("/stream-unknown")).start()
        } else if path == "/nocontent" {
            stream.writeHead(HTTPResponse(status: 204), bodyLength: .unknown)
            Producer.pattern.withUnsafeBytes { stream.writeBody(UnsafeRawBufferPointer(rebasing: $0[..<10])) }
            stream.endResponse()
        } else {
            stream.writeHead(HTTPResponse(status: 304), bodyLength: .known(50))
            stream.endResponse()
        }
    }
}

/// Counts a request body as it arrives and answers with the count once it ended.
final class BodyCounter: HTTPServerStreamDelegate {
    let stream: any HTTPServerStream
    let handler: StreamingTestHandler
    var bytes = 0
    var parts = 0

    init(stream: any HTTPServerStream, handler: StreamingTestHandler) {
        self.stream = stream
        self.handler = handler
    }

    func streamBodyReceived(_ bytes: UnsafeRawBufferPointer) {
        self.bytes += bytes.count
        parts += 1
        handler.stats.withLock { $0.bodyBytes += bytes.count }
    }

    func streamBodyEnded() {
        stream.respond(HTTPResponse(status: 200, body: Array("n=\(bytes) parts=\(parts)".utf8)))
    }

    func streamWritabilityChanged(_ writable: Bool) {}

    func streamClosed() { handler.stats.withLock { $0.closed += 1 } }
}

/// Writes `total` pattern bytes, 64 KiB at a time, only while the stream is writable.
final class Producer: HTTPServerStreamDelegate {
    static let pattern: [UInt8] = (0..<65_536).map { UInt8($0 % 251) }
    let stream: any HTTPServerStream
    let handler: StreamingTestHandler
    let total: Int
    let known: Bool
    var remaining: Int
    var closed = false

    init(stream: any HTTPServerStream, handler: StreamingTestHandler, total: Int, known: Bool) {
        self.stream = stream
        self.handler = handler
        self.total = total
        self.known = known
        self.remaining = total
    }

    func start() {
        stream.delegate = self
        stream.writeHead(HTTPResponse(status: 200), bodyLength: known ? .known(total) : .unknown)
        pump()
    }

    private func pump() {
        while remaining > 0, stream.isWritable, !closed {
            let n = min(remaining, Self.pattern.count)
            Self.pattern.withUnsafeBytes { stream.writeBody(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            remaining -= n
            handler.stats.withLock { $0.produced += n }
        }
        if remaining > 0, !closed { handler.stats.withLock { $0.pausedOnce = true } }
        if remaining == 0, !closed { stream.endResponse() }
    }

    func streamBodyReceived(_ bytes: UnsafeRawBufferPointer) {}

    func streamBodyEnded() {}

    func streamWritabilityChanged(_ writable: Bool) {
        if writable { pump() }
    }

    func streamClosed() {
        closed = true
        handler.stats.withLock { $0.closed += 1 }
    }
}

/// One response read from a socket with the streaming parser, its body counted rather than kept.
struct CountedResponse {
    var status = 0
    var headers = HTTPHeaders()
    var bodyBytes = 0
    /// Whether the body's bytes followed `Producer.pattern`.
    var patternIntact = true
    var closedByPeer = false
}

extension TestClient {
    /// Reads one response, counting its body; `stopAfter` stops reading once that many body bytes arrived.
    func readCounted(method: String = "GET", stopAfter: Int = .max) -> CountedResponse {
        var parser = HTTPResponseParser(limits: HTTPParserLimits(maxBodyBytes: .max))
        parser.expectResponse(toMethod: method)
        var result = CountedResponse()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var headDone = false
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 {
                result.closedByPeer = true
                if headDone, (try? parser.finishBody()) == true { return result }
                return result
            }
            buffer.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            if !headDone {
                guard let head = try? parser.nextHead() else { continue }
                headDone = true
                result.status = head.response.status
                result.headers = head.response.headers
                if head.bodyLength == .none { return result }
            }
            let done =
                (try? parser.readBody { bytes in
                    // The first and last byte of each delivery: cheap, yet catches a lost, doubled or framing byte.
                    let first = result.bodyBytes
                    let last = first + bytes.count - 1
                    if bytes[0] != UInt8(first % 65_536 % 251) || bytes[bytes.count - 1] != UInt8(last % 65_536 % 251) {
                        result.patternIntact = false
                    }
                    result.bodyBytes += bytes.count
                }) ?? true
            if done || result.bodyBytes >= stopAfter { return result }
        }
    }
}
