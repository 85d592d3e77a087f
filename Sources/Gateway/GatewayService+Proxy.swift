import Auth
import Config
import HTTPCodec
import Net

extension GatewayService {
    /// The most fields the gateway adds to a request it forwards (`X-Forwarded-*`, `X-Request-ID`, consumer and
    /// signature fields, `X-Service-Key`, framing), with room to spare: an upstream that accepts a client's maximum
    /// must accept this many more.
    public static let forwardedFieldAllowance = 16
    /// The bytes those fields may take (a consumer's scope list is the long one).
    public static let forwardedFieldBytesAllowance = 8 * 1024

    /// Forwards the request to the route's upstream and relays the answer, both bodies streamed.
    func proxy(
        _ request: HTTPRequest, route: Route, to address: UpstreamAddress, identity: ConsumerIdentity?,
        stream: any HTTPServerStream, _ exchange: Exchange
    ) {
        let outbound = upstreamRequest(
            request, route: route, address: address, identity: identity, connection: stream.connection, exchange)
        let loop = stream.loop
        // Steps before may have finished on another thread; the relay lives on the connection's loop.
        guard loop.inEventLoop else {
            loop.execute { [self] in
                ProxyRelay(service: self, stream: stream, exchange: exchange).start(outbound, to: address)
            }
            return
        }
        ProxyRelay(service: self, stream: stream, exchange: exchange).start(outbound, to: address)
    }

    /// The request as the upstream sees it: client hop-by-hop and gateway-owned fields removed,
    /// forwarding, request-id and consumer fields set by the gateway alone.
    func upstreamRequest(
        _ request: HTTPRequest, route: Route, address: UpstreamAddress, identity: ConsumerIdentity?,
        connection: ConnectionInfo, _ exchange: Exchange
    ) -> HTTPRequest {
        let listed = ForwardedHeaders.connectionListed(request.headers)
        var headers = request.headers
        let originalHost = headers.first("Host")
        headers.removeAll { ForwardedHeaders.dropFromRequest($0.name, connectionListed: listed) }
        headers.replaceOrAdd("Host", address.description)
        if let originalHost { headers.add("X-Forwarded-Host", originalHost) }
        headers.add(
            "X-Forwarded-For",
            ClientAddress.forwardedFor(
                request.headers, peer: connection.remoteAddress,
                trusted: settings.trustedProxies))
        headers.add("X-Forwarded-Proto", connection.isTLS ? "https" : "http")
        headers.add("X-Request-ID", exchange.requestID)
        if let identity {
            // The gateway consumed the credential; upstreams learn who called from the consumer fields instead.
            headers.remove("Authorization")
            headers.remove("X-API-Key")
            if let subject = identity.subject { headers.add("X-Consumer-ID", subject) }
            headers.add("X-Consumer-Scopes", identity.scopeHeader)
        }
        if let key = settings.serviceKey(for: address) { headers.add("X-Service-Key", key) }
        let target = route.upstream.basePath + request.target
        signIdentity(&headers, identity, method: request.method, target: target, address: address, exchange)
        return HTTPRequest(
            method: request.method, target: target, version: .http1_1, headers: headers, body: request.body)
    }

    /// The upstream's response without hop-by-hop fields.
    static func clientResponse(_ response: HTTPResponse) -> HTTPResponse {
        let listed = ForwardedHeaders.connectionListed(response.headers)
        var response = response
        response.headers.removeAll { ForwardedHeaders.dropFromResponse($0.name, connectionListed: listed) }
        return response
    }
}
