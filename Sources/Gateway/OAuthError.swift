import HTTPCodec
import PortalCore

/// An error of the token and revocation endpoints, in the shape OAuth 2 clients read (RFC 6749 §5.2):
/// `{"error": "invalid_grant", "error_description": "...", "error_code": "E9112", "request_id": "..."}`.
///
/// `error` and `error_description` are RFC 6749's members; `error_code` and `request_id` carry the gateway's own
/// code and request id as extension members, which RFC 6749 clients ignore. Descriptions are constants: nothing
/// from the request is echoed. `invalid_client` is 401 with `WWW-Authenticate: Basic`; the rest are 400.
struct OAuthError: Error, Sendable, Equatable {
    let status: Int
    let error: String
    let code: String
    let description: String

    static let invalidRequest = OAuthError(
        400, "invalid_request", "E9110", "a parameter is missing, repeated or malformed")
    static let unsupportedMediaType = OAuthError(
        400, "invalid_request", "E9111", "the body must be application/x-www-form-urlencoded or application/json")
    static let invalidGrant = OAuthError(400, "invalid_grant", "E9112", "invalid credentials or grant")
    static let invalidClient = OAuthError(401, "invalid_client", "E9113", "client authentication failed")
    static let unsupportedGrantType = OAuthError(400, "unsupported_grant_type", "E9114", "unsupported grant_type")
    static let invalidScope = OAuthError(400, "invalid_scope", "E9115", "the requested scope exceeds what is granted")
    static let parametersInQuery = OAuthError(
        400, "invalid_request", "E9116", "credentials must travel in the body, never in the URL")
    static let busy = OAuthError(503, "temporarily_unavailable", "E9117", "too many logins at once; try again")
    /// A password check from this address is already waiting or running (429, `Retry-After`).
    static let loginInProgress = OAuthError(
        429, "temporarily_unavailable", "E9430", "a login from this address is already being checked; try again")
    /// Every place for password checks is taken (503, `Retry-After`).
    static let passwordChecksFull = OAuthError(
        503, "temporarily_unavailable", "E9431", "too many logins are being checked; try again")
    static let serverError = OAuthError(500, "server_error", "E9118", "the grant could not be completed")

    init(_ status: Int, _ error: String, _ code: String, _ description: String) {
        self.status = status
        self.error = error
        self.code = code
        self.description = description
    }

    /// The JSON answer, never cached.
    func response(requestID: String) -> HTTPResponse {
        var body: [UInt8] = Array(#"{"error":"#.utf8)
        JSONEscaping.appendQuoted(error, to: &body)
        body += Array(#","error_description":"#.utf8)
        JSONEscaping.appendQuoted(description, to: &body)
        body += Array(#","error_code":"#.utf8)
        JSONEscaping.appendQuoted(code, to: &body)
        body += Array(#","request_id":"#.utf8)
        JSONEscaping.appendQuoted(requestID, to: &body)
        body.append(UInt8(ascii: "}"))
        var headers = OAuthError.noStoreHeaders
        if status == 401 { headers.add("WWW-Authenticate", #"Basic realm="story-portal""#) }
        if status == 429 || status == 503 { headers.add("Retry-After", "1") }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// `Content-Type: application/json`, `Cache-Control: no-store`, `Pragma: no-cache` (RFC 6749 §5.1).
    static var noStoreHeaders: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        headers.add("Cache-Control", "no-store")
        headers.add("Pragma", "no-cache")
        return headers
    }
}
