import Audit
import Crypto
import DataLayer
import Foundation
import Gateway
import Net
import Store
import Synchronization
import Testing

/// A data layer on SQLite behind a real listener, and an audit log whose file a shipper sends there.
final class ShippingHarness {
    let serviceKey = "svc-" + UUID().uuidString.lowercased()
    let directory = NSTemporaryDirectory() + "shipping-tests-" + UUID().uuidString
    let group: EventLoopGroup
    let store: SQLiteEventStore
    var dataLayer: HTTPServer?
    let port: Int
    let errors = ShipErrors()

    /// - Parameter startDataLayer: false leaves the port closed until `startDataLayer()`.
    init(startDataLayer: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        group = try EventLoopGroup(threads: 1)
        store = try SQLiteEventStore(directory: directory + "/store")
        port = GatewayHarness.closedPort()
        if startDataLayer { try self.startDataLayer() }
    }

    var auditPath: String { directory + "/audit.log" }

    func startDataLayer() throws {
        let router = DataLayerRouter(
            store: store, auditRecords: store, authenticator: ServiceKeyAuthenticator(keys: [serviceKey]))
        let server = HTTPServer(host: "127.0.0.1", port: port, group: group, handler: DataLayerService(router: router))
        try server.start()
        dataLayer = server
    }

    func stopDataLayer() {
        dataLayer?.shutdown(deadline: .milliseconds(100))
        dataLayer = nil
    }

    func shipper(
        for log: AuditLog, source: String = "gw-test", timeoutMilliseconds: UInt64 = 2000,
        configuration: AuditShipper.Configuration = AuditShipper.Configuration(maximumBackoffMilliseconds: 200)
    ) throws -> AuditShipper {
        let transport = DataLayerAuditTransport(
            address: try UpstreamAddress(host: "127.0.0.1", port: port), serviceKey: serviceKey,
            client: UpstreamClient(), loop: group.next(), timeoutNanoseconds: timeoutMilliseconds * 1_000_000)
        let shipper = AuditShipper(
            path: auditPath, source: source, transport: transport, durableSequence: { log.durableSequence },
            configuration: configuration, onError: { [errors] error in errors.append(error.kind) })
        shipper.start()
        return shipper
    }

    /// The audit file's lines.
    func fileLines() throws -> [String] {
        try String(contentsOfFile: auditPath, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// The stored lines of `source`, in sequence order.
    func storedLines(source: String = "gw-test") throws -> [String] {
        try store.auditRecords(source: source, afterSequence: 0, limit: 100_000).map(\.line)
    }

    deinit {
        stopDataLayer()
        group.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite("Audit shipping to the data layer")
struct AuditShippingTests {
    private func record(_ log: AuditLog, _ count: Int, from start: Int = 0) {
        for n in start..<(start + count) {
            log.record(AuditRecord(type: .authFailure, outcome: .failure, requestID: "req-\(n)", reason: "test"))
        }
    }

    @Test("every durable record reaches the table in order, byte for byte, in several batches")
    func shipsEverything() throws {
        let harness = try ShippingHarness()
        let log = try AuditLog(path: harness.auditPath, commitIntervalMilliseconds: 5)
        let shipper = try harness.shipper(for: log, configuration: AuditShipper.Configuration(maxRecords: 100))
        defer { shipper.stop() }
        record(log, 1234)
        #expect(log.flush())
        #expect(shipper.waitUntilAcknowledged(1234, timeoutMilliseconds: 30_000))
        #expect(try harness.storedLines() == harness.fileLines())
        #expect(shipper.shippedRecords == 1234 && shipper.lagRecords == 0)
        log.close()
    }

    @Test("while the data layer is down records wait in the file, then go in order, each once")
    func spoolsWhileDown() throws {
        let harness = try ShippingHarness(startDataLayer: false)
        let log = try AuditLog(path: harness.auditPath, commitIntervalMilliseconds: 5)
        let shipper = try harness.shipper(for: log)
        defer { shipper.stop() }
        record(log, 300)
        #expect(log.flush())
        // Give it time to fail a few times; recording and the file are unaffected.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(shipper.acknowledgedSequence == 0 && shipper.lagRecords == 300)
        #expect(harness.errors.contains(.unavailable))
        #expect(try harness.fileLines().count == 300)
        try harness.startDataLayer()
        record(log, 200, from: 300)
        #expect(log.flush())
        #expect(shipper.waitUntilAcknowledged(500, timeoutMilliseconds: 30_000))
        #expect(try harness.storedLines() == harness.fileLines())
        log.close()
    }

    @Test("a data layer that accepts but never answers stalls neither recording nor the file")
    func hungDataLayer() throws {
        let harness = try ShippingHarness(startDataLayer: false)
        // A listener that never accepts: connections queue in the kernel and no byte ever comes back.
        let hung = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var reuse: Int32 = 1
        setsockopt(hung, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(harness.port).bigEndian
        let listening = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(hung, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && listen(hung, 64) == 0
            }
        }
        try #require(listening)
        let log = try AuditLog(path: harness.auditPath, commitIntervalMilliseconds: 5)
        let shipper = try harness.shipper(for: log, timeoutMilliseconds: 500)
        defer { shipper.stop() }
        // Recording stays instant and the file keeps growing while every shipment hangs until its timeout.
        let started = ContinuousClock.now
        record(log, 2000)
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(log.flush(timeoutMilliseconds: 5000))
        #expect(log.durableSequence == 2000 && log.droppedRecords == 0)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(harness.errors.contains(.unavailable))
        #expect(shipper.acknowledgedSequence == 0)
        close(hung)
        try harness.startDataLayer()
        #expect(shipper.waitUntilAcknowledged(2000, timeoutMilliseconds: 30_000))
        #expect(try harness.storedLines() == harness.fileLines())
        log.close()
    }

    @Test("a restarted gateway resumes from the store's head: nothing is sent twice, nothing skipped")
    func resumesAfterRestart() throws {
        let harness = try ShippingHarness()
        do {
            let log = try AuditLog(path: harness.auditPath, commitIntervalMilliseconds: 5, chainKey: HMACKeyFixture.key)
            let shipper = try harness.shipper(for: log)
            record(log, 150)
            #expect(log.flush())
            #expect(shipper.waitUntilAcknowledged(150, timeoutMilliseconds: 30_000))
            shipper.stop()
            // Written while no shipper runs: left for the next start.
            record(log, 70, from: 150)
            log.close()
        }
        let log = try AuditLog(path: harness.auditPath, commitIntervalMilliseconds: 5, chainKey: HMACKeyFixture.key)
        let shipper = try harness.shipper(for: log)
        defer { shipper.stop() }
        record(log, 30, from: 220)
        #expect(log.flush())
        #expect(shipper.waitUntilAcknowledged(250, timeoutMilliseconds: 30_000))
        #expect(shipper.shippedRecords == 100)
        #expect(try harness.storedLines() == harness.fileLines())
        log.close()
    }

    @Test("another chain under the same instance id is refused as a conflict and the stored chain stands")
    func conflictingFile() throws {
        let harness = try ShippingHarness()
        do {
            let log = try AuditLog(path: harness.auditPath, commitIntervalMilliseconds: 5)
            let shipper = try harness.shipper(for: log)
            record(log, 20)
            #expect(log.flush())
            #expect(shipper.waitUntilAcknowledged(20, timeoutMilliseconds: 30_000))
            shipper.stop()
            log.close()
        }
        let stored = try harness.storedLines()
        // A fresh file (the old one deleted) starts a new chain whose record 21 cannot follow the stored 20.
        try FileManager.default.removeItem(atPath: harness.auditPath)
        let log = try AuditLog(path: harness.auditPath, commitIntervalMilliseconds: 5)
        let shipper = try harness.shipper(
            for: log,
            configuration: AuditShipper.Configuration(maximumBackoffMilliseconds: 100, conflictBackoffMilliseconds: 100)
        )
        defer { shipper.stop() }
        record(log, 25)
        #expect(log.flush())
        let deadline = Date().addingTimeInterval(20)
        while !harness.errors.contains(.conflict) && Date() < deadline { usleep(20_000) }
        #expect(harness.errors.contains(.conflict))
        #expect(try harness.storedLines() == stored)
        log.close()
    }
}

/// The kinds of shipping failures seen, from the shipper's thread.
final class ShipErrors: Sendable {
    private let kinds = Mutex<[AuditShipError.Kind]>([])

    func append(_ kind: AuditShipError.Kind) { kinds.withLock { $0.append(kind) } }

    func contains(_ kind: AuditShipError.Kind) -> Bool { kinds.withLock { $0.contains(kind) } }
}

/// One chain key for logs that must continue each other's file.
enum HMACKeyFixture {
    static let key = HMACKey(secret: Array("shipping-tests-chain-key-of-32-bytes!!".utf8))
}
