import Audit
import Crypto
import Foundation
import Gateway
import Net
import Testing

/// Takes an audit file's directory away and gives it back: the directory is moved aside and a regular file
/// takes its name, so opening `<dir>/audit.log` fails with ENOTDIR even for root (chmod would not stop root).
struct DirectoryOutage {
    let directory: String

    func begin() throws {
        try FileManager.default.moveItem(atPath: directory, toPath: directory + ".aside")
        #expect(FileManager.default.createFile(atPath: directory, contents: Data("not a directory".utf8)))
    }

    func end() throws {
        try FileManager.default.removeItem(atPath: directory)
        try FileManager.default.moveItem(atPath: directory + ".aside", toPath: directory)
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return try condition()
}

@Suite("Audit sinks: one failing sink never stops the other; AUDIT_FAIL_MODE")
struct AuditFailModeTests {
    private func record(_ log: AuditLog, _ count: Int, from start: Int = 0) {
        for n in start..<(start + count) {
            log.record(AuditRecord(type: .authFailure, outcome: .failure, requestID: "req-\(n)", reason: "test"))
        }
    }

    /// A shipper of `path` that takes spilled records from `log` while its file fails.
    private func shipper(_ harness: ShippingHarness, path: String, log: AuditLog) throws -> AuditShipper {
        let transport = DataLayerAuditTransport(
            address: try UpstreamAddress(host: "127.0.0.1", port: harness.port), serviceKey: harness.serviceKey,
            client: UpstreamClient(), loop: harness.group.next(), timeoutNanoseconds: 1_000_000_000)
        let shipper = AuditShipper(
            path: path, source: "gw-test", transport: transport, durableSequence: { log.fileDurableSequence },
            log: log, configuration: AuditShipper.Configuration(maxRecords: 64, maximumBackoffMilliseconds: 100),
            onError: { [errors = harness.errors] error in errors.append(error.kind) })
        shipper.start()
        return shipper
    }

    @Test("the audit file's directory gone: the store keeps receiving; back: the file gets every record, each once")
    func storeKeepsReceivingWhileFileFails() throws {
        let harness = try ShippingHarness()
        let directory = harness.directory + "/logs"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/audit.log"
        let log = try AuditLog(path: path, commitIntervalMilliseconds: 5, chainKey: HMACKeyFixture.key)
        let shipper = try shipper(harness, path: path, log: log)
        defer { shipper.stop() }
        record(log, 100)
        #expect(log.flush())
        #expect(shipper.waitUntilAcknowledged(100, timeoutMilliseconds: 30_000))

        // The file cannot be reopened: records still become durable, in the store.
        let outage = DirectoryOutage(directory: directory)
        try outage.begin()
        record(log, 200, from: 100)
        #expect(shipper.waitUntilAcknowledged(300, timeoutMilliseconds: 30_000))
        #expect(log.flush(timeoutMilliseconds: 10_000))
        #expect(!log.isFileWritable && log.writeErrors > 0)
        #expect(log.fileDurableSequence == 100 && log.durableSequence == 300)
        #expect(log.acceptsDurably, "the store answers, so records are still durable somewhere")
        #expect(try harness.storedLines().count == 300)

        // The directory is back: the writer appends what the store already holds, and the shipper skips it.
        try outage.end()
        #expect(eventually(within: 30) { log.fileDurableSequence == 300 && log.isFileWritable })
        record(log, 50, from: 300)
        #expect(log.flush())
        #expect(shipper.waitUntilAcknowledged(350, timeoutMilliseconds: 30_000))
        let fileLines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(fileLines.count == 350)
        #expect(try harness.storedLines() == fileLines)
        let report = try AuditVerifier(chainKey: HMACKeyFixture.key, checkpointKey: nil).verify(file: path)
        #expect(report.records == 350 && report.lastSequence == 350)
        #expect(log.droppedRecords == 0)
        log.close()
    }

    @Test("rotation waits for the store: every record reaches it, across retired and compressed files, each once")
    func shippingAcrossRotation() throws {
        let harness = try ShippingHarness()
        let directory = harness.directory + "/logs"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/audit.log"
        let log = try AuditLog(
            path: path, commitIntervalMilliseconds: 5, chainKey: HMACKeyFixture.key,
            rotation: AuditRotation(maxBytes: 3000, waitForStore: true))
        let shipper = try shipper(harness, path: path, log: log)
        defer { shipper.stop() }
        // Paced by the store, so that the writer finds it caught up and rotates between rounds.
        for round in 0..<20 {
            record(log, 6, from: round * 6)
            #expect(log.flush())
            #expect(shipper.waitUntilAcknowledged(UInt64(round * 6 + 6), timeoutMilliseconds: 30_000))
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(shipper.waitUntilAcknowledged(120, timeoutMilliseconds: 30_000))
        log.close()
        #expect(AuditRetiredFiles.list(for: path).count >= 3)
        let report = try AuditVerifier(chainKey: HMACKeyFixture.key, checkpointKey: nil).verify(file: path)
        #expect(report.records == 120 && report.firstSequence == 1 && report.lastSequence == 120)
        let stored = try harness.storedLines()
        #expect(stored.count == 120)
        #expect(stored.enumerated().allSatisfy { $0.element.contains("\"sequence\":\($0.offset + 1),") })
    }

    @Test("both sinks down: nothing is durable until one is back; the file then catches up and the store follows")
    func bothSinksDown() throws {
        let harness = try ShippingHarness()
        let directory = harness.directory + "/logs"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/audit.log"
        let log = try AuditLog(path: path, commitIntervalMilliseconds: 5, chainKey: HMACKeyFixture.key)
        let shipper = try shipper(harness, path: path, log: log)
        defer { shipper.stop() }
        record(log, 10)
        #expect(shipper.waitUntilAcknowledged(10, timeoutMilliseconds: 30_000))

        harness.stopDataLayer()
        let outage = DirectoryOutage(directory: directory)
        try outage.begin()
        record(log, 40, from: 10)
        #expect(eventually(within: 30) { !log.acceptsDurably })
        #expect(!log.flush(timeoutMilliseconds: 300))
        #expect(log.durableSequence == 10)

        // The store comes back first: the spilled records go there, and records are durable again.
        try harness.startDataLayer()
        #expect(shipper.waitUntilAcknowledged(50, timeoutMilliseconds: 30_000))
        #expect(eventually(within: 30) { log.acceptsDurably })
        try outage.end()
        #expect(eventually(within: 30) { log.fileDurableSequence == 50 })
        let fileLines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(try harness.storedLines() == fileLines && fileLines.count == 50)
        log.close()
    }

    @Test("AUDIT_FAIL_MODE=closed: 503 E9960 while the audit file cannot be written, served again once it can")
    func failClosedAnswers503() throws {
        var options = GatewayHarness.Options()
        options.auditFailClosed = true
        let harness = try GatewayHarness(options)
        defer { harness.shutdown() }
        #expect(try harness.send("GET", "/public/page").status == 200)
        #expect(harness.audit.flush())

        // A denial is recorded; its write fails; from then on nothing is served.
        let outage = DirectoryOutage(directory: harness.directory + "/audit")
        try outage.begin()
        #expect(try harness.send("GET", "/echo/x").status == 401)
        #expect(eventually(within: 30) { !harness.audit.acceptsDurably })
        let refused = try harness.send("GET", "/public/page")
        #expect(refused.status == 503)
        #expect(refused.errorCode == "E9960")
        #expect(refused.header("Retry-After") == "1")
        #expect(refused.header("Content-Type") == "application/json")
        #expect(try harness.send("GET", "/echo/x").status == 503, "not even authentication runs")

        // The directory is back: the writer writes the pending denial and the gateway serves by itself.
        try outage.end()
        #expect(eventually(within: 30) { harness.audit.acceptsDurably })
        #expect(try harness.send("GET", "/public/page").status == 200)
        #expect(harness.audit.flush())
        let lines = try String(contentsOfFile: harness.auditPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == Int(harness.audit.fileDurableSequence))
        #expect(lines.contains { $0.contains("\"auth.failure\"") })
    }

    @Test("AUDIT_FAIL_MODE=open: the gateway serves on while the audit file fails; the records follow later")
    func failOpenServesOn() throws {
        let harness = try GatewayHarness()
        defer { harness.shutdown() }
        let outage = DirectoryOutage(directory: harness.directory + "/audit")
        try outage.begin()
        #expect(try harness.send("GET", "/echo/x").status == 401)
        #expect(eventually(within: 30) { !harness.audit.isFileWritable })
        #expect(try harness.send("GET", "/public/page").status == 200)
        #expect(try harness.send("GET", "/echo/x").status == 401)
        #expect(harness.audit.writeErrors > 0)
        try outage.end()
        #expect(harness.audit.flush(timeoutMilliseconds: 30_000))
        let lines = try String(contentsOfFile: harness.auditPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("\"auth.failure\"") }.count == 2)
    }
}
