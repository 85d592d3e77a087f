import Foundation

extension AuditVerifier {
    /// Verifies the audit file at `path` and its checkpoint file (`AuditLog.checkpointPath(for:)`; a missing
    /// checkpoint file counts as none). Meant for operators' commands, not for a request path: both files are
    /// read whole.
    /// - Throws: `AuditVerificationFailure`: the first broken record or checkpoint, or an unreadable file.
    ///
    /// Retired files (`AuditRetiredFiles`, compressed or not) are read first, in chain order, so the chain is
    /// checked across rotations; line numbers count through all of them. When retention deleted the oldest
    /// files, checking starts at the first record still kept, trusting its link (as `from` does).
    public func verify(
        file path: String, from: UInt64 = 1
    ) throws(AuditVerificationFailure) -> AuditVerificationReport {
        var records = Data()
        for retired in AuditRetiredFiles.list(for: path) {
            guard let bytes = try? AuditRetiredFiles.contents(of: retired) else {
                throw AuditVerificationFailure(line: 0, .fileUnreadable)
            }
            records.append(contentsOf: bytes)
        }
        if let current = FileManager.default.contents(atPath: path) {
            records.append(current)
        } else if records.isEmpty {
            throw AuditVerificationFailure(line: 0, .fileUnreadable)
        }
        let lines = Self.lines(records)
        var from = from
        if let first = lines.first.flatMap({ SealedLine($0)?.sequence }), first > from { from = first }
        let checkpointPath = AuditLog.checkpointPath(for: path)
        var checkpoints: [[UInt8]] = []
        if FileManager.default.fileExists(atPath: checkpointPath) {
            guard let data = FileManager.default.contents(atPath: checkpointPath) else {
                throw AuditVerificationFailure(checkpointLine: 0, .fileUnreadable)
            }
            checkpoints = Self.lines(data)
        }
        return try verify(records: lines, checkpoints: checkpoints, from: from)
    }

    /// Verifies records read back from the store (their sealed lines, in sequence order) with the chain key, and
    /// with those checkpoints of the file at `checkpointPath` that name records the store already holds (the store
    /// may lag the file by what is not shipped yet; comparing the two finds a tail cut from the store).
    /// - Throws: `AuditVerificationFailure`: the first broken record or checkpoint.
    public func verify(
        storedLines lines: [[UInt8]], checkpointPath: String?, from: UInt64 = 1
    ) throws(AuditVerificationFailure) -> AuditVerificationReport {
        var checkpoints: [[UInt8]] = []
        if let checkpointPath, FileManager.default.fileExists(atPath: checkpointPath) {
            guard let data = FileManager.default.contents(atPath: checkpointPath) else {
                throw AuditVerificationFailure(checkpointLine: 0, .fileUnreadable)
            }
            let last = lines.last.flatMap { SealedLine($0)?.sequence } ?? 0
            // Unreadable checkpoint lines are kept, so that verification names them.
            checkpoints = Self.lines(data).filter { line in
                AuditCheckpoint(line: line).map { $0.sequence <= last } ?? true
            }
        }
        return try verify(records: lines, checkpoints: checkpoints, from: from)
    }

    /// The newline-separated lines of `data`; a last line without its newline is kept (a torn write shows).
    static func lines(_ data: Data) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in data {
            if byte == UInt8(ascii: "\n") {
                lines.append(current)
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
