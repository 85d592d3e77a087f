import HTTPCodec

/// The streaming side of a connection: one `ServerStream` at a time, its body handed over as it arrives and
/// its response written in parts.
///
/// The head is handed to the handler before any body byte is read: reading starts only when the handler asks
/// (`readBody()`), so an answer such as 401 needs none of the body, and the connection then closes after it.
extension ServerConnection {
    func processStreaming(_ handler: any HTTPStreamingHandler) {
        let server = listener.server
        while current == nil, !stopParsing, !closed {
            if pendingOutput > server.outputHighWaterBytes {
                blockedByOutput = true
                return
            }
            let head: HTTPRequestHead
            do {
                guard let next = try parser.nextHead() else { return }
                head = next
            } catch {
                queueErrorAnswer(server.withErrorHeaders(error.response()))
                return
            }
            let keepAlive = head.request.keepAlive && !server.isShuttingDown.load(ordering: .relaxed)
            let stream = ServerStream(owner: self, head: head, keepAlive: keepAlive)
            current = stream
            handler.handle(head.request, stream: stream)
        }
    }

    /// Delivers the body bytes the parser holds to the current stream's delegate.
    ///
    /// The bytes are copied out of the parser first: the delegate may answer, end or close the stream from
    /// inside the call, which must not find the parser in the middle of a read.
    func deliverBody() {
        guard let stream = current, stream.bodyWanted, !stream.bodyComplete else { return }
        var scratch: [UInt8] = []
        swap(&scratch, &listener.bodyScratch)
        scratch.removeAll(keepingCapacity: true)
        let done: Bool
        do {
            done = try parser.readBody { scratch.append(contentsOf: $0) }
        } catch {
            refuseBody(stream, listener.server.withErrorHeaders(error.response()))
            return
        }
        stream.bodyBytes += scratch.count
        if done { stream.bodyComplete = true }
        if !scratch.isEmpty { scratch.withUnsafeBytes { stream.delegate?.streamBodyReceived($0) } }
        if scratch.capacity <= 128 * 1024 { swap(&scratch, &listener.bodyScratch) }
        guard current === stream, !closed else { return }
        if done {
            stream.delegate?.streamBodyEnded()
        } else if readClosed {
            refuseBody(stream, listener.server.withErrorHeaders(Self.truncatedBody))
            return
        }
        if current === stream { inputDemandChanged() }
    }

    /// The body broke its framing, passed `MAX_BODY_SIZE`, ended early or came too slowly: the handler is told the
    /// stream closed (so a relay drops its upstream, never to be reused), and a client that has no byte of the
    /// answer yet gets `answer` (a JSON error with the server's error headers) before the close. After the head,
    /// only the close is left.
    func refuseBody(_ stream: ServerStream, _ answer: HTTPResponse) {
        guard !stream.headWritten else {
            close()
            return
        }
        stream.closedEarly = true
        let delegate = stream.delegate
        stream.delegate = nil
        delegate?.streamClosed()
        guard current === stream, !closed, !stream.headWritten else {
            close()
            return
        }
        current = nil
        queueErrorAnswer(answer)
    }

    /// The handler asked for the body: a waiting client is told to go on, and bytes already here are handed over.
    func streamReadBody(_ stream: ServerStream) {
        guard current === stream, !stream.bodyWanted, !closed else { return }
        stream.bodyWanted = true
        if stream.bodyComplete {
            stream.delegate?.streamBodyEnded()
            return
        }
        if stream.expectsContinue, !stream.headWritten, parser.bufferedByteCount == 0 {
            appendOutput { $0.append(contentsOf: Self.continueLine) }
            writeOut()
        }
        guard current === stream, !closed else { return }
        deliverBody()
        if current === stream, !closed { inputDemandChanged() }
    }

    /// The client half-closed before its body ended (400, `E9315`, as the parser answers a truncated message).
    static var truncatedBody: HTTPResponse {
        .json(status: 400, body: Array(#"{"error":{"code":"E9315","message":"message ended early"}}"#.utf8))
    }

    /// Reading was paused, resumed, asked for or finished: update the socket's interest and the timeout.
    func inputDemandChanged() {
        updateInterest()
        updateTimeout()
    }

    func streamWriteHead(_ stream: ServerStream, _ response: HTTPResponse, bodyLength: HTTPBodyLength) {
        guard current === stream, !stream.headWritten, !closed else { return }
        stream.headWritten = true
        // An unread body that is here whole already (a small POST answered 401) is dropped, so the connection can
        // carry the next request; a body still on its way closes it after this answer instead.
        if !stream.bodyWanted, !stream.bodyComplete, let rest = parser.remainingBodyLength,
            rest <= parser.bufferedByteCount, (try? parser.readBody { _ in }) == true
        {
            stream.bodyComplete = true
        }
        let status = (200...599).contains(response.status) ? response.status : 500
        let bodyless = stream.isHeadRequest || status == 204 || status == 304
        var contentLength: Int?
        switch bodyLength {
        case .none: contentLength = status == 204 || status == 304 ? nil : 0
        case .known(let n): contentLength = status == 204 ? nil : n
        case .unknown: break
        }
        if !bodyless, contentLength == nil {
            // An HTTP/1.0 client knows no chunked coding: the close ends its body.
            if stream.isHTTP10 { stream.closeDelimited = true } else { stream.chunked = true }
        }
        stream.remaining = bodyless ? 0 : contentLength ?? Int.max
        // With the request body still unread, the connection cannot carry another request after this one.
        stream.responseKeepAlive =
            stream.requestKeepAlive && !stream.closeDelimited && stream.bodyComplete
            && !listener.server.isShuttingDown.load(ordering: .relaxed)
        var head = response
        head.status = status
        let chunked = stream.chunked
        let keepAlive = stream.responseKeepAlive
        appendOutput { out in
            HTTPResponseSerializer.writeHead(
                head, contentLength: contentLength, chunked: chunked, keepAlive: keepAlive, into: &out)
        }
        scheduleFlush()
    }

    func streamWriteBody(_ stream: ServerStream, _ bytes: UnsafeRawBufferPointer) {
        guard current === stream, stream.headWritten, !stream.responseEnded, !closed, !bytes.isEmpty else { return }
        guard stream.remaining > 0 else { return }
        guard bytes.count <= stream.remaining else {
            // More than the head announced: the framing would break, so the response cannot be finished.
            close()
            return
        }
        if stream.remaining != Int.max { stream.remaining -= bytes.count }
        let chunked = stream.chunked
        appendOutput { out in
            if chunked { HTTPResponseSerializer.appendChunk(bytes, to: &out) } else { out.append(contentsOf: bytes) }
        }
        scheduleFlush()
    }

    func streamEndResponse(_ stream: ServerStream) {
        guard current === stream, stream.headWritten, !stream.responseEnded, !closed else { return }
        if stream.remaining != Int.max, stream.remaining > 0 {
            // Fewer bytes than the head announced: only the close can tell the client.
            close()
            return
        }
        stream.responseEnded = true
        if stream.chunked { appendOutput { $0.append(contentsOf: HTTPResponseSerializer.lastChunk) } }
        if !stream.responseKeepAlive || !stream.bodyComplete { stopParsing = true }
        current = nil
        stream.delegate = nil
        writeOut()
        if !closed { processRequests() }
    }
}
