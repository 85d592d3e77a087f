import Foundation
import PortalCore
import Synchronization
import Testing

@testable import Audit

@Suite("AuditLog")
struct AuditLogTests {
    private func temporaryPath() -> String {
        let directory = NSTemporaryDirectory() + "audit-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory + "/audit.log"
    }

    private func lines(at path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    private func denial(_ n: Int) -> AuditRecord {
        AuditRecord(type: .authzDenied, outcome: .denied, requestID: "req-\(n)", route: "/api/v1/events")
    }

    @Test("sequences start at 1 and each record's prev_hash is the hash before it, across a reopen")
    func chainContinuesAcrossReopen() throws {
        let path = temporaryPath()
        let first = try AuditLog(path: path, chainKey: goldenChainKey)
        for n in 0..<5 { #expect(first.record(denial(n)) == UInt64(n + 1)) }
        #expect(first.close())
        let second = try AuditLog(path: path, chainKey: goldenChainKey)
        for n in 5..<8 { second.record(denial(n)) }
        #expect(second.close())
        let records = try lines(at: path)
        #expect(records.map { ($0["sequence"] as? NSNumber)?.intValue } == Array(1...8))
        #expect(records.first?["prev_hash"] as? String == AuditRecord.genesisHash)
        for (previous, next) in zip(records, records.dropFirst()) {
            #expect(next["prev_hash"] as? String == previous["hash"] as? String)
        }
        // Every hash is recomputable from its own line with the chain key.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(separator: "\n") {
            #expect(SealedLine(Array(line.utf8))?.verifies(with: goldenChainKey) == true)
        }
    }

    @Test("a file whose last line was tampered with refuses to open")
    func tamperedFileRefusesToOpen() throws {
        let path = temporaryPath()
        let log = try AuditLog(path: path, chainKey: goldenChainKey)
        log.record(denial(1))
        log.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "req-1", with: "req-2").write(
            toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: AuditLogError.self) { try AuditLog(path: path, chainKey: goldenChainKey) }
    }

    @Test("WARNING keeps denials and failures and drops successes; INFO keeps all")
    func levelFiltering() throws {
        let outcomes: [AuditOutcome] = [.success, .failure, .denied, .success]
        for (level, expected) in [(AuditLevel.warning, ["failure", "denied"]), (.info, outcomes.map(\.rawValue))] {
            let path = temporaryPath()
            let log = try AuditLog(path: path, level: level)
            for outcome in outcomes { log.record(AuditRecord(type: .authSuccess, outcome: outcome)) }
            log.close()
            #expect(try lines(at: path).map { $0["outcome"] as? String } == expected)
        }
    }

    @Test("flush returns only once every enqueued record is on disk, with the file mode 0600")
    func flushDurability() throws {
        let path = temporaryPath()
        let clock = ManualClock(unixSeconds: 1_767_225_600)
        let log = try AuditLog(path: path, clock: clock, commitIntervalMilliseconds: 10_000)
        for n in 0..<3 { log.record(denial(n)) }
        #expect(log.flush(timeoutMilliseconds: 5000))
        #expect(log.durableSequence == 3)
        let records = try lines(at: path)
        #expect(records.count == 3)
        #expect(records.first?["time"] as? String == "2026-01-01T00:00:00.000000Z")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        log.close()
    }

    @Test("an unwritable destination counts write errors and reports them to the callback")
    func writeErrorsCounted() throws {
        let directory = temporaryPath()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let reported = Atomic<Int>(0)
        let log = try AuditLog(
            path: directory, commitIntervalMilliseconds: 5,
            onSinkError: { error in if !error.isDrop { reported.add(1, ordering: .relaxed) } })
        log.record(denial(1))
        #expect(!log.flush(timeoutMilliseconds: 200))
        #expect(log.writeErrors >= 2)
        #expect(reported.load(ordering: .relaxed) >= 2)
        #expect(log.durableSequence == 0)
        log.close(timeoutMilliseconds: 3000)
        #expect(log.droppedRecords == 1)
    }

    @Test("a full queue makes the caller wait, then counts the drop instead of losing it silently")
    func fullQueueCountsDrops() throws {
        let directory = temporaryPath()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let drops = Atomic<Int>(0)
        // A spill of one record: the failing writer takes no more from the queue, which stays full.
        let log = try AuditLog(
            path: directory, capacity: 2, commitIntervalMilliseconds: 5, enqueueTimeoutMilliseconds: 20,
            spillCapacity: 1, onSinkError: { error in if error.isDrop { drops.add(1, ordering: .relaxed) } })
        var accepted = 0
        for n in 0..<8 where log.record(denial(n)) != nil { accepted += 1 }
        #expect(accepted < 8)
        #expect(log.droppedRecords == UInt64(8 - accepted))
        #expect(drops.load(ordering: .relaxed) == 8 - accepted)
        log.close(timeoutMilliseconds: 3000)
    }

    @Test("by default a full queue drops and counts at once: the recording thread never waits for the writer")
    func fullQueueNeverWaitsByDefault() throws {
        let directory = temporaryPath()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let drops = Atomic<Int>(0)
        // The writer sleeps for 10 s between commits, so the queue of 2 stays full.
        let log = try AuditLog(
            path: directory, capacity: 2, commitIntervalMilliseconds: 10_000,
            onSinkError: { error in if error.isDrop { drops.add(1, ordering: .relaxed) } })
        let started = ContinuousClock.now
        let sequences = (0..<5).map { log.record(denial($0)) }
        let elapsed = ContinuousClock.now - started
        #expect(sequences == [1, 2, nil, nil, nil])
        #expect(elapsed < .milliseconds(100))
        #expect(log.droppedRecords == 3)
        #expect(drops.load(ordering: .relaxed) == 3)
        log.close(timeoutMilliseconds: 3000)
    }

    @Test("records from many threads all land with distinct, gapless sequence numbers")
    func concurrentRecords() throws {
        let path = temporaryPath()
        let log = try AuditLog(path: path, batchSize: 16)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for n in 0..<50 { log.record(denial(worker * 100 + n)) }
        }
        #expect(log.close())
        let sequences = try lines(at: path).compactMap { ($0["sequence"] as? NSNumber)?.intValue }
        #expect(sequences == Array(1...200))
        #expect(log.record(denial(0)) == nil)
        #expect(log.droppedRecords == 1)
    }
}
