import HTTPCodec

/// An `HTTPServerStream` over a whole request body that collects the whole response and hands it to
/// `respond`: a streaming handler called through the buffered `HTTPHandler` interface.
///
/// `@unchecked Sendable`: every stored `var` is touched only on `loop`'s thread; `respond(_:)` hops there.
public final class BufferedServerStream: HTTPServerStream, @unchecked Sendable {
    public let loop: EventLoop
    public let connection: ConnectionInfo
    public var delegate: (any HTTPServerStreamDelegate)?
    private let body: [UInt8]
    private let deliver: @Sendable (HTTPResponse) -> Void
    private var response: HTTPResponse?
    private var bodyRead = false
    private var done = false

    /// A stream whose request body is `body` and whose response goes to `respond`, once.
    public init(
        body: [UInt8], connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        self.body = body
        self.connection = connection
        self.loop = loop
        self.deliver = respond
    }

    public var requestBodyLength: HTTPBodyLength { body.isEmpty ? .none : .known(body.count) }

    public var isWritable: Bool { true }

    public func readBody() {
        guard !bodyRead, !done else { return }
        bodyRead = true
        if !body.isEmpty { body.withUnsafeBytes { delegate?.streamBodyReceived($0) } }
        if !done { delegate?.streamBodyEnded() }
    }

    public func pauseBody() {}

    public func resumeBody() {}

    public func writeHead(_ response: HTTPResponse, bodyLength: HTTPBodyLength) {
        guard !done, self.response == nil else { return }
        var head = response
        head.body = []
        self.response = head
    }

    public func writeBody(_ bytes: UnsafeRawBufferPointer) {
        guard !done else { return }
        response?.body.append(contentsOf: bytes)
    }

    public func endResponse() {
        guard !done, let response else { return }
        done = true
        delegate = nil
        deliver(response)
    }

    public func abort() {
        guard !done else { return }
        done = true
        let delegate = self.delegate
        self.delegate = nil
        delegate?.streamClosed()
        deliver(HTTPResponse(status: 502))
    }

    public func respond(_ response: HTTPResponse) {
        guard loop.inEventLoop else {
            loop.execute { self.respond(response) }
            return
        }
        guard !done, self.response == nil else { return }
        done = true
        delegate = nil
        deliver(response)
    }
}
