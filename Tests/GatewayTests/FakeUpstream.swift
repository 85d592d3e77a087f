import Dispatch
import HTTPCodec
import Net
import Synchronization

/// What the fake upstream received, exactly as its server parsed it.
struct UpstreamSeen: Sendable {
    var method: String
    var target: String
    var headers: HTTPHeaders
    var body: [UInt8]
    var peer: String

    /// Every value of fields whose name, lower-cased with `_` and `.` read as `-`, equals `name`.
    func values(normalisedName name: String) -> [String] {
        headers.fields.filter { Self.normalised($0.name) == name }.map(\.value)
    }

    static func normalised(_ name: String) -> String {
        String(name.lowercased().map { $0 == "_" || $0 == "." ? "-" : $0 })
    }
}

/// The answer the fake upstream gives next, and how long it waits before giving it.
struct UpstreamReply: Sendable {
    var status = 200
    var headers: [(String, String)] = [("Content-Type", "application/octet-stream")]
    /// Nil echoes the request body.
    var body: [UInt8]?
    var delayMilliseconds = 0
}

/// A recording upstream: remembers each request and answers what the test set in `reply`.
final class FakeUpstream: HTTPHandler {
    private let state = Mutex<(seen: [UpstreamSeen], reply: UpstreamReply)>(([], UpstreamReply()))

    /// The requests received so far, oldest first.
    var seen: [UpstreamSeen] { state.withLock { $0.seen } }

    /// Sets the answer to every later request.
    func setReply(_ reply: UpstreamReply) { state.withLock { $0.reply = reply } }

    func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        let record = UpstreamSeen(
            method: request.method, target: request.target, headers: request.headers, body: request.body,
            peer: connection.remoteAddress)
        let reply = state.withLock { state in
            state.seen.append(record)
            return state.reply
        }
        let response = HTTPResponse(
            status: reply.status, headers: HTTPHeaders(reply.headers), body: reply.body ?? request.body)
        guard reply.delayMilliseconds > 0 else { return respond(response) }
        // A slow upstream: answer later from another thread, never blocking the loop.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(reply.delayMilliseconds)) {
            respond(response)
        }
    }
}
