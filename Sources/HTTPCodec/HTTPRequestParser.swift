/// An incremental, strict HTTP/1.1 request parser (RFC 9112) over bytes.
///
/// Feed bytes as they arrive with `feed(_:)`, then call `next()` until it returns nil ("need more").
/// Each request is returned whole, its body read and de-chunked. After an error every later call
/// throws the same error: the connection must be answered with `error.status` and closed.
public struct HTTPRequestParser: Sendable {
    /// Where the parser stands between two calls, for choosing the timeout that applies.
    public enum Phase: Sendable, Equatable {
        /// No byte of a next request has arrived.
        case idle
        /// Part of a request head has arrived.
        case head
        /// The head is complete; the body is still arriving.
        case body
    }

    enum Framing {
        case none
        case length(Int)
        case chunked
    }

    enum State {
        case head
        case body(HTTPRequest, remaining: Int)
        case chunked(HTTPRequest, ChunkedDecoder)
        /// Streaming (`nextHead()`/`readBody(_:)`): body bytes still to hand over.
        case streamingLength(remaining: Int)
        case streamingChunked(ChunkedDecoder)
        case failed(HTTPParseError)
    }

    /// The limits this parser enforces.
    public let limits: HTTPParserLimits
    var buffer: [UInt8] = []
    var readIndex = 0
    private var scanner: HeadScanner
    var state = State.head
    var continueOwed = false

    /// A parser with `limits` (defaults: 16 KiB head, 100 fields, 8 KiB target, 1 MiB body).
    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
        // The request line holds a method, the target and a version: allow the target plus slack.
        scanner = HeadScanner(
            maxStartLineBytes: limits.maxTargetBytes + 64, startLineError: .targetTooLong,
            limits: limits)
    }

    /// Bytes received but not yet returned as part of a request.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Where the parser stands: idle, inside a head, or inside a body.
    public var phase: Phase {
        switch state {
        case .head, .failed: bufferedByteCount == 0 ? .idle : .head
        case .body, .chunked, .streamingLength, .streamingChunked: .body
        }
    }

    /// Whether the client is waiting for `100 Continue` before it sends the body now being read.
    ///
    /// True at most once per request, and only while its body is incomplete: the caller should then
    /// write `HTTP/1.1 100 Continue` (after any answers still owed) and read on.
    public mutating func takeContinueRequest() -> Bool {
        defer { continueOwed = false }
        return continueOwed && phase == .body
    }

    /// Appends received bytes.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 16 * 1024 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes.
    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next complete request, or nil when more bytes are needed.
    /// - Throws: `HTTPParseError` for a request that breaks the rules or a limit; then always the same.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        do {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> HTTPRequest? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .streamingLength, .streamingChunked:
                preconditionFailure("next() called while a streamed body is still being read")
            case .head:
                guard let (request, framing, expectsContinue) = try parseHeadIfComplete() else { return nil }
                continueOwed = expectsContinue
                switch framing {
                case .none: return request
                case .length(let length): state = .body(request, remaining: length)
                case .chunked: state = .chunked(request, ChunkedDecoder(limits: limits))
                }
            case .body(var request, let remaining):
                let take = min(remaining, bufferedByteCount)
                if take > 0 {
                    request.body.append(contentsOf: buffer[readIndex..<readIndex + take])
                    readIndex += take
                }
                if take == remaining {
                    state = .head
                    return request
                }
                state = .body(request, remaining: remaining - take)
                return nil
            case .chunked(var request, var decoder):
                // Release the state's copy so that appending to the body does not copy it.
                state = .head
                let start = readIndex
                let result = try buffer.withUnsafeBytes { all in
                    Result { () throws(HTTPParseError) in
                        try decoder.decode(UnsafeRawBufferPointer(rebasing: all[start...]), into: &request.body)
                    }
                }.get()
                readIndex += result.consumed
                if result.done { return request }
                state = .chunked(request, decoder)
                return nil
            }
        }
    }

    mutating func parseHeadIfComplete() throws(HTTPParseError) -> (HTTPRequest, Framing, Bool)? {
        // Empty lines before a request line are ignored (RFC 9112 §2.2), so a stray CRLF after a body is harmless.
        while bufferedByteCount >= 2, buffer[readIndex] == ByteClass.cr, buffer[readIndex + 1] == ByteClass.lf {
            readIndex += 2
        }
        let start = readIndex
        let limits = self.limits
        var scanner = self.scanner
        let parsed = try buffer.withUnsafeBytes { all in
            Result { () throws(HTTPParseError) -> (HTTPRequest, Framing, Bool, Int)? in
                let head = UnsafeRawBufferPointer(rebasing: all[start...])
                guard let length = try scanner.scan(head), let lineEnd = scanner.startLineEnd else { return nil }
                let (request, framing, expectsContinue) = try Self.parseHead(
                    UnsafeRawBufferPointer(rebasing: head[..<length]), startLineEnd: lineEnd, limits: limits)
                return (request, framing, expectsContinue, length)
            }
        }.get()
        guard let (request, framing, expectsContinue, length) = parsed else {
            self.scanner = scanner
            return nil
        }
        scanner.reset()
        self.scanner = scanner
        readIndex += length
        return (request, framing, expectsContinue)
    }
}
