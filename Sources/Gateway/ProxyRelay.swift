import HTTPCodec
import Net

/// Moves one request's body to its upstream and the upstream's answer back to the client as they arrive,
/// with backpressure both ways. Loop thread only.
///
/// A full upstream send buffer pauses reading the client's body; a full client send buffer pauses reading the
/// upstream. Either side going away ends the other: an upstream that fails before its head is answered 502 or
/// 504, one that fails after it closes the client connection, and a client that leaves closes the upstream
/// connection (never pooled). The request is counted (`observe`) exactly once, when it is over.
final class ProxyRelay: HTTPServerStreamDelegate, UpstreamStreamDelegate {
    let service: GatewayService
    let stream: any HTTPServerStream
    let exchange: Exchange
    var upstream: UpstreamStream?
    /// The status of the answer once its head went to the client.
    var status: Int?
    var observed = false

    init(service: GatewayService, stream: any HTTPServerStream, exchange: Exchange) {
        self.service = service
        self.stream = stream
        self.exchange = exchange
    }

    /// Sends the head upstream, then asks the client for the body.
    func start(_ outbound: HTTPRequest, to address: UpstreamAddress) {
        stream.delegate = self
        // The client may have left while the steps before ran elsewhere: nothing then goes upstream.
        guard !observed else { return }
        let upstream = service.upstreams.stream(
            outbound, bodyLength: stream.requestBodyLength, to: address, on: stream.loop,
            timeoutNanoseconds: service.settings.upstreamTimeoutNanoseconds, delegate: self)
        guard !observed else { return }
        self.upstream = upstream
        if stream.requestBodyLength != .none { stream.readBody() }
    }

    // MARK: From the client

    func streamBodyReceived(_ bytes: UnsafeRawBufferPointer) {
        upstream?.writeBody(bytes)
    }

    func streamBodyEnded() {
        upstream?.endBody()
    }

    func streamWritabilityChanged(_ writable: Bool) {
        if writable { upstream?.resumeResponse() } else { upstream?.pauseResponse() }
    }

    func streamClosed() {
        upstream?.cancel()
        // 499: the client closed before its answer began (nginx's convention).
        observeOnce(status ?? 499)
    }

    // MARK: From the upstream

    func upstreamReceivedHead(_ head: HTTPResponseHead) {
        var response = GatewayService.clientResponse(head.response)
        service.decorate(&response, exchange)
        status = response.status
        var length = head.bodyLength
        if length == .none {
            // HEAD and 304 answers describe a body they do not carry; an unknown size is not "empty".
            if let declared = head.declaredLength {
                length = .known(declared)
            } else if exchange.method == "HEAD" {
                length = .unknown
            }
        }
        stream.writeHead(response, bodyLength: length)
    }

    func upstreamReceivedBody(_ bytes: UnsafeRawBufferPointer) {
        stream.writeBody(bytes)
    }

    func upstreamEnded() {
        stream.endResponse()
        observeOnce(status ?? 502)
    }

    func upstreamFailed(_ error: UpstreamError) {
        service.metrics.upstreamErrors.increment()
        guard status == nil else {
            // The head went out already: only the close can tell the client its body is cut short.
            stream.abort()
            observeOnce(status ?? 502)
            return
        }
        let answer: GatewayError =
            switch error.kind {
            case .timeout: .upstreamTimeout
            case .connectRefused, .connectFailed: .upstreamUnavailable
            case .protocolError, .closedEarly, .responseTooLarge: .upstreamBadResponse
            }
        observed = true
        stream.delegate = nil
        service.finish(answer.response(requestID: exchange.requestID), exchange) { [stream] in stream.respond($0) }
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        if writable { stream.resumeBody() } else { stream.pauseBody() }
    }

    private func observeOnce(_ status: Int) {
        guard !observed else { return }
        observed = true
        service.observe(status: status, exchange)
    }
}
