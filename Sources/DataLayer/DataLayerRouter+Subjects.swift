import HTTPCodec
import PortalCore
import Store

/// The right to erasure: `DELETE /api/v1/subjects/{id}` → 200
/// `{"subject_hash","data_keys_destroyed","events_erased","record_id"}`.
///
/// The subject is the aggregate id of its events. Erasure destroys the subject's data keys, overwrites its
/// events' payload and metadata with `null`, replaces their aggregate id, and records a `subject.erased` event
/// naming the subject only by its keyed hash (docs/encryption-at-rest.md). Idempotent: erasing again, or a
/// subject never seen, answers 200 with zero counts, so the answer says nothing about whether data existed.
/// Only a caller holding `subjects:erase` or `*` (in `X-Consumer-Scopes`, signed by the gateway when
/// `L01_IDENTITY_KEY` is set) gets that far: anyone else gets 403 before the id is even looked at.
extension DataLayerRouter {
    /// The scope that erasure needs.
    public static let erasureScope = "subjects:erase"

    /// - Parameter identityChecked: whether the caller's scopes were signed by the gateway (`L01_IDENTITY_KEY`);
    ///   without that, `X-Consumer-Scopes` is anybody's word and nobody erases.
    func routeSubjects(_ request: HTTPRequest, identityChecked: Bool) throws -> HTTPResponse {
        let id = request.path.dropFirst(Self.subjectsPath.count + 1)
        guard !id.isEmpty, !id.contains("/") else { throw DataLayerError.notFound }
        guard request.method == "DELETE" else { throw DataLayerError.methodNotAllowed("DELETE") }
        guard identityChecked else { throw DataLayerError.erasureIdentityRequired }
        guard Self.holdsErasureScope(Self.single(request, "X-Consumer-Scopes")) else {
            throw DataLayerError.erasureForbidden
        }
        if let name = try QueryParameters(request.query).pairs.first?.name {
            throw DataLayerError.unknownParameter(name)
        }
        guard EventInputValidator.isValidIdentifier(id), !SubjectErasure.isReserved(aggregateID: id) else {
            throw DataLayerError.invalidSubject
        }
        let actor = Self.single(request, "X-Consumer-ID").flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        let erasure: SubjectErasure
        do {
            erasure = try store.eraseSubject(String(id), actor: actor)
        } catch let error as StoreError where error.isEncryptionFailure && "\(error.operation)" == "no_master_key" {
            throw DataLayerError.erasureUnavailable
        }
        onErasure(erasure, actor, Self.single(request, "X-Request-ID"))
        var body: [UInt8] = Array("{\"subject_hash\":".utf8)
        JSONEscaping.appendQuoted(erasure.subjectHash, to: &body)
        body += Array(",\"data_keys_destroyed\":\(erasure.destroyedKeys),".utf8)
        body += Array("\"events_erased\":\(erasure.erasedEvents),\"record_id\":".utf8)
        JSONEscaping.appendQuoted(erasure.recordID, to: &body)
        body.append(UInt8(ascii: "}"))
        return .json(status: 200, body: body)
    }

    /// Whether the space-separated scopes include `subjects:erase` or `*`.
    static func holdsErasureScope(_ header: String?) -> Bool {
        guard let header else { return false }
        return header.split(separator: " ").contains { $0 == "*" || $0 == erasureScope }
    }
}
