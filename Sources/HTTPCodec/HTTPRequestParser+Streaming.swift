/// How a message's body is delimited, as its head declared it.
public enum HTTPBodyLength: Sendable, Equatable {
    /// No body.
    case none
    /// Exactly this many bytes (more than zero).
    case known(Int)
    /// Chunked, or (responses only) until the connection closes: the size is learned at the end.
    case unknown
}

/// A request head from `HTTPRequestParser.nextHead()`: the request (its body empty) and what follows it.
public struct HTTPRequestHead: Sendable {
    /// Method, target, version and fields; `body` is empty, the body is read with `readBody(_:)`.
    public var request: HTTPRequest
    /// The body's framing: none, a `Content-Length`, or chunked.
    public var bodyLength: HTTPBodyLength
    /// Whether the client sent `Expect: 100-continue` and waits for `100 Continue` before its body.
    public var expectsContinue: Bool
}

/// Streaming: heads one at a time, then the body handed over as it arrives, never collected.
///
/// Call `nextHead()`; when it returns a head with a body, call `readBody(_:)` after each `feed` until it
/// returns true, then `nextHead()` again. The limits apply as in `next()`: a `Content-Length` past
/// `maxBodyBytes` throws 413 at the head, a chunked body that runs past it throws 413 mid-stream.
extension HTTPRequestParser {
    /// The next request's head, or nil when more bytes are needed.
    /// - Throws: `HTTPParseError` for a head that breaks the rules or a limit; then always the same.
    public mutating func nextHead() throws(HTTPParseError) -> HTTPRequestHead? {
        switch state {
        case .failed(let error):
            throw error
        case .head:
            break
        default:
            preconditionFailure("nextHead() called before the previous body was read")
        }
        do throws(HTTPParseError) {
            guard let (request, framing, expectsContinue) = try parseHeadIfComplete() else { return nil }
            switch framing {
            case .none:
                return HTTPRequestHead(request: request, bodyLength: .none, expectsContinue: false)
            case .length(let length):
                state = .streamingLength(remaining: length)
                return HTTPRequestHead(request: request, bodyLength: .known(length), expectsContinue: expectsContinue)
            case .chunked:
                state = .streamingChunked(ChunkedDecoder(limits: limits))
                return HTTPRequestHead(request: request, bodyLength: .unknown, expectsContinue: expectsContinue)
            }
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// Whether a streamed body is being read and its next bytes are not here yet.
    public var isReadingBody: Bool {
        switch state {
        case .streamingLength, .streamingChunked: true
        default: false
        }
    }

    /// Body bytes of a `Content-Length` body not yet handed over; nil for a chunked body or outside a body.
    public var remainingBodyLength: Int? {
        if case .streamingLength(let remaining) = state { return remaining }
        return nil
    }

    /// Hands the body bytes that have arrived to `deliver` (valid during the call only), de-chunked.
    /// - Returns: true once the whole body has been handed over; the parser then waits for the next head.
    /// - Throws: `HTTPParseError` for a malformed chunked body or one past `maxBodyBytes`; then always the same.
    public mutating func readBody(_ deliver: (UnsafeRawBufferPointer) -> Void) throws(HTTPParseError) -> Bool {
        switch state {
        case .failed(let error):
            throw error
        case .streamingLength(let remaining):
            let take = min(remaining, bufferedByteCount)
            if take > 0 {
                let start = readIndex
                buffer.withUnsafeBytes { deliver(UnsafeRawBufferPointer(rebasing: $0[start..<start + take])) }
                readIndex += take
            }
            if take == remaining {
                state = .head
                return true
            }
            state = .streamingLength(remaining: remaining - take)
            return false
        case .streamingChunked(var decoder):
            let start = readIndex
            do throws(HTTPParseError) {
                let result = try buffer.withUnsafeBytes { all in
                    Result { () throws(HTTPParseError) in
                        try decoder.decode(UnsafeRawBufferPointer(rebasing: all[start...]), emit: deliver)
                    }
                }.get()
                readIndex += result.consumed
                state = result.done ? .head : .streamingChunked(decoder)
                return result.done
            } catch {
                state = .failed(error)
                throw error
            }
        default:
            return true
        }
    }
}
