import Net

/// Collects a small request body from a stream for the endpoints the gateway answers itself (the token
/// endpoints), up to a bound. Loop thread only.
///
/// The completion runs once, on the loop: with the body, or with nil when the body passed `limit` (the caller
/// answers 413 and the connection closes, since the rest of the body is unread). A client that leaves mid-body
/// gets no completion: nobody is there to answer.
final class BodyCollector: HTTPServerStreamDelegate {
    private let stream: any HTTPServerStream
    private let limit: Int
    private var body: [UInt8] = []
    private var completion: ((_ body: [UInt8]?) -> Void)?

    private init(stream: any HTTPServerStream, limit: Int, completion: @escaping (_ body: [UInt8]?) -> Void) {
        self.stream = stream
        self.limit = limit
        self.completion = completion
    }

    /// Reads the whole body of `stream` (at most `limit` bytes) and hands it to `completion`.
    static func collect(
        _ stream: any HTTPServerStream, limit: Int, completion: @escaping (_ body: [UInt8]?) -> Void
    ) {
        // A declared length past the bound is refused before a byte is read.
        if case .known(let length) = stream.requestBodyLength, length > limit { return completion(nil) }
        guard stream.requestBodyLength != .none else { return completion([]) }
        let collector = BodyCollector(stream: stream, limit: limit, completion: completion)
        stream.delegate = collector
        stream.readBody()
    }

    func streamBodyReceived(_ bytes: UnsafeRawBufferPointer) {
        guard completion != nil else { return }
        guard body.count + bytes.count <= limit else {
            stream.pauseBody()
            return complete(nil)
        }
        body.append(contentsOf: bytes)
    }

    func streamBodyEnded() {
        complete(body)
    }

    func streamWritabilityChanged(_ writable: Bool) {}

    func streamClosed() {
        completion = nil
    }

    private func complete(_ result: [UInt8]?) {
        guard let completion else { return }
        self.completion = nil
        stream.delegate = nil
        completion(result)
    }
}
