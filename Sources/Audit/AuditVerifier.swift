import Crypto

/// Checks an audit file and its checkpoints and names the first broken record.
///
/// Every record must be a sealed line whose hash is the HMAC of its content under the chain key (else it was
/// edited), whose sequence is one more than the last (else records were deleted or reordered), and whose
/// `prev_hash` is the previous record's hash. Every checkpoint must be signed by the checkpoint key and name a
/// record that is present with the same hash; a checkpoint past the last record means the file was cut short.
public struct AuditVerifier: Sendable {
    let chainKey: HMACKey
    let checkpointKey: AuditCheckpointKey?

    /// - Parameters:
    ///   - chainKey: the `AUDIT_HMAC_KEY` the records were sealed with.
    ///   - checkpointKey: verifies checkpoints; nil when there are none to check (a checkpoint met then fails).
    public init(chainKey: HMACKey, checkpointKey: AuditCheckpointKey?) {
        self.chainKey = chainKey
        self.checkpointKey = checkpointKey
    }

    /// Verifies `records` (the audit file's lines) and `checkpoints` (the checkpoint file's lines).
    /// - Parameter from: the first sequence checked; earlier records are skipped and the link into
    ///   record `from` is trusted. Default 1, the whole file.
    /// - Returns: what was checked.
    /// - Throws: `AuditVerificationFailure` naming the first broken record or checkpoint.
    public func verify(
        records: some Sequence<[UInt8]>, checkpoints: [[UInt8]], from: UInt64 = 1
    ) throws(AuditVerificationFailure) -> AuditVerificationReport {
        let marks = try readCheckpoints(checkpoints, from: from)
        var pendingMarks = marks[...]
        var report = AuditVerificationReport()
        var previous: SealedLine?
        let lines = Array(records)
        var lineNumber = 0
        for bytes in lines {
            lineNumber += 1
            guard let line = SealedLine(bytes) else {
                throw AuditVerificationFailure(line: lineNumber, .unreadable(after: previous?.sequence))
            }
            if previous == nil && line.sequence < from { continue }
            guard line.verifies(with: chainKey) else {
                throw AuditVerificationFailure(line: lineNumber, .edited(line.sequence))
            }
            let expected = previous.map { $0.sequence + 1 } ?? from
            if line.sequence != expected {
                // Only on failure: look ahead once to tell a swap from a deletion.
                let later = lines[lineNumber...].contains { SealedLine($0)?.sequence == expected }
                let kind: AuditVerificationFailure.Kind =
                    later || line.sequence < expected
                    ? .reordered(expected: expected, found: line.sequence)
                    : .deleted(expected: expected, found: line.sequence)
                throw AuditVerificationFailure(line: lineNumber, kind)
            }
            if let previous, line.prevHash != previous.hash {
                throw AuditVerificationFailure(line: lineNumber, .brokenLink(line.sequence))
            }
            if previous == nil && from == 1 && line.prevHash != AuditRecord.genesisHash {
                throw AuditVerificationFailure(line: lineNumber, .brokenLink(line.sequence))
            }
            while let mark = pendingMarks.first, mark.sequence == line.sequence {
                guard mark.hash == line.hash else {
                    throw AuditVerificationFailure(line: lineNumber, .checkpointMismatch(line.sequence))
                }
                pendingMarks.removeFirst()
                report.checkpoints += 1
                report.lastCheckpointSequence = mark.sequence
            }
            if report.firstSequence == nil { report.firstSequence = line.sequence }
            report.lastSequence = line.sequence
            report.records += 1
            previous = line
        }
        if let mark = pendingMarks.first {
            let kind = AuditVerificationFailure.Kind.truncated(checkpoint: mark.sequence, last: previous?.sequence)
            throw AuditVerificationFailure(line: lineNumber, kind)
        }
        return report
    }

    /// Parses and checks the signature of every checkpoint at or after `from`, in file order.
    private func readCheckpoints(
        _ lines: [[UInt8]], from: UInt64
    ) throws(AuditVerificationFailure) -> [AuditCheckpoint] {
        var marks: [AuditCheckpoint] = []
        for (index, bytes) in lines.enumerated() {
            guard let mark = AuditCheckpoint(line: bytes) else {
                throw AuditVerificationFailure(checkpointLine: index + 1, .checkpointUnreadable)
            }
            guard let checkpointKey, mark.isSigned(by: checkpointKey) else {
                throw AuditVerificationFailure(checkpointLine: index + 1, .checkpointSignature(mark.sequence))
            }
            if let last = marks.last, mark.sequence < last.sequence {
                throw AuditVerificationFailure(checkpointLine: index + 1, .checkpointOrder(mark.sequence))
            }
            if mark.sequence >= from { marks.append(mark) }
        }
        return marks
    }
}

/// What a successful verification covered.
public struct AuditVerificationReport: Sendable, Equatable {
    public var records = 0
    public var firstSequence: UInt64?
    public var lastSequence: UInt64?
    public var checkpoints = 0
    public var lastCheckpointSequence: UInt64?
}

/// The first thing found wrong, with the line it was found on (1-based) in the audit or checkpoint file.
public struct AuditVerificationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A line that is not a sealed record (torn, or edited so that it no longer parses).
        case unreadable(after: UInt64?)
        /// The record's hash does not authenticate its content.
        case edited(UInt64)
        /// Record `expected` is missing: the next one present is `found`.
        case deleted(expected: UInt64, found: UInt64)
        /// Record `found` stands where `expected` should.
        case reordered(expected: UInt64, found: UInt64)
        /// The record's `prev_hash` is not the previous record's hash.
        case brokenLink(UInt64)
        /// A checkpoint names a record past the last one in the file.
        case truncated(checkpoint: UInt64, last: UInt64?)
        /// A checkpoint's hash differs from the record it names.
        case checkpointMismatch(UInt64)
        case checkpointUnreadable
        case checkpointSignature(UInt64)
        case checkpointOrder(UInt64)
        /// The audit file (line 0) or the checkpoint file (checkpoint line 0) cannot be read.
        case fileUnreadable
    }

    public let kind: Kind
    /// The line of the audit file, or nil when the problem is in the checkpoint file.
    public let line: Int?
    /// The line of the checkpoint file, when the problem is there.
    public let checkpointLine: Int?

    init(line: Int, _ kind: Kind) {
        self.kind = kind
        self.line = line
        checkpointLine = nil
    }

    init(checkpointLine: Int, _ kind: Kind) {
        self.kind = kind
        line = nil
        self.checkpointLine = checkpointLine
    }

    public var description: String {
        let place = line.map { "line \($0)" } ?? "checkpoint line \(checkpointLine ?? 0)"
        switch kind {
        case .unreadable(let after):
            let context = after.map { " (after record \($0))" } ?? ""
            return "\(place)\(context): not a sealed audit record (edited or torn)"
        case .edited(let sequence): return "record \(sequence) (\(place)): hash does not match its content (edited)"
        case .deleted(let expected, let found):
            let range = found - 1 > expected ? "records \(expected)-\(found - 1) are" : "record \(expected) is"
            return "\(range) missing (deleted): \(place) holds record \(found)"
        case .reordered(let expected, let found):
            return "record \(found) (\(place)) is out of order: record \(expected) was expected (reordered)"
        case .brokenLink(let sequence):
            return "record \(sequence) (\(place)): prev_hash does not link to the record before it"
        case .truncated(let checkpoint, let last):
            let end = last.map { "the file ends at record \($0)" } ?? "the file holds no record"
            return "truncated: a checkpoint names record \(checkpoint) but \(end)"
        case .checkpointMismatch(let sequence):
            return "record \(sequence) (\(place)): differs from the checkpoint that names it"
        case .checkpointUnreadable: return "\(place): not a checkpoint"
        case .checkpointSignature(let sequence):
            return "\(place): checkpoint of record \(sequence) is not signed by the checkpoint key"
        case .checkpointOrder(let sequence): return "\(place): checkpoint of record \(sequence) is out of order"
        case .fileUnreadable:
            return line != nil ? "the audit file cannot be read" : "the checkpoint file cannot be read"
        }
    }
}
