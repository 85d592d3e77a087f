import PortalCore

#if canImport(Glibc)
    import Glibc
#endif

/// Appends signed checkpoints of the durable chain head to `<audit file>.checkpoints`, at most once per interval.
///
/// `@unchecked Sendable`: created by `AuditLog` and then used only on the audit writer thread.
final class AuditCheckpointWriter: @unchecked Sendable {
    private let path: String
    private let signer: AuditCheckpointSigner
    private let intervalNanoseconds: UInt64
    private let clock: any PortalClock
    private let onSinkError: @Sendable (AuditSinkError) -> Void
    private var descriptor: Int32 = -1
    /// The newest record known to be on disk, and its chain hash.
    private var durableSequence: UInt64
    private var durableHash: String
    private var checkpointedSequence: UInt64 = 0
    private var lastAttempt: UInt64

    init(
        path: String, signer: AuditCheckpointSigner, intervalNanoseconds: UInt64, clock: any PortalClock,
        tail: AuditChainTail, onSinkError: @escaping @Sendable (AuditSinkError) -> Void
    ) {
        self.path = path
        self.signer = signer
        self.intervalNanoseconds = intervalNanoseconds
        self.clock = clock
        self.onSinkError = onSinkError
        durableSequence = tail.lastSequence
        durableHash = tail.lastHash
        lastAttempt = clock.monotonicNanoseconds()
    }

    /// The writer made records up to `sequence` durable; `hash` is the chain hash of that record.
    func durable(sequence: UInt64, hash: String) {
        durableSequence = sequence
        durableHash = hash
    }

    /// Writes a checkpoint of the durable head when it moved and the interval passed (or `force`).
    func checkpointIfDue(force: Bool) {
        guard durableSequence > checkpointedSequence else { return }
        let now = clock.monotonicNanoseconds()
        guard force || now &- lastAttempt >= intervalNanoseconds else { return }
        lastAttempt = now
        let time = clock.unixNanoseconds() / 1000
        guard let checkpoint = signer.checkpoint(sequence: durableSequence, hash: durableHash, timeMicroseconds: time)
        else {
            onSinkError(.checkpoint(0))
            return
        }
        if let error = append(checkpoint.line()) {
            onSinkError(error)
            return
        }
        checkpointedSequence = durableSequence
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    /// Appends and syncs one line; a short or failed write is reported and the next interval tries again.
    private func append(_ line: [UInt8]) -> AuditSinkError? {
        if descriptor < 0 {
            descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { return .checkpoint(errno) }
        }
        var offset = 0
        while offset < line.count {
            let written = line[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let error = errno
                Glibc.close(descriptor)
                descriptor = -1
                return .checkpoint(error)
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else { return .checkpoint(errno) }
        return nil
    }
}
