/// An incremental parser for responses from an upstream, one exchange at a time.
///
/// Call `expectResponse(toMethod:)` before each request is sent, feed bytes, and call `next()`; at end of
/// stream call `finish()`, which completes a body delimited by the connection's close. Interim 1xx responses
/// are skipped; responses to HEAD and 204/304 responses have no body. Framing follows RFC 9112 §6.3 strictly:
/// both `Content-Length` and `Transfer-Encoding`, or a coding other than a final `chunked`, is an error.
public struct HTTPResponseParser: Sendable {
    enum Framing {
        case none, length(Int), chunked, untilClose
    }

    enum State {
        case head
        case length(HTTPResponse, remaining: Int)
        case chunked(HTTPResponse, ChunkedDecoder)
        case untilClose(HTTPResponse)
        /// Streaming (`nextHead()`/`readBody(_:)`): body bytes still to hand over.
        case streamingLength(remaining: Int)
        case streamingChunked(ChunkedDecoder)
        case streamingUntilClose
        case failed(HTTPParseError)
    }

    /// The limits this parser enforces; `maxBodyBytes` bounds the response body.
    public let limits: HTTPParserLimits
    var buffer: [UInt8] = []
    var readIndex = 0
    var scanner: HeadScanner
    var state = State.head
    var isHeadRequest = false
    /// Whether the connection may carry another exchange after the last complete response.
    public internal(set) var lastResponseKeepAlive = false
    /// The `Content-Length` of the last head, even where no body follows it (HEAD, 304); nil without one.
    public internal(set) var lastDeclaredLength: Int?

    /// A parser with `limits`; the default bounds the body to 64 MiB.
    public init(limits: HTTPParserLimits = HTTPParserLimits(maxBodyBytes: 64 * 1024 * 1024)) {
        self.limits = limits
        scanner = HeadScanner(maxStartLineBytes: 1024, startLineError: .badStartLine, limits: limits)
    }

    /// Whether any byte of the awaited response has arrived.
    public var hasReceivedBytes: Bool {
        if case .head = state { return readIndex < buffer.count }
        return true
    }

    /// Prepares for the response to a request with `method` (a HEAD response carries no body).
    public mutating func expectResponse(toMethod method: String) {
        isHeadRequest = method == "HEAD"
    }

    /// Appends received bytes.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 16 * 1024 {
            // A streamed body leaves at most a partial chunk line behind: drop what was handed over.
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes.
    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The complete response, or nil when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPResponse? {
        do {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// At end of stream: the response whose body ran to the close, or nil if none was in progress.
    /// - Throws: `truncated` when a head or a framed body was cut short.
    public mutating func finish() throws(HTTPParseError) -> HTTPResponse? {
        switch state {
        case .untilClose(var response):
            response.body.append(contentsOf: buffer[readIndex...])
            readIndex = buffer.count
            state = .head
            lastResponseKeepAlive = false
            guard response.body.count <= limits.maxBodyBytes else { throw HTTPParseError(.bodyTooLarge) }
            return response
        case .head where readIndex == buffer.count:
            return nil
        case .failed(let error):
            throw error
        default:
            state = .failed(HTTPParseError(.truncated))
            throw HTTPParseError(.truncated)
        }
    }

    private mutating func step() throws(HTTPParseError) -> HTTPResponse? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .streamingLength, .streamingChunked, .streamingUntilClose:
                preconditionFailure("next() called while a streamed body is still being read")
            case .head:
                guard try parseHeadIfComplete() else { return nil }
            case .length(var response, let remaining):
                let take = min(remaining, buffer.count - readIndex)
                response.body.append(contentsOf: buffer[readIndex..<readIndex + take])
                readIndex += take
                if take == remaining {
                    state = .head
                    return response
                }
                state = .length(response, remaining: remaining - take)
                return nil
            case .chunked(var response, var decoder):
                state = .head
                let start = readIndex
                let result = try buffer.withUnsafeBytes { all in
                    Result { () throws(HTTPParseError) in
                        try decoder.decode(UnsafeRawBufferPointer(rebasing: all[start...]), into: &response.body)
                    }
                }.get()
                readIndex += result.consumed
                if result.done { return response }
                state = .chunked(response, decoder)
                return nil
            case .untilClose(var response):
                response.body.append(contentsOf: buffer[readIndex...])
                readIndex = buffer.count
                guard response.body.count <= limits.maxBodyBytes else { throw HTTPParseError(.bodyTooLarge) }
                state = .untilClose(response)
                return nil
            }
        }
    }
}
