/// A response head from `HTTPResponseParser.nextHead()`: the response (its body empty) and what follows it.
public struct HTTPResponseHead: Sendable {
    /// Status and fields; `body` is empty, the body is read with `readBody(_:)`.
    public var response: HTTPResponse
    /// The body's framing: none (HEAD, 204, 304 or a zero length), a length, or unknown (chunked or to close).
    public var bodyLength: HTTPBodyLength
    /// The `Content-Length` the head declared, even where no body follows (a HEAD answer); nil without one.
    public var declaredLength: Int?
}

/// Streaming: the head, then the body handed over as it arrives, never collected.
///
/// Call `expectResponse(toMethod:)`, then `nextHead()` after each `feed` until it returns a head; then
/// `readBody(_:)` after each `feed` until it returns true. At end of stream, `finishBody()` completes a body
/// delimited by the close. No size limit applies to a streamed body (`maxBodyBytes` only bounds `next()`).
extension HTTPResponseParser {
    /// The awaited response's head (interim 1xx skipped), or nil when more bytes are needed.
    /// - Throws: `HTTPParseError` for a head that breaks the framing rules; then always the same.
    public mutating func nextHead() throws(HTTPParseError) -> HTTPResponseHead? {
        do throws(HTTPParseError) {
            while true {
                switch state {
                case .failed(let error):
                    throw error
                case .head:
                    guard try parseHeadIfComplete() else { return nil }
                case .length(let response, let remaining):
                    state = remaining == 0 ? .head : .streamingLength(remaining: remaining)
                    return head(response, remaining == 0 ? .none : .known(remaining))
                case .chunked(let response, let decoder):
                    state = .streamingChunked(decoder)
                    return head(response, .unknown)
                case .untilClose(let response):
                    state = .streamingUntilClose
                    return head(response, .unknown)
                case .streamingLength, .streamingChunked, .streamingUntilClose:
                    preconditionFailure("nextHead() called before the previous body was read")
                }
            }
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private func head(_ response: HTTPResponse, _ length: HTTPBodyLength) -> HTTPResponseHead {
        HTTPResponseHead(response: response, bodyLength: length, declaredLength: lastDeclaredLength)
    }

    /// Hands the body bytes that have arrived to `deliver` (valid during the call only), de-chunked.
    /// - Returns: true once the whole body has been handed over (never for a body delimited by the close).
    /// - Throws: `HTTPParseError` for a malformed chunked body; then always the same.
    public mutating func readBody(_ deliver: (UnsafeRawBufferPointer) -> Void) throws(HTTPParseError) -> Bool {
        let start = readIndex
        switch state {
        case .failed(let error):
            throw error
        case .streamingLength(let remaining):
            let take = min(remaining, buffer.count - readIndex)
            if take > 0 {
                buffer.withUnsafeBytes { deliver(UnsafeRawBufferPointer(rebasing: $0[start..<start + take])) }
                readIndex += take
            }
            state = take == remaining ? .head : .streamingLength(remaining: remaining - take)
            return take == remaining
        case .streamingChunked(var decoder):
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
        case .streamingUntilClose:
            if start < buffer.count {
                buffer.withUnsafeBytes { deliver(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            }
            readIndex = buffer.count
            return false
        default:
            return true
        }
    }

    /// At end of stream while streaming: whether the body is complete (it was delimited by the close).
    /// - Throws: `truncated` when a head or a framed body was cut short.
    public mutating func finishBody() throws(HTTPParseError) -> Bool {
        switch state {
        case .streamingUntilClose:
            state = .head
            lastResponseKeepAlive = false
            return true
        case .failed(let error):
            throw error
        default:
            state = .failed(HTTPParseError(.truncated))
            throw HTTPParseError(.truncated)
        }
    }
}
