import Crypto
import Foundation
import Testing

@testable import Audit

@Suite("AuditVerifier: tampering is found and named")
struct AuditVerifierTests {
    let signer: AuditCheckpointSigner
    let verifier: AuditVerifier

    init() throws {
        signer = try AuditCheckpointSigner(privateKey: PrivateKey.generate(.ed25519))
        verifier = AuditVerifier(chainKey: goldenChainKey, checkpointKey: signer.verificationKey)
    }

    /// Ten sealed lines (sequences 1…10) and a checkpoint of record 10.
    private func chain(count: Int = 10) -> (records: [[UInt8]], checkpoints: [[UInt8]]) {
        var previous = AuditRecord.genesisHash
        var lines: [[UInt8]] = []
        for n in 1...count {
            var record = AuditRecord(type: .authFailure, outcome: .failure, requestID: "req-\(n)", reason: "expired")
            record.sequence = UInt64(n)
            record.timeMicroseconds = 1_767_225_600_000_000 + Int64(n)
            record.prevHash = previous
            lines.append(Array(record.sealLine(key: goldenChainKey).dropLast()))
            previous = record.hash
        }
        let mark = signer.checkpoint(sequence: UInt64(count), hash: previous, timeMicroseconds: 1_767_225_601_000_000)
        return (lines, [Array(mark!.line().dropLast())])
    }

    private func failure(
        _ records: [[UInt8]], _ checkpoints: [[UInt8]], from: UInt64 = 1
    ) -> AuditVerificationFailure? {
        do {
            _ = try verifier.verify(records: records, checkpoints: checkpoints, from: from)
            return nil
        } catch {
            return error
        }
    }

    private func replacing(_ line: [UInt8], _ old: String, _ new: String) -> [UInt8] {
        Array(String(decoding: line, as: UTF8.self).replacingOccurrences(of: old, with: new).utf8)
    }

    @Test("an intact chain verifies, counting records and checkpoints")
    func intact() throws {
        let (records, checkpoints) = chain()
        let report = try verifier.verify(records: records, checkpoints: checkpoints)
        #expect(report.records == 10 && report.firstSequence == 1 && report.lastSequence == 10)
        #expect(report.checkpoints == 1 && report.lastCheckpointSequence == 10)
    }

    @Test("one edited byte in a field names that record as edited")
    func editedField() {
        var (records, checkpoints) = chain()
        records[4] = replacing(records[4], "req-5", "req-6")
        let found = failure(records, checkpoints)
        #expect(found?.kind == .edited(5))
        #expect(found?.line == 5)
        #expect(found?.description.contains("record 5") == true)
    }

    @Test("an edit that breaks the JSON names the line as unreadable")
    func editedSyntax() {
        var (records, checkpoints) = chain()
        records[6][0] = UInt8(ascii: "[")
        #expect(failure(records, checkpoints)?.kind == .unreadable(after: 6))
    }

    @Test("a record re-sealed under another key is found as edited")
    func resealedWithAnotherKey() {
        var (records, checkpoints) = chain()
        var forged = AuditRecord(type: .authSuccess, outcome: .success, requestID: "req-3")
        forged.sequence = 3
        forged.prevHash =
            String(decoding: records[1], as: UTF8.self).components(separatedBy: "\"hash\":\"")[1]
            .prefix(64).description
        records[2] = Array(forged.sealLine(key: HMACKey(secret: Array(repeating: 7, count: 32))).dropLast())
        #expect(failure(records, checkpoints)?.kind == .edited(3))
    }

    @Test("a deleted record is named with the record found in its place")
    func deleted() {
        var (records, checkpoints) = chain()
        records.remove(at: 4)
        let found = failure(records, checkpoints)
        #expect(found?.kind == .deleted(expected: 5, found: 6))
        #expect(found?.description.contains("record 5 is missing") == true)
        records.remove(at: 4)
        #expect(failure(records, checkpoints)?.kind == .deleted(expected: 5, found: 7))
    }

    @Test("two swapped records are named as reordered")
    func swapped() {
        var (records, checkpoints) = chain()
        records.swapAt(3, 4)
        #expect(failure(records, checkpoints)?.kind == .reordered(expected: 4, found: 5))
    }

    @Test("a record repeated later is reordered, not accepted")
    func duplicated() {
        var (records, checkpoints) = chain()
        records.insert(records[2], at: 6)
        #expect(failure(records, checkpoints)?.kind == .reordered(expected: 7, found: 3))
    }

    @Test("cutting the tail is found through the checkpoint that names a record no longer there")
    func truncatedTail() {
        var (records, checkpoints) = chain()
        records.removeLast(3)
        let found = failure(records, checkpoints)
        #expect(found?.kind == .truncated(checkpoint: 10, last: 7))
        #expect(found?.description.hasPrefix("truncated") == true)
        #expect(failure([], checkpoints)?.kind == .truncated(checkpoint: 10, last: nil))
    }

    @Test("deleting the first record is found: the chain must start at the genesis hash")
    func firstRecordDeleted() {
        var (records, checkpoints) = chain()
        records.removeFirst()
        #expect(failure(records, checkpoints)?.kind == .deleted(expected: 1, found: 2))
    }

    @Test("--from skips earlier records and trusts the link into the first one checked")
    func fromSequence() throws {
        var (records, checkpoints) = chain()
        records[1] = replacing(records[1], "req-2", "req-X")
        #expect(failure(records, checkpoints)?.kind == .edited(2))
        let report = try verifier.verify(records: records, checkpoints: checkpoints, from: 3)
        #expect(report.records == 8 && report.firstSequence == 3)
        records[5] = replacing(records[5], "req-6", "req-Y")
        #expect(failure(records, checkpoints, from: 3)?.kind == .edited(6))
    }

    @Test("a checkpoint signed by another key, or edited, is refused")
    func forgedCheckpoint() throws {
        let (records, checkpoints) = chain()
        let other = try AuditCheckpointSigner(privateKey: PrivateKey.generate(.ed25519))
        let lastHash = try #require(SealedLine(records[9])).hash
        let forged = try #require(other.checkpoint(sequence: 10, hash: lastHash, timeMicroseconds: 1))
        #expect(failure(records, [Array(forged.line().dropLast())])?.kind == .checkpointSignature(10))
        let moved = replacing(checkpoints[0], "\"sequence\":10", "\"sequence\":9")
        #expect(failure(records, [moved])?.kind == .checkpointSignature(9))
        #expect(failure(records, [Array("{}".utf8)])?.kind == .checkpointUnreadable)
    }

    @Test("a validly signed checkpoint whose hash differs from the record is a mismatch")
    func checkpointMismatch() throws {
        let (records, _) = chain()
        let mark = try #require(
            signer.checkpoint(sequence: 4, hash: String(repeating: "a", count: 64), timeMicroseconds: 1))
        #expect(failure(records, [Array(mark.line().dropLast())])?.kind == .checkpointMismatch(4))
    }

    @Test("checkpoints with ECDSA P-256 keys verify too; RSA keys are refused")
    func ecdsaCheckpoints() throws {
        let ecSigner = try AuditCheckpointSigner(privateKey: PrivateKey.generate(.ec(.p256)))
        let mark = try #require(ecSigner.checkpoint(sequence: 1, hash: AuditRecord.genesisHash, timeMicroseconds: 5))
        #expect(mark.algorithm == "ES256")
        #expect(mark.isSigned(by: ecSigner.verificationKey))
        #expect(!mark.isSigned(by: signer.verificationKey))
        #expect(throws: AuditKeyError.self) {
            try AuditCheckpointSigner(privateKey: PrivateKey.generate(.rsa(bits: 2048)))
        }
    }

    @Test("AuditLog writes a signed checkpoint at close; the file verifies, and cutting its last line is found")
    func logWritesCheckpoints() throws {
        let directory = NSTemporaryDirectory() + "audit-verify-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/audit.log"
        let log = try AuditLog(
            path: path, commitIntervalMilliseconds: 5, chainKey: goldenChainKey, checkpointSigner: signer)
        for n in 1...20 { log.record(AuditRecord(type: .authzDenied, outcome: .denied, requestID: "req-\(n)")) }
        #expect(log.close())
        let report = try verifier.verify(file: path)
        #expect(report.records == 20 && report.lastCheckpointSequence == 20)
        let mode = try FileManager.default.attributesOfItem(atPath: AuditLog.checkpointPath(for: path))[
            .posixPermissions]
        #expect((mode as? NSNumber)?.intValue == 0o600)

        let text = try String(contentsOfFile: path, encoding: .utf8)
        let kept = text.split(separator: "\n").dropLast().joined(separator: "\n") + "\n"
        try kept.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: AuditVerificationFailure(line: 19, .truncated(checkpoint: 20, last: 19))) {
            try verifier.verify(file: path)
        }
    }
}
