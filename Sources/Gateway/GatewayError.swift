import HTTPCodec
import PortalCore

/// An error the gateway answers with: a status, a stable code from DESIGN.md's ranges and a fixed message.
///
/// Messages are constants: nothing from the request (least of all a credential) is ever echoed.
public struct GatewayError: Error, Sendable, Equatable {
    public let status: Int
    /// The stable code, for example `E9101`.
    public let code: String
    public let message: String

    init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    // E90xx routing
    public static let noRoute = GatewayError(404, "E9001", "no route matches this path")
    public static let methodNotAllowed = GatewayError(405, "E9002", "method not allowed on this route")
    // E91xx authentication
    public static let missingCredentials = GatewayError(401, "E9101", "authentication required")
    public static let invalidToken = GatewayError(401, "E9102", "invalid or expired token")
    public static let badAuthorizationScheme = GatewayError(401, "E9103", "authorization must use the Bearer scheme")
    public static let duplicateCredentials = GatewayError(400, "E9104", "more than one credential in the request")
    public static let invalidAPIKey = GatewayError(401, "E9105", "invalid, expired or revoked API key")
    public static let revokedToken = GatewayError(401, "E9106", "token has been revoked")
    public static let unmappedCertificate = GatewayError(
        401, "E9107", "the client certificate is not mapped to a consumer")
    /// A token that names nobody: upstreams and the audit trail could not tell who called.
    public static let missingSubject = GatewayError(401, "E9432", "token has no subject (sub)")
    // E92xx authorization
    public static let insufficientScope = GatewayError(403, "E9201", "token lacks a scope this route requires")
    public static let noRule = GatewayError(403, "E9202", "no rule allows this method on this route")
    public static let missingRole = GatewayError(403, "E9203", "caller lacks a role this route requires")
    // E93xx validation: E9321…E9330 answer a refused request-target, see `init(target:)`.
    public static let badHost = GatewayError(400, "E9331", "the Host header is not a plain host name")
    /// A body past an endpoint's own bound (the same code as the listener's `MAX_BODY_SIZE` refusal).
    public static let payloadTooLarge = GatewayError(413, "E9312", "request body too large")
    // E94xx rate limiting
    public static let rateLimited = GatewayError(429, "E9401", "rate limit exceeded")
    // E98xx upstream
    public static let upstreamUnavailable = GatewayError(502, "E9801", "upstream unavailable")
    public static let upstreamTimeout = GatewayError(504, "E9802", "upstream timed out")
    public static let upstreamBadResponse = GatewayError(502, "E9803", "upstream sent an invalid response")
    // E99xx server
    public static let internalError = GatewayError(500, "E9901", "internal error")

    /// The 400 answering a refused request-target, with its `E9321`…`E9330` code and constant message.
    public init(target error: RequestTargetError) {
        self.init(error.status, error.code, error.message)
    }

    /// The JSON body `{"error":{"code":…,"message":…,"request_id":…}}`.
    public func body(requestID: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + message.utf8.count + requestID.utf8.count)
        out.append(contentsOf: #"{"error":{"code":"#.utf8)
        JSONEscaping.appendQuoted(code, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSONEscaping.appendQuoted(message, to: &out)
        out.append(contentsOf: #","request_id":"#.utf8)
        JSONEscaping.appendQuoted(requestID, to: &out)
        out.append(contentsOf: "}}".utf8)
        return out
    }

    /// The error as a JSON response with `Cache-Control: no-store`.
    public func response(requestID: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        headers.add("Cache-Control", "no-store")
        if status == 401 {
            headers.add("WWW-Authenticate", #"Bearer error="invalid_token""#)
        }
        return HTTPResponse(status: status, headers: headers, body: body(requestID: requestID))
    }
}
