import Dispatch
import HTTPCodec
import Net
import Telemetry

/// The admin listener (`127.0.0.1:9009` by default): `/metrics`, `/health/live`, `/health/ready`, and the admin
/// API under `/admin/` (see `AdminAPI`), which needs an admin credential.
///
/// Readiness runs its checks off the event loop, since a store ping may block.
public final class AdminService: HTTPHandler {
    let registry: MetricsRegistry
    let readiness: @Sendable () -> Bool
    let api: AdminAPI?
    private let checks = DispatchQueue(label: "portal.admin.readiness")

    /// - Parameters:
    ///   - registry: the metrics exposed on `/metrics`.
    ///   - readiness: true when every dependency (the store) answers.
    ///   - api: serves `/admin/...` (keys, revocations, bans) to callers with the admin role; nil: 404.
    public init(registry: MetricsRegistry, readiness: @escaping @Sendable () -> Bool, api: AdminAPI? = nil) {
        self.registry = registry
        self.readiness = readiness
        self.api = api
    }

    public func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        if let api, request.path.hasPrefix("/admin/") {
            return api.handle(request, connection: connection, loop: loop, respond: respond)
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            var headers = HTTPHeaders()
            headers.add("Allow", "GET, HEAD")
            return respond(Self.json(405, #"{"error":{"code":"E9002","message":"method not allowed"}}"#, headers))
        }
        switch request.path {
        case "/metrics":
            var headers = HTTPHeaders()
            headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            headers.add("Cache-Control", "no-store")
            respond(HTTPResponse(status: 200, headers: headers, body: Array(registry.exposition().utf8)))
        case "/health/live":
            respond(Self.json(200, #"{"status":"live"}"#))
        case "/health/ready":
            let readiness = self.readiness
            checks.async {
                let ready = readiness()
                respond(ready ? Self.json(200, #"{"status":"ready"}"#) : Self.json(503, #"{"status":"not_ready"}"#))
            }
        default:
            respond(Self.json(404, #"{"error":{"code":"E9001","message":"no such admin endpoint"}}"#))
        }
    }

    static func json(_ status: Int, _ body: String, _ extra: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = extra
        headers.add("Content-Type", "application/json")
        headers.add("Cache-Control", "no-store")
        SecurityHeaders.apply(to: &headers)
        return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }
}
