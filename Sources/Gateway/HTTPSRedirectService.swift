import HTTPCodec
import Net

/// The plain-HTTP listener when `TLS_REDIRECT_HTTP=true`: every request is answered `308 Permanent Redirect`
/// to the same normalised path on HTTPS, and nothing is proxied in clear text.
///
/// The host comes from the request's `Host`, checked by `HostHeader` (the parser already refused any other), so
/// no header can inject into `Location`.
public final class HTTPSRedirectService: HTTPHandler {
    let httpsPort: Int

    /// - Parameter httpsPort: the port clients reach the HTTPS listener on; omitted from `Location` when 443.
    public init(httpsPort: Int) {
        self.httpsPort = httpsPort
    }

    public func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            return respond(GatewayError(target: error).response(requestID: ""))
        }
        guard let host = request.headers.first("Host").flatMap(HostHeader.hostName) else {
            return respond(GatewayError.badHost.response(requestID: ""))
        }
        var headers = GatewayService.serverErrorHeaders
        let authority = httpsPort == 443 ? host : "\(host):\(httpsPort)"
        headers.add("Location", "https://\(authority)\(target.normalised)")
        respond(HTTPResponse(status: 308, headers: headers))
    }
}
