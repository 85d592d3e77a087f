import Auth
import DataLayer
import Foundation
import HTTPCodec
import PortalCore
import Store
import Synchronization

/// A router over a fresh SQLite store in a temporary directory, on a fixed clock.
struct RouterHarness {
    static let key = "svc-key-7f3a9c0e5b1d"
    /// The identity key of harnesses made with `signed: true` (as `L01_IDENTITY_KEY`).
    static let identityKey = Array("identity-key-for-the-router-harness-0123".utf8)
    let router: DataLayerRouter
    /// Signs consumer identities as the gateway does, when the router checks them.
    let signer: ConsumerSignature?

    init(
        configuration: DataLayerConfiguration = DataLayerConfiguration(), encryption: EventEncryption? = nil,
        signed: Bool = false,
        onErasure: @escaping @Sendable (SubjectErasure, String, String?) -> Void = { _, _, _ in }
    ) throws {
        let directory = NSTemporaryDirectory() + "data-layer-tests-" + UUID().uuidString
        let store = try SQLiteEventStore(
            directory: directory, clock: ManualClock(unixSeconds: 1_767_225_600), encryption: encryption)
        router = DataLayerRouter(
            store: store, auditRecords: store, authenticator: ServiceKeyAuthenticator(keys: [Self.key]),
            configuration: configuration, identity: signed ? ConsumerSignatureVerifier(key: Self.identityKey) : nil,
            onErasure: onErasure)
        signer = signed ? ConsumerSignature(key: Self.identityKey) : nil
    }

    /// Routes `request`, first adding the gateway's signature over its identity headers when the harness signs.
    func route(_ request: HTTPRequest) -> HTTPResponse {
        guard let signer else { return router.route(request) }
        var request = request
        let timestamp = Int64(Date().timeIntervalSince1970)
        let nonce = UUID().uuidString
        request.headers.add(ConsumerSignature.timestampHeader, String(timestamp))
        request.headers.add(ConsumerSignature.nonceHeader, nonce)
        let fields = ConsumerSignature.Fields(
            timestamp: timestamp, nonce: nonce, requestID: request.headers.first("X-Request-ID") ?? "",
            method: request.method, target: request.target,
            consumerID: request.headers.first("X-Consumer-ID") ?? "",
            scopes: request.headers.first("X-Consumer-Scopes") ?? "")
        request.headers.add(ConsumerSignature.signatureHeader, signer.sign(fields))
        return router.route(request)
    }

    func send(
        _ method: String, _ target: String, body: [UInt8] = [], contentType: String? = "application/json",
        key: String? = RouterHarness.key
    ) -> HTTPResponse {
        var headers = HTTPHeaders()
        if let key { headers.add("X-Service-Key", key) }
        if let contentType { headers.add("Content-Type", contentType) }
        return route(HTTPRequest(method: method, target: target, headers: headers, body: body))
    }

    func post(_ json: String) -> HTTPResponse { send("POST", "/api/v1/events", body: Array(json.utf8)) }

    /// Appends an event and returns its decoded JSON.
    func append(aggregate: String, type: String = "story.created", n: Int = 0) throws -> [String: Any] {
        let body =
            "{\"event_type\":\"\(type)\",\"aggregate_type\":\"story\",\"aggregate_id\":\"\(aggregate)\","
            + "\"payload\":{\"n\":\(n)}}"
        let response = post(body)
        guard response.status == 201 else { throw HarnessError.unexpectedStatus(response.status) }
        return try response.jsonObject()
    }
}

enum HarnessError: Error {
    case unexpectedStatus(Int)
    case notAnObject
}

extension HTTPResponse {
    func jsonObject() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw HarnessError.notAnObject
        }
        return object
    }

    /// The `error.code` and `error.field` of a JSON error body.
    var errorCodeAndField: (code: String?, field: String?) {
        let error = (try? jsonObject())?["error"] as? [String: Any]
        return (error?["code"] as? String, error?["field"] as? String)
    }
}

/// A thread-safe count that escaping callbacks can capture.
final class Counter: Sendable {
    private let count = Mutex(0)

    func increment() { count.withLock { $0 += 1 } }

    var value: Int { count.withLock { $0 } }
}
