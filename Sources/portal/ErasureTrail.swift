import Audit
import Store
import Synchronization

/// Writes each erasure made through the data layer's API to this process's audit trail as `data.erased`: the
/// actor, the request id, and the subject only by a prefix of its keyed hash, never its id.
///
/// The data layer starts before the gateway's audit log exists, so the log is attached afterwards; erasures
/// before that (or in a data-layer-only process) are recorded by the store's `subject.erased` event alone.
final class ErasureTrail: Sendable {
    private let log = Mutex<AuditLog?>(nil)

    func attach(_ audit: AuditLog?) {
        log.withLock { $0 = audit }
    }

    func record(_ erasure: SubjectErasure, actor: String, requestID: String?) {
        guard let audit = log.withLock({ $0 }) else { return }
        audit.record(
            AuditRecord(
                type: .dataErased, outcome: .success, requestID: requestID, subject: actor, route: "/api/v1/subjects",
                reason: "subject_hash=\(erasure.subjectHash.prefix(16)) events=\(erasure.erasedEvents) "
                    + "data_keys=\(erasure.destroyedKeys) record=\(erasure.recordID)"))
    }
}
