import Synchronization

/// Whether each audit sink can write durably now: set by the file writer and the store shipper, read per
/// request by the fail mode (`AUDIT_FAIL_MODE`) with two atomic loads and no lock.
final class AuditSinkHealth: Sendable {
    /// The last write and sync of the file succeeded, or the file was opened since it last failed.
    let fileWritable = Atomic<Bool>(true)
    /// The store acknowledged the shipper's last call; false until it first answers, and with no shipper.
    let storeWritable = Atomic<Bool>(false)
    /// The writer's in-memory spill is full: the store can take no new record until the file is back.
    let spillFull = Atomic<Bool>(false)
}

extension AuditLog {
    /// Whether a record given now can become durable in some sink: the file can be written, or the store
    /// answers and the spill that feeds it while the file fails has room.
    ///
    /// `AUDIT_FAIL_MODE=closed` refuses requests while this is false. Two atomic loads, no lock.
    public var acceptsDurably: Bool {
        if health.fileWritable.load(ordering: .relaxed) { return true }
        return health.storeWritable.load(ordering: .relaxed) && !health.spillFull.load(ordering: .relaxed)
    }

    /// Whether the audit file's last write and sync succeeded.
    public var isFileWritable: Bool { health.fileWritable.load(ordering: .relaxed) }

    /// Whether the store sink's last call succeeded.
    public var isStoreWritable: Bool { health.storeWritable.load(ordering: .relaxed) }

    /// Told by the shipper after each call to the store: whether it answered.
    func storeAnswered(_ answered: Bool) {
        health.storeWritable.store(answered, ordering: .relaxed)
    }

    /// Told by the shipper: the store holds every record up to `sequence`, so they are durable even if the
    /// file never gets them.
    func storeAcknowledged(_ sequence: UInt64) {
        state.withLock { $0.storeAcknowledged = max($0.storeAcknowledged, sequence) }
        state.broadcast()
    }

    /// While the file fails: up to `maxRecords` sealed lines (about `maxBytes`) following `sequence`, from the
    /// writer's spill, for the store sink. nil while the file works (the shipper then reads the file, which
    /// alone guarantees the store never holds a record that a crash could take from the file) or when the
    /// spill does not hold `sequence + 1`.
    func spilledLines(after sequence: UInt64, maxRecords: Int, maxBytes: Int) -> [[UInt8]]? {
        state.withLock { state -> [[UInt8]]? in
            guard state.fileFailing, let first = state.spill.first, first.sequence <= sequence + 1,
                sequence + 1 < first.sequence + UInt64(state.spill.count)
            else { return nil }
            var lines: [[UInt8]] = []
            var bytes = 0
            for entry in state.spill[Int(sequence + 1 - first.sequence)...] {
                guard lines.count < maxRecords, bytes < maxBytes else { break }
                lines.append(entry.line)
                bytes += entry.line.count
            }
            return lines
        }
    }
}
