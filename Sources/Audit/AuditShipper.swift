import Foundation
import PortalCore

/// Ships an audit file's records to the store, in order, from the last sequence the store acknowledged.
///
/// The durable local file is the spool: the request path only ever writes to the `AuditLog`, and this thread
/// follows the file on its own, so a failing or hung store never stalls the file sink or a request, and the
/// file never waits for the store. Only records the log reports durable (synced) are shipped, so the store
/// never holds a record that a crash could take from the file. The store is idempotent by (source, sequence),
/// so a batch whose answer was lost is simply sent again. While the store is down or slow, records stay in
/// the file and the shipper retries with backoff (100 ms doubling to 5 s); when it answers again, they go in
/// order. After a restart (even `kill -9`) the shipper asks the store where it stands and resumes there.
public final class AuditShipper: Sendable {
    /// Sizes and waits, with defaults.
    public struct Configuration: Sendable {
        /// Records per batch; default 500.
        public var maxRecords: Int
        /// Bytes of lines per batch, about; default 256 KiB (the data layer accepts 512 KiB bodies).
        public var maxBytes: Int
        /// How often to look for new durable records when caught up; default 100 ms.
        public var pollIntervalMilliseconds: Int
        /// The first and the longest wait after a failure; default 100 ms and 5 s.
        public var minimumBackoffMilliseconds: Int
        public var maximumBackoffMilliseconds: Int
        /// The wait after the store refused a batch as contradicting its chain; default 30 s.
        public var conflictBackoffMilliseconds: Int

        /// Settings with the defaults stated on each property.
        public init(
            maxRecords: Int = 500, maxBytes: Int = 256 * 1024, pollIntervalMilliseconds: Int = 100,
            minimumBackoffMilliseconds: Int = 100, maximumBackoffMilliseconds: Int = 5000,
            conflictBackoffMilliseconds: Int = 30_000
        ) {
            precondition(
                maxRecords >= 1 && maxBytes >= 1 && pollIntervalMilliseconds >= 1, "shipper sizes are positive")
            self.maxRecords = maxRecords
            self.maxBytes = maxBytes
            self.pollIntervalMilliseconds = pollIntervalMilliseconds
            self.minimumBackoffMilliseconds = max(1, minimumBackoffMilliseconds)
            self.maximumBackoffMilliseconds = max(self.minimumBackoffMilliseconds, maximumBackoffMilliseconds)
            self.conflictBackoffMilliseconds = conflictBackoffMilliseconds
        }
    }

    struct State: AuditThreadState {
        var stopping = false
        var done = false
        /// The store's last sequence for this source, once known.
        var acknowledged: UInt64?
        var shipped: UInt64 = 0
        var errors: UInt64 = 0
    }

    /// This gateway's instance id, the `source` of every record it ships.
    public let source: String
    let state = ConditionLock(State())
    private let durableSequence: @Sendable () -> UInt64
    private let loop: AuditShipperLoop

    /// A shipper of the audit file at `path`; call `start()`.
    /// - Parameters:
    ///   - source: this gateway's stable instance id.
    ///   - durableSequence: the last sequence the log has synced to the file (`AuditLog.fileDurableSequence`).
    ///   - log: the log writing the file, when in this process: while its file fails the shipper takes sealed
    ///     records from the log's memory instead, so the store sink keeps receiving, and it tells the log
    ///     whether the store answers and what it acknowledged (for `AUDIT_FAIL_MODE` and `flush`).
    ///   - onShipped: told how many records the store acknowledged, after each batch.
    ///   - onError: told of every failure, from the shipper's thread; for counters and logs. Must not block.
    public init(
        path: String, source: String, transport: any AuditBatchTransport,
        durableSequence: @escaping @Sendable () -> UInt64, log: AuditLog? = nil,
        configuration: Configuration = Configuration(), onShipped: @escaping @Sendable (Int) -> Void = { _ in },
        onError: @escaping @Sendable (AuditShipError) -> Void = { _ in }
    ) {
        self.source = source
        self.durableSequence = durableSequence
        loop = AuditShipperLoop(
            follower: AuditFileFollower(path: path), source: source, transport: transport,
            durableSequence: durableSequence, log: log, configuration: configuration, state: state,
            onShipped: onShipped, onError: onError)
    }

    /// Starts the shipper's thread.
    public func start() {
        state.start(loop, name: "audit-shipper")
    }

    /// Asks the thread to stop after its current attempt and waits for it, at most `timeoutMilliseconds`.
    /// Records not yet shipped stay in the file; the next start ships them.
    /// - Returns: whether the thread stopped in time.
    @discardableResult
    public func stop(timeoutMilliseconds: Int = 5000) -> Bool {
        state.stopThread(timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The last sequence the store acknowledged for this source; 0 until the store has answered.
    public var acknowledgedSequence: UInt64 { state.withLock { $0.acknowledged ?? 0 } }

    /// Records shipped and acknowledged by the store since start.
    public var shippedRecords: UInt64 { state.withLock { $0.shipped } }

    /// Durable records the store does not hold yet (as far as the shipper knows).
    public var lagRecords: UInt64 {
        let durable = durableSequence()
        let acknowledged = acknowledgedSequence
        return durable > acknowledged ? durable - acknowledged : 0
    }

    /// Blocks until the store acknowledged `sequence`, or the timeout passes; for clean stops and tests.
    /// - Returns: whether it did.
    public func waitUntilAcknowledged(_ sequence: UInt64, timeoutMilliseconds: Int) -> Bool {
        state.wait(
            until: { ($0.acknowledged ?? 0) >= sequence },
            timeoutNanoseconds: UInt64(max(0, timeoutMilliseconds)) * 1_000_000
        ) { _, done in done }
    }
}

/// The shipper's thread. `@unchecked Sendable`: handed once to its thread and used only there; shared state
/// is reached only through the `ConditionLock`.
final class AuditShipperLoop: AuditThreadLoop, @unchecked Sendable {
    private let follower: AuditFileFollower
    private let source: String
    private let transport: any AuditBatchTransport
    private let durableSequence: @Sendable () -> UInt64
    private let log: AuditLog?
    private let configuration: AuditShipper.Configuration
    private let state: ConditionLock<AuditShipper.State>
    private let onShipped: @Sendable (Int) -> Void
    private let onError: @Sendable (AuditShipError) -> Void
    private var acknowledged: UInt64?
    private var backoffMilliseconds: Int

    init(
        follower: AuditFileFollower, source: String, transport: any AuditBatchTransport,
        durableSequence: @escaping @Sendable () -> UInt64, log: AuditLog?, configuration: AuditShipper.Configuration,
        state: ConditionLock<AuditShipper.State>, onShipped: @escaping @Sendable (Int) -> Void,
        onError: @escaping @Sendable (AuditShipError) -> Void
    ) {
        self.log = log
        self.follower = follower
        self.source = source
        self.transport = transport
        self.durableSequence = durableSequence
        self.configuration = configuration
        self.state = state
        self.onShipped = onShipped
        self.onError = onError
        backoffMilliseconds = configuration.minimumBackoffMilliseconds
    }

    func run() {
        while !state.withLock({ $0.stopping }) {
            do {
                let shippedSomething = try step()
                backoffMilliseconds = configuration.minimumBackoffMilliseconds
                if !shippedSomething { pause(configuration.pollIntervalMilliseconds) }
            } catch {
                state.withLock { $0.errors += 1 }
                // A file problem says nothing about the store; anything else means it did not take the batch.
                if error.kind != .file && error.kind != .gap { log?.storeAnswered(false) }
                onError(error)
                pause(recover(from: error))
            }
        }
        state.withLock { $0.done = true }
        state.broadcast()
    }

    /// One round: learn the store's head if unknown, then ship one batch if durable records wait.
    /// - Returns: whether a batch was shipped (then the next round starts at once).
    private func step() throws(AuditShipError) -> Bool {
        let stored: UInt64
        if let acknowledged {
            stored = acknowledged
        } else {
            stored = try transport.head(source: source)
            log?.storeAnswered(true)
            try follower.seek(after: stored)
            publish(stored)
        }
        let durable = durableSequence()
        guard durable > stored else { return try shipSpilled(after: stored) }
        // Records shipped from the log's memory while the file failed are in the file now: skip past them.
        if follower.nextSequence < stored + 1 { try follower.seek(after: stored) }
        // The file must continue exactly where the store stands, or this is not the chain the store holds.
        guard follower.nextSequence == stored + 1 else {
            throw AuditShipError(.file, detail: "the audit file does not continue at record \(stored + 1)")
        }
        let (lines, end) = try follower.batch(
            upTo: durable, maxRecords: configuration.maxRecords, maxBytes: configuration.maxBytes)
        guard !lines.isEmpty else {
            // Durable records exist past what the store holds, yet the file has none to give.
            throw AuditShipError(.file, detail: "record \(stored + 1) is not in the audit file")
        }
        let last = stored + UInt64(lines.count)
        let head = try transport.send(source: source, lines: lines)
        guard head >= last else {
            // The store holds less than it just acknowledged: resynchronise from its head.
            acknowledged = nil
            throw AuditShipError(.gap, detail: "the store's head went back")
        }
        follower.advance(to: end, lastSequence: last)
        acknowledge(last, shipped: lines.count)
        return true
    }

    /// While the log's file fails: ships the next sealed records from the log's memory, so the store sink
    /// keeps receiving. The file gets the same records once it is back; the shipper then skips past them.
    /// - Returns: whether a batch was shipped.
    private func shipSpilled(after stored: UInt64) throws(AuditShipError) -> Bool {
        guard let log,
            let lines = log.spilledLines(
                after: stored, maxRecords: configuration.maxRecords, maxBytes: configuration.maxBytes),
            !lines.isEmpty
        else { return false }
        let last = stored + UInt64(lines.count)
        let head = try transport.send(source: source, lines: lines)
        guard head >= last else {
            acknowledged = nil
            throw AuditShipError(.gap, detail: "the store's head went back")
        }
        acknowledge(last, shipped: lines.count)
        return true
    }

    private func acknowledge(_ last: UInt64, shipped: Int) {
        publish(last, shipped: shipped)
        log?.storeAnswered(true)
        log?.storeAcknowledged(last)
        onShipped(shipped)
    }

    /// What to do after `error`, returning how long to wait before the next round.
    private func recover(from error: AuditShipError) -> Int {
        switch error.kind {
        case .gap:
            acknowledged = nil
            return configuration.minimumBackoffMilliseconds
        case .conflict:
            acknowledged = nil
            return configuration.conflictBackoffMilliseconds
        case .file:
            acknowledged = nil
            return nextBackoff()
        case .unavailable, .rejected:
            return nextBackoff()
        }
    }

    private func nextBackoff() -> Int {
        let wait = backoffMilliseconds
        backoffMilliseconds = min(configuration.maximumBackoffMilliseconds, backoffMilliseconds * 2)
        return wait
    }

    private func publish(_ sequence: UInt64, shipped: Int = 0) {
        acknowledged = sequence
        state.withLock { state in
            state.acknowledged = sequence
            state.shipped += UInt64(shipped)
        }
        state.broadcast()
    }

    /// Sleeps up to `milliseconds`, waking early when asked to stop.
    private func pause(_ milliseconds: Int) {
        state.wait(until: { $0.stopping }, timeoutNanoseconds: UInt64(max(1, milliseconds)) * 1_000_000) { _, _ in }
    }
}
