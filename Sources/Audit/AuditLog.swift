import Crypto
import Foundation
import PortalCore

/// An append-only, hash-chained JSON-lines audit file with group commit.
///
/// `record(_:)` only enqueues: a writer thread seals records into the chain, appends them and
/// calls `fsync` at most every `commitIntervalMilliseconds` or every `batchSize` records.
/// Records are not dropped silently: when the queue is full the caller waits up to
/// `enqueueTimeoutMilliseconds` (default 0: not at all), and only then is the record discarded,
/// counted in `droppedRecords` and reported to `onSinkError`.
///
/// Why the default is not to wait: `record` is called on event-loop threads, and a loop that waits
/// for the writer stalls every connection it serves. A full queue means the writer is 10 000 records
/// behind (a stalled disk); waiting would turn that into a gateway outage without saving the trail.
/// The drop is instead made loud, as a counter and a sink error for alerts. Callers off the loops
/// (admin, CLI) may pass a timeout to wait for room. Failed writes are counted in `writeErrors`,
/// reported, and retried on the next commit. Call `close()` at shutdown.
public final class AuditLog: Sendable {
    struct State {
        var queue: [AuditRecord] = []
        var nextSequence: UInt64
        var durableSequence: UInt64
        var flushRequested = false
        var closed = false
        var writerDone = false
        var dropped: UInt64 = 0
        var writeErrors: UInt64 = 0
        /// The last sequence the store sink acknowledged (reported by the shipper); 0 when none.
        var storeAcknowledged: UInt64 = 0
        /// Whether the last write or sync of the file failed (and no later one succeeded).
        var fileFailing = false
        /// Sealed lines not yet synced to the file, in order: what the store sink may take while the file fails.
        var spill: [(sequence: UInt64, line: [UInt8])] = []
    }

    let state: ConditionLock<State>
    private let level: AuditLevel
    private let clock: any PortalClock
    private let capacity: Int
    private let batchSize: Int
    private let enqueueTimeoutNanoseconds: UInt64
    private let onSinkError: @Sendable (AuditSinkError) -> Void
    /// Which sinks can write durably now; read per request by the fail mode without taking the lock.
    let health = AuditSinkHealth()

    /// Opens the log at `path`, continuing the chain of the file's last record, and starts the writer.
    /// - Parameters:
    ///   - path: `AUDIT_LOG_DESTINATION`; created with mode 0600 on the first write.
    ///   - level: which outcomes are kept; default `.info` (all).
    ///   - clock: stamps each record's time.
    ///   - capacity: records that may wait for the writer; default 10 000.
    ///   - batchSize: records that trigger a commit before the interval ends; default 256.
    ///   - commitIntervalMilliseconds: the longest a record waits to be written; default 50 ms.
    ///   - enqueueTimeoutMilliseconds: how long `record` waits for room in a full queue; default 0 ms,
    ///     so an event loop never blocks on the writer (see the type's notes).
    ///   - chainKey: the HMAC-SHA256 key of the chain (`AUDIT_HMAC_KEY`); default a random key for this
    ///     process only, which suits tests: a file written under it cannot be continued or verified later.
    ///   - checkpointSigner: signs checkpoints into `<path>.checkpoints`; nil writes none.
    ///   - checkpointIntervalMilliseconds: the least time between checkpoints; default 60 000 ms. One more
    ///     is written at `close()`.
    ///   - spillCapacity: sealed records kept in memory while the file cannot be written, for the store sink
    ///     to take and for the file once it is back; default 50 000. Past it the writer stops sealing and the
    ///     queue fills.
    ///   - rotation: when to retire the file and start a new one, and how long to keep retired files; nil: one
    ///     file forever.
    ///   - onDurable: told how many records each successful commit synced to the file, from the writer thread;
    ///     for `audit_records_total{sink="file"}`. Must not block.
    ///   - onSinkError: told of every failed write, sync, checkpoint and dropped record, from the writer
    ///     thread or the recording thread; for a counter such as `audit_sink_errors_total`. Must not block.
    ///
    /// A last line torn by a crash (no trailing newline) is copied to `<path>.torn-<unixMicroseconds>`
    /// and cut off before writing resumes; see `AuditChainTail.read(path:unixMicroseconds:)`.
    /// - Throws: `AuditLogError` when the file's last complete line is not a valid sealed record,
    ///   or a torn last line could not be set aside.
    public init(
        path: String, level: AuditLevel = .info, clock: any PortalClock = SystemClock(), capacity: Int = 10_000,
        batchSize: Int = 256, commitIntervalMilliseconds: Int = 50, enqueueTimeoutMilliseconds: Int = 0,
        chainKey: HMACKey = HMACKey(secret: SecureRandom.bytes(count: 32)),
        checkpointSigner: AuditCheckpointSigner? = nil, checkpointIntervalMilliseconds: Int = 60_000,
        spillCapacity: Int = 50_000, rotation: AuditRotation? = nil,
        onDurable: @escaping @Sendable (Int) -> Void = { _ in },
        onSinkError: @escaping @Sendable (AuditSinkError) -> Void = { _ in }
    ) throws {
        precondition(capacity > 0 && batchSize > 0 && commitIntervalMilliseconds > 0, "audit log sizes are positive")
        var tail = try AuditChainTail.read(
            path: path, key: chainKey, unixMicroseconds: clock.unixNanoseconds() / 1000)
        // A file begun by a rotation and still empty: the chain continues from the last retired file.
        if tail == .empty { tail = try AuditChainTail.readRetired(path: path, key: chainKey) }
        state = ConditionLock(State(nextSequence: tail.lastSequence + 1, durableSequence: tail.lastSequence))
        self.level = level
        self.clock = clock
        self.capacity = capacity
        self.batchSize = batchSize
        enqueueTimeoutNanoseconds = UInt64(max(0, enqueueTimeoutMilliseconds)) * 1_000_000
        self.onSinkError = onSinkError
        let checkpoints = checkpointSigner.map { signer in
            AuditCheckpointWriter(
                path: AuditLog.checkpointPath(for: path), signer: signer,
                intervalNanoseconds: Self.nanoseconds(checkpointIntervalMilliseconds), clock: clock, tail: tail,
                onSinkError: onSinkError)
        }
        let writer = AuditWriter(
            path: path, key: chainKey, lastHash: tail.lastHash, state: state, batchSize: batchSize,
            commitIntervalNanoseconds: UInt64(commitIntervalMilliseconds) * 1_000_000, checkpoints: checkpoints,
            spillCapacity: max(1, spillCapacity), rotation: rotation, clock: clock, health: health,
            onDurable: onDurable,
            onSinkError: onSinkError)
        let thread = Thread { writer.run() }
        thread.name = "audit-writer"
        thread.start()
    }

    /// Enqueues `record` if the level admits its outcome, stamping its time and sequence.
    ///
    /// With room in the queue this takes the lock once and never waits; with the queue full it wakes the
    /// writer and waits at most `enqueueTimeoutMilliseconds` before dropping (and counting) the record.
    /// - Returns: the sequence number given, or nil when the level filtered it out or it was dropped.
    @discardableResult
    public func record(_ record: AuditRecord) -> UInt64? {
        guard level.admits(record.outcome) else { return nil }
        let capacity = capacity
        let batchSize = batchSize
        let clock = clock
        let enqueue = { (state: inout State, hasRoom: Bool) -> (UInt64?, Bool) in
            guard hasRoom, !state.closed else {
                state.dropped += 1
                return (nil, false)
            }
            var sealed = record
            sealed.sequence = state.nextSequence
            sealed.timeMicroseconds = clock.unixNanoseconds() / 1000
            state.nextSequence += 1
            state.queue.append(sealed)
            return (sealed.sequence, state.queue.count == batchSize)
        }
        var result = state.withLock { state -> (UInt64?, Bool)? in
            guard state.closed || state.queue.count < capacity else { return nil }
            return enqueue(&state, true)
        }
        if result == nil {
            // Full: the writer must be awake to make room, whether or not this caller may wait for it.
            state.broadcast()
            if enqueueTimeoutNanoseconds == 0 {
                result = state.withLock { enqueue(&$0, $0.queue.count < capacity) }
            } else {
                result = state.wait(
                    until: { $0.closed || $0.queue.count < capacity }, timeoutNanoseconds: enqueueTimeoutNanoseconds,
                    then: enqueue)
            }
        }
        let (sequence, wakeWriter) = result ?? (nil, false)
        if sequence == nil { onSinkError(.dropped) }
        if wakeWriter { state.broadcast() }
        return sequence
    }

    /// Blocks until every record enqueued before the call is durable in a sink (the file, or the store while
    /// the file fails), or the timeout passes.
    /// - Parameter timeoutMilliseconds: default 5000 ms.
    /// - Returns: whether everything enqueued is durable.
    @discardableResult
    public func flush(timeoutMilliseconds: Int = 5000) -> Bool {
        let target = state.withLock { state -> UInt64 in
            state.flushRequested = true
            return state.nextSequence - 1
        }
        state.broadcast()
        return state.wait(
            until: { max($0.durableSequence, $0.storeAcknowledged) >= target },
            timeoutNanoseconds: Self.nanoseconds(timeoutMilliseconds)
        ) { _, done in done }
    }

    /// Stops accepting records, writes what is queued, and stops the writer thread.
    ///
    /// Records arriving after `close` are dropped and counted. If writes keep failing, the writer
    /// gives up after about a second and counts what it could not write as dropped.
    /// - Parameter timeoutMilliseconds: default 5000 ms.
    /// - Returns: whether the writer finished within the timeout.
    @discardableResult
    public func close(timeoutMilliseconds: Int = 5000) -> Bool {
        state.withLock { $0.closed = true }
        state.broadcast()
        return state.wait(until: { $0.writerDone }, timeoutNanoseconds: Self.nanoseconds(timeoutMilliseconds)) {
            _, done in done
        }
    }

    /// Failed opens, writes and syncs of the audit file so far.
    public var writeErrors: UInt64 { state.withLock { $0.writeErrors } }

    /// Records discarded because the queue stayed full or the log was closed.
    public var droppedRecords: UInt64 { state.withLock { $0.dropped } }

    /// The sequence up to which every record is durable in at least one sink: synced to the file or
    /// acknowledged by the store (0 when none). Both sinks hold records in sequence order.
    public var durableSequence: UInt64 { state.withLock { max($0.durableSequence, $0.storeAcknowledged) } }

    /// The sequence of the last record synced to the audit file (0 when none).
    public var fileDurableSequence: UInt64 { state.withLock { $0.durableSequence } }

    /// Where the checkpoints of the audit file at `path` are kept: `<path>.checkpoints`.
    public static func checkpointPath(for path: String) -> String { path + ".checkpoints" }

    private static func nanoseconds(_ milliseconds: Int) -> UInt64 { UInt64(max(0, milliseconds)) * 1_000_000 }
}
