import Audit
import HTTPCodec
import Net
import PortalCore
import Synchronization

/// The admin API on the admin listener, under `/admin/`: API keys, revocations and bans.
///
/// Every call authenticates like the gateway (bearer JWT or API key, with the same counting, audit and
/// brute-force protection) and needs the `admin` role: 401 without a valid credential, 403 without the role.
/// Store work runs on the workers, never on a loop. Answers are JSON; a key is shown once, when made.
///
/// - `GET /admin/keys`; `POST /admin/keys` `{"name", "scopes"?, "roles"?, "expires_in"?}` → 201 with `key`;
///   `POST /admin/keys/{id}/rotate` `{"grace_seconds"?}` → 201 with the new `key`; `DELETE /admin/keys/{id}`.
/// - `POST /admin/revocations` `{"jti", "expires_at"}` → 201.
/// - `GET /admin/bans`; `POST /admin/bans` `{"address", "seconds", "reason"?}` → 201;
///   `DELETE /admin/bans/{address}`. With Redis these reach every gateway (see `SharedBans`).
public final class AdminAPI: Sendable {
    let gateway: GatewayService
    let credentials: CredentialCache
    let audit: AuditLog?
    let rotationGraceSeconds: Int
    let ids = RequestIDGenerator()
    /// Makes a key creation's name check and insert one step among this process's workers.
    let keyCreation = Mutex(())

    /// - Parameters:
    ///   - gateway: authenticates callers exactly as the public listener does.
    ///   - credentials: the store and cache keys and revocations go to.
    ///   - audit: records every change (`key.created`, `key.rotated`, `key.revoked`, `token.revoked`,
    ///     `ban.lifted`).
    ///   - rotationGraceSeconds: the default grace of a rotated key (`API_KEY_ROTATION_GRACE_SECONDS`).
    public init(gateway: GatewayService, credentials: CredentialCache, audit: AuditLog?, rotationGraceSeconds: Int) {
        self.gateway = gateway
        self.credentials = credentials
        self.audit = audit
        self.rotationGraceSeconds = rotationGraceSeconds
    }

    static let adminRequired = GatewayError(403, "E9204", "the admin API requires the admin role")
    static let badBody = GatewayError(400, "E9341", "the body is not the JSON object this endpoint takes")
    static let notFound = GatewayError(404, "E9003", "no such admin resource")
    static let methodNotAllowed = GatewayError(405, "E9002", "method not allowed on this admin resource")
    static let busy = GatewayError(503, "E9902", "the server is busy; try again")
    static let duplicateKeyName = GatewayError(
        409, "E9440", "a usable key with this name exists; rotate it instead of creating another")
    static let storeFailed = GatewayError(500, "E9901", "internal error")

    /// Authenticates, requires `admin`, then serves the resource.
    ///
    /// A banned address is still served when the request authenticates as an admin: the ban list is the
    /// gateway's, and an admin must be able to lift a ban from the very address it covers. Anything else from a
    /// banned address (no credential, a failing one, a non-admin) is answered 429 E9402, and failures still count.
    func handle(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop,
        respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        let client = ClientAddress.resolve(
            request.headers, peer: connection.remoteAddress, trusted: gateway.settings.trustedProxies)
        var exchange = Exchange(requestID: ids.next(), client: client, method: request.method, startNanoseconds: 0)
        exchange.route = "/admin"
        let banned = gateway.banRemainingSeconds(exchange.client)
        // Without a credential the request cannot be an admin's: refused at once, without an audit record.
        if let banned, !Self.carriesCredential(request, connection) {
            return respond(gateway.bannedResponse(banned, exchange))
        }
        authenticated(request, connection: connection, loop: loop, exchange, bannedFor: banned, respond: respond)
    }

    /// Whether `request` presents a credential an admin could authenticate with.
    static func carriesCredential(_ request: HTTPRequest, _ connection: ConnectionInfo) -> Bool {
        request.headers.first("Authorization") != nil || request.headers.first("X-API-Key") != nil
            || connection.clientCertificateFingerprint != nil
    }

    /// Authenticates the caller, requires `admin`, then serves the resource on a worker; a caller from an address
    /// banned for `bannedFor` seconds that is not an admin gets the ban's answer.
    private func authenticated(
        _ request: HTTPRequest, connection: ConnectionInfo, loop: EventLoop, _ exchange: Exchange,
        bannedFor: Int?, respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        let requestID = exchange.requestID
        let answer: @Sendable (GatewayError) -> Void = { [gateway] error in
            if let bannedFor { return respond(gateway.bannedResponse(bannedFor, exchange)) }
            respond(error.response(requestID: requestID))
        }
        gateway.authenticate(request, connection: connection, loop: loop, exchange) { [self] outcome, exchange in
            switch outcome {
            case .failure(let error):
                answer(error)
            case .success(let identity):
                guard identity.roles.contains("admin") else {
                    gateway.metrics.unauthorizedAccess.increment()
                    gateway.record(.authzDenied, outcome: .denied, exchange, reason: "admin_required")
                    return answer(Self.adminRequired)
                }
                let call = AdminCall(request: request, exchange: exchange, respond: respond)
                guard credentials.workers.submit({ [self] in route(call) }) else { return answer(Self.busy) }
            }
        }
    }

    /// One authenticated admin request, answered from a worker.
    struct AdminCall: Sendable {
        let request: HTTPRequest
        let exchange: Exchange
        let respond: @Sendable (HTTPResponse) -> Void

        func fail(_ error: GatewayError) { respond(error.response(requestID: exchange.requestID)) }

        func json(_ status: Int, _ body: [UInt8]) {
            var headers = HTTPHeaders()
            headers.add("Content-Type", "application/json")
            headers.add("Cache-Control", "no-store")
            SecurityHeaders.apply(to: &headers)
            respond(HTTPResponse(status: status, headers: headers, body: body))
        }

        /// The body as a JSON object; nil (after answering 400) when it is not one.
        func object(allowEmpty: Bool = false) -> JSONObject? {
            if allowEmpty && request.body.isEmpty { return JSONObject(members: []) }
            guard let value = try? JSONParser().parse(request.body), let object = value.objectValue else {
                fail(AdminAPI.badBody)
                return nil
            }
            return object
        }
    }

    private func route(_ call: AdminCall) {
        let parts = call.request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2)
        switch (parts.first, call.request.method) {
        case ("keys"?, _): keys(call, Array(parts.dropFirst()))
        case ("revocations"?, "POST") where parts.count == 1: revokeToken(call)
        case ("revocations"?, _) where parts.count == 1: call.fail(Self.methodNotAllowed)
        case ("bans"?, _): bans(call, Array(parts.dropFirst()))
        default: call.fail(Self.notFound)
        }
    }

    /// Writes an audit record of an admin change, by the admin's subject.
    func record(_ type: AuditEventType, _ call: AdminCall, reason: String) {
        guard let audit else { return }
        audit.record(
            AuditRecord(
                type: type, outcome: .success, requestID: call.exchange.requestID,
                clientAddress: call.exchange.client, subject: call.exchange.subject, route: "/admin", reason: reason))
    }
}
