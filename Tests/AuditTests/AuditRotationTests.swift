import Crypto
import Foundation
import PortalCore
import Testing

@testable import Audit

/// Rotation of the audit file by size, zlib compression of retired files, the chain across files, retention.
@Suite("Audit file rotation, compression and retention")
struct AuditRotationTests {
    let key = HMACKey(secret: Array("rotation-tests-chain-key-32-bytes!!".utf8))

    private func temporaryDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "audit-rotation-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Writes `count` records in small flushed batches, so that the writer commits (and may rotate) often.
    private func write(_ log: AuditLog, _ count: Int, from start: Int = 0) {
        for n in start..<(start + count) {
            log.record(AuditRecord(type: .authFailure, outcome: .failure, requestID: "req-\(n)", reason: "test"))
            if n % 4 == 3 { #expect(log.flush()) }
        }
        #expect(log.flush())
    }

    private func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    private func verify(_ path: String) throws -> AuditVerificationReport {
        try AuditVerifier(chainKey: key, checkpointKey: nil).verify(file: path)
    }

    @Test("by size: retired files are zlib-compressed, the chain runs across them, and a reopened log continues it")
    func rotatesCompressesAndVerifies() throws {
        let path = try temporaryDirectory() + "/audit.log"
        let rotation = AuditRotation(maxBytes: 2000)
        var log = try AuditLog(path: path, commitIntervalMilliseconds: 5, chainKey: key, rotation: rotation)
        write(log, 40)
        log.close()
        #expect(eventually(within: 10) { AuditRetiredFiles.list(for: path).allSatisfy(\.compressed) })
        let retired = AuditRetiredFiles.list(for: path)
        #expect(retired.count >= 4, "\(retired)")
        // Each retired file is one zlib stream of whole sealed lines, ending at the sequence in its name.
        for file in retired {
            let packed = try #require(FileManager.default.contents(atPath: file.path))
            let lines = try #require(Zlib.decompress(Array(packed))).split(separator: UInt8(ascii: "\n"))
            #expect(SealedLine(Array(lines.last ?? []))?.sequence == file.lastSequence)
            #expect(packed.count < lines.reduce(0) { $0 + $1.count } / 2, "sealed lines compress well")
        }
        var report = try verify(path)
        #expect(report.records == 40 && report.firstSequence == 1 && report.lastSequence == 40)

        // Reopened (the current file may be empty right after a rotation): the chain goes on from the last file.
        log = try AuditLog(path: path, commitIntervalMilliseconds: 5, chainKey: key, rotation: rotation)
        write(log, 10, from: 40)
        log.close()
        report = try verify(path)
        #expect(report.records == 50 && report.lastSequence == 50)

        // An edit inside a compressed file shows, even re-compressed by someone without the chain key.
        let victim = try #require(AuditRetiredFiles.list(for: path).first { $0.compressed })
        var text = String(decoding: try AuditRetiredFiles.contents(of: victim), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"req-2\"", with: "\"req-X\"")
        let repacked = try #require(Zlib.compress(Array(text.utf8)))
        try Data(repacked).write(to: URL(fileURLWithPath: victim.path))
        #expect(throws: AuditVerificationFailure.self) { try verify(path) }
    }

    @Test("a retired file that inflates far beyond what the writer makes is refused, not inflated into memory")
    func decompressionBombIsRefused() throws {
        let path = try temporaryDirectory() + "/audit.log"
        let log = try AuditLog(
            path: path, commitIntervalMilliseconds: 5, chainKey: key, rotation: AuditRotation(maxBytes: 2000))
        write(log, 30)
        log.close()
        #expect(eventually(within: 10) { AuditRetiredFiles.list(for: path).allSatisfy(\.compressed) })
        let victim = try #require(AuditRetiredFiles.list(for: path).first)
        // What the writer made inflates well inside the bound.
        let genuine = try AuditRetiredFiles.contents(of: victim)
        let packedSize = try #require(FileManager.default.contents(atPath: victim.path)).count
        #expect(genuine.count < packedSize * AuditRetiredFiles.maximumInflationRatio / 4)
        // 16 MiB of newlines packs into about 16 KiB: past the bound long before it is all inflated.
        let bomb = try #require(Zlib.compress([UInt8](repeating: 0x0A, count: 16 << 20)))
        #expect(bomb.count * AuditRetiredFiles.maximumInflationRatio < 16 << 20)
        try Data(bomb).write(to: URL(fileURLWithPath: victim.path))
        #expect(throws: AuditLogError.retiredUnreadable) { try AuditRetiredFiles.contents(of: victim) }
        #expect(throws: AuditVerificationFailure.self) { try verify(path) }
    }

    @Test("a background verifier follows the file across rotations")
    func tailVerifierFollowsRotation() throws {
        let path = try temporaryDirectory() + "/audit.log"
        let log = try AuditLog(
            path: path, commitIntervalMilliseconds: 5, chainKey: key, rotation: AuditRotation(maxBytes: 1500))
        let verifier = AuditTailVerifier(
            path: path, chainKey: key, durableSequence: { log.fileDurableSequence }, intervalMilliseconds: 5)
        verifier.start()
        defer { verifier.stop() }
        write(log, 30)
        #expect(
            verifier.waitUntilVerified(30, timeoutMilliseconds: 10_000),
            "verified \(verifier.lastVerifiedSequence), files \(AuditRetiredFiles.list(for: path).map(\.lastSequence))")
        #expect(verifier.failure == nil)
        #expect(AuditRetiredFiles.list(for: path).count >= 3)
        log.close()
    }

    @Test("retention deletes only retired files older than AUDIT_RETENTION_DAYS, never the current file")
    func retentionDeletesOnlyOldRetiredFiles() throws {
        let path = try temporaryDirectory() + "/audit.log"
        let log = try AuditLog(
            path: path, commitIntervalMilliseconds: 5, chainKey: key, rotation: AuditRotation(maxBytes: 2000))
        write(log, 40)
        log.record(AuditRecord(type: .authFailure, outcome: .failure, requestID: "last", reason: "test"))
        #expect(log.flush())
        log.close()
        #expect(eventually(within: 10) { AuditRetiredFiles.list(for: path).allSatisfy(\.compressed) })
        let retired = AuditRetiredFiles.list(for: path)
        #expect(retired.count >= 4)

        // The two oldest files and the current one were last touched ten days ago.
        let now = Int64(Date().timeIntervalSince1970)
        let tenDaysAgo = Date(timeIntervalSince1970: TimeInterval(now - 10 * 86_400))
        for target in [retired[0].path, retired[1].path, path] {
            try FileManager.default.setAttributes([.modificationDate: tenDaysAgo], ofItemAtPath: target)
        }
        let deleted = AuditRetiredFiles.applyRetention(for: path, days: 7, nowSeconds: now)
        #expect(deleted == [retired[0].path, retired[1].path])
        #expect(AuditRetiredFiles.list(for: path) == Array(retired.dropFirst(2)))
        #expect(FileManager.default.fileExists(atPath: path), "the current file is never deleted")
        #expect(AuditRetiredFiles.applyRetention(for: path, days: 30, nowSeconds: now).isEmpty)

        // What is left still verifies, from the first record kept.
        let report = try verify(path)
        #expect(report.firstSequence == retired[1].lastSequence + 1 && report.lastSequence == 41)
    }
}
