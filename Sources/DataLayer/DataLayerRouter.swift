import Auth
import HTTPCodec
import Store

/// The L01 API as a function from request to response.
///
/// Routes:
/// - `GET /health/live`, `GET /health/ready` (pings the store): no key needed.
/// - `POST /api/v1/events` → 201, `GET /api/v1/events/{id}` → 200 or 404,
///   `GET /api/v1/events?aggregate_id=&event_type=&limit=&after=` → 200: need `X-Service-Key`.
/// - `POST /api/v1/audit-records`, `GET /api/v1/audit-records/head?source=`: gateways ship their audit
///   trail here (see `DataLayerRouter+Audit.swift`); need `X-Service-Key`.
/// - `GET /api/v1/audit?type=&subject=&outcome=&since=&until=&source=&limit=&after=&format=`: the audit query
///   API for consumers holding `audit:read` (see `DataLayerRouter+AuditQuery.swift`).
/// - `DELETE /api/v1/subjects/{id}` → 200: erases a subject (crypto-shredding, see
///   `DataLayerRouter+Subjects.swift`); needs `X-Service-Key` and the scope `subjects:erase` or `*`.
///
/// A store that is down or too slow makes an answer 503 with `Retry-After` (nothing is half-written: each
/// write is one transaction).
/// `route` blocks on the store: call it from a worker thread, never an event loop (see `DataLayerService`).
/// Every failure is a JSON error `{"error":{"code","message","field"?}}`; nothing in the request can crash it.
public struct DataLayerRouter: Sendable {
    let store: any EventStore
    let auditRecords: (any AuditRecordStore)?
    private let authenticator: ServiceKeyAuthenticator
    let configuration: DataLayerConfiguration
    private let onStoreError: @Sendable (StoreError) -> Void
    private let identity: ConsumerSignatureVerifier?
    let onErasure: @Sendable (SubjectErasure, _ actor: String, _ requestID: String?) -> Void

    static let eventsPath = "/api/v1/events"
    static let auditPath = "/api/v1/audit-records"
    static let subjectsPath = "/api/v1/subjects"

    /// - Parameters:
    ///   - auditRecords: where shipped audit records are kept; nil answers the audit routes 404.
    ///   - onStoreError: told of every store failure behind a 500 or 503, for logs and counters.
    ///   - identity: when given, every API call must carry the gateway's signature over the caller's identity
    ///     (`X-Consumer-Signature`, `L01_IDENTITY_KEY`), fresh and not seen before; else 401 E9109.
    ///   - onErasure: told of every subject erased through the API, with the actor and request id, for the audit
    ///     trail (the store has already recorded it as a `subject.erased` event).
    public init(
        store: any EventStore, auditRecords: (any AuditRecordStore)? = nil, authenticator: ServiceKeyAuthenticator,
        configuration: DataLayerConfiguration = DataLayerConfiguration(),
        onStoreError: @escaping @Sendable (StoreError) -> Void = { _ in }, identity: ConsumerSignatureVerifier? = nil,
        onErasure: @escaping @Sendable (SubjectErasure, _ actor: String, _ requestID: String?) -> Void = { _, _, _ in }
    ) {
        self.store = store
        self.auditRecords = auditRecords
        self.authenticator = authenticator
        self.configuration = configuration
        self.onStoreError = onStoreError
        self.identity = identity
        self.onErasure = onErasure
    }

    /// The answer to `request`.
    ///
    /// Error bodies carry the caller's `X-Request-ID` (the gateway's id) when it is a plain token, so one id
    /// follows a request from the gateway's answer into this layer's.
    public func route(_ request: HTTPRequest) -> HTTPResponse {
        let requestID = request.headers.first("X-Request-ID").flatMap(DataLayerError.echoableRequestID)
        do {
            return try dispatch(request)
        } catch let error as DataLayerError {
            return error.response(
                allow: error.status == 405 ? Self.allow(for: request.path) : nil, requestID: requestID)
        } catch let error as StoreError {
            return storeFailure(error, requestID: requestID)
        } catch {
            return DataLayerError.storeFailed.response(requestID: requestID)
        }
    }

    private func dispatch(_ request: HTTPRequest) throws -> HTTPResponse {
        let path = request.path
        if path == "/health/live" || path == "/health/ready" {
            guard request.method == "GET" else { throw DataLayerError.methodNotAllowed("GET") }
            if path == "/health/ready" {
                do { try store.ping() } catch let error as StoreError {
                    onStoreError(error)
                    throw DataLayerError.notReady
                }
            }
            return .json(status: 200, body: Array("{\"status\":\"ok\"}".utf8))
        }
        // Authenticate before routing, so that callers without a key learn nothing about paths.
        let keys = request.headers.all("X-Service-Key")
        guard keys.count == 1, authenticator.isValid(keys[0]) else { throw DataLayerError.unauthorized }
        // Audit shipping is the gateway process's own call, not a consumer's: no consumer identity to sign. A
        // request the gateway proxied (it always sets X-Forwarded-For) never reaches the trail, whatever the routes.
        if path == Self.auditPath || path.hasPrefix(Self.auditPath + "/") {
            guard request.headers.all("X-Forwarded-For").isEmpty else { throw DataLayerError.notFound }
            return try routeAudit(request)
        }
        // The caller's identity must be the gateway's word, not something a holder of the service key made up.
        if let identity {
            let signature = Self.single(request, ConsumerSignature.signatureHeader)
            guard identity.check(signature, Self.fields(request)) == nil else { throw DataLayerError.identityRefused }
        }
        if path == Self.auditQueryPath { return try queryAudit(request, identityChecked: identity != nil) }
        if path.hasPrefix(Self.subjectsPath + "/") {
            return try routeSubjects(request, identityChecked: identity != nil)
        }
        if path == Self.eventsPath {
            switch request.method {
            case "POST": return try create(request)
            case "GET": return try list(request)
            default: throw DataLayerError.methodNotAllowed("GET, POST")
            }
        }
        let prefix = Self.eventsPath + "/"
        guard path.hasPrefix(prefix) else { throw DataLayerError.notFound }
        let id = path.dropFirst(prefix.count)
        guard !id.isEmpty, !id.contains("/") else { throw DataLayerError.notFound }
        guard request.method == "GET" else { throw DataLayerError.methodNotAllowed("GET") }
        return try show(id: id, query: request.query)
    }

    /// The value of a field sent exactly once, else nil.
    static func single(_ request: HTTPRequest, _ name: String) -> String? {
        let values = request.headers.all(name)
        return values.count == 1 ? values[0] : nil
    }

    /// What the gateway's signature must cover, as this request carries it.
    private static func fields(_ request: HTTPRequest) -> ConsumerSignature.Fields? {
        guard let text = single(request, ConsumerSignature.timestampHeader), text.utf8.count <= 12,
            let timestamp = Int64(text)
        else { return nil }
        let consumer = request.headers.all("X-Consumer-ID")
        let scopes = request.headers.all("X-Consumer-Scopes")
        guard consumer.count <= 1, scopes.count <= 1, request.headers.all("X-Request-ID").count <= 1 else { return nil }
        guard let nonce = single(request, ConsumerSignature.nonceHeader) else { return nil }
        return ConsumerSignature.Fields(
            timestamp: timestamp, nonce: nonce, requestID: single(request, "X-Request-ID") ?? "",
            method: request.method, target: request.target, consumerID: consumer.first ?? "", scopes: scopes.first ?? ""
        )
    }

    private static func allow(for path: Substring) -> String {
        path == eventsPath ? "GET, POST" : path == auditPath ? "POST" : path.hasPrefix(subjectsPath) ? "DELETE" : "GET"
    }

    /// The answer to a store failure: 503 with `Retry-After` when it may pass, 400 for input the store
    /// refuses, 409 for audit records that do not fit the stored chain, else 500.
    private func storeFailure(_ error: StoreError, requestID: String?) -> HTTPResponse {
        if error.isInvalidInput { return DataLayerError.nulInText.response(requestID: requestID) }
        if error.isAuditGap { return DataLayerError.auditGap.response(requestID: requestID) }
        if error.isAuditConflict { return DataLayerError.auditConflict.response(requestID: requestID) }
        onStoreError(error)
        if error.isEncryptionFailure { return DataLayerError.undecryptable.response(requestID: requestID) }
        guard error.isUnavailable else { return DataLayerError.storeFailed.response(requestID: requestID) }
        var response = DataLayerError.unavailable.response(requestID: requestID)
        response.headers.replaceOrAdd("Retry-After", "1")
        return response
    }

    private func create(_ request: HTTPRequest) throws -> HTTPResponse {
        if let name = try QueryParameters(request.query).pairs.first?.name {
            throw DataLayerError.unknownParameter(name)
        }
        guard Self.isJSONContentType(request.headers.all("Content-Type")) else {
            throw DataLayerError.unsupportedMediaType
        }
        guard request.body.count <= configuration.maxBodyBytes else { throw DataLayerError.bodyTooLarge }
        let input = try EventInputValidator.validate(request.body, limits: configuration.eventLimits)
        let stored = try store.append(input)
        var headers = HTTPHeaders()
        headers.add("Location", Self.eventsPath + "/" + stored.id)
        return .json(status: 201, body: EventJSON.encode(stored), headers: headers)
    }

    private func show(id: Substring, query: Substring?) throws -> HTTPResponse {
        if let name = try QueryParameters(query).pairs.first?.name { throw DataLayerError.unknownParameter(name) }
        guard EventID.isWellFormed(id) else { throw DataLayerError.invalidID }
        guard let event = try store.event(id: String(id)) else { throw DataLayerError.notFound }
        return .json(status: 200, body: EventJSON.encode(event))
    }

    private func list(_ request: HTTPRequest) throws -> HTTPResponse {
        let parameters = try QueryParameters(request.query)
        var query = EventQuery(limit: configuration.defaultPageSize)
        for (name, value) in parameters.pairs {
            switch name {
            case "aggregate_id":
                guard EventInputValidator.isValidIdentifier(value) else {
                    throw DataLayerError.invalidParameter(name, "must be 1-128 of [A-Za-z0-9._:-]")
                }
                query.aggregateID = value
            case "event_type":
                guard EventInputValidator.isValidName(value) else {
                    throw DataLayerError.invalidParameter(name, "must match ^[a-z][a-z0-9_.:-]{0,127}$")
                }
                query.eventType = value
            case "limit":
                guard value.utf8.count <= 7, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                    let limit = Int(value), (1...configuration.maxPageSize).contains(limit)
                else {
                    throw DataLayerError.invalidParameter(name, "must be 1 to \(configuration.maxPageSize)")
                }
                query.limit = limit
            case "after":
                guard let sequence = PageCursor.decode(value) else {
                    throw DataLayerError.invalidParameter(name, "must be a next_after cursor from an earlier page")
                }
                query.afterSequence = sequence
            default:
                throw DataLayerError.unknownParameter(name)
            }
        }
        return .json(status: 200, body: EventJSON.encode(try store.list(query)))
    }

    /// Exactly one `Content-Type` of `application/json`, any parameters, and a charset if any of UTF-8.
    static func isJSONContentType(_ values: [String]) -> Bool {
        guard values.count == 1 else { return false }
        let parts = values[0].split(separator: ";", omittingEmptySubsequences: false).map {
            $0.trimmingSpaces().lowercased()
        }
        guard parts.first == "application/json" else { return false }
        for parameter in parts.dropFirst() where parameter.hasPrefix("charset=") {
            let charset = parameter.dropFirst("charset=".count).filter { $0 != "\"" }
            guard charset == "utf-8" || charset == "utf8" else { return false }
        }
        return true
    }
}
