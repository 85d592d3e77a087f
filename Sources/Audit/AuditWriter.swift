import Crypto
import Foundation
import PortalCore

#if canImport(Glibc)
    import Glibc
#endif

/// The audit log's writer thread: seals queued records into the chain, appends, syncs.
///
/// `@unchecked Sendable`: handed once to the writer thread and used only there afterwards;
/// the shared queue is reached only through the `ConditionLock`.
final class AuditWriter: @unchecked Sendable {
    private let path: String
    private let key: HMACKey
    private var lastHash: String
    private let state: ConditionLock<AuditLog.State>
    private let batchSize: Int
    private let commitIntervalNanoseconds: UInt64
    private let onSinkError: @Sendable (AuditSinkError) -> Void

    private var descriptor: Int32 = -1
    /// Sealed lines not yet written, and the sequence of the last of them.
    private var pending: [UInt8] = []
    private var pendingLastSequence: UInt64 = 0
    private var pendingCount: UInt64 = 0
    private var needsSync = false
    private var failuresWhileClosing = 0
    /// Signs checkpoints of the durable chain head into their own file; nil: no checkpoints.
    private let checkpoints: AuditCheckpointWriter?
    /// Sealed records kept while the file fails, at most; past it the writer stops taking from the queue.
    private let spillCapacity: Int
    private let health: AuditSinkHealth
    private let onDurable: @Sendable (Int) -> Void
    private let rotation: AuditRotation?
    private let clock: any PortalClock
    /// When the writer began the current file (or took it over at start), in seconds since the epoch.
    private var fileStartedAt: Int64

    init(
        path: String, key: HMACKey, lastHash: String, state: ConditionLock<AuditLog.State>, batchSize: Int,
        commitIntervalNanoseconds: UInt64, checkpoints: AuditCheckpointWriter?, spillCapacity: Int,
        rotation: AuditRotation?, clock: any PortalClock, health: AuditSinkHealth,
        onDurable: @escaping @Sendable (Int) -> Void,
        onSinkError: @escaping @Sendable (AuditSinkError) -> Void
    ) {
        self.onDurable = onDurable
        self.rotation = rotation
        self.clock = clock
        fileStartedAt = clock.unixSeconds()
        self.spillCapacity = spillCapacity
        self.health = health
        self.path = path
        self.key = key
        self.checkpoints = checkpoints
        self.lastHash = lastHash
        self.state = state
        self.batchSize = batchSize
        self.commitIntervalNanoseconds = commitIntervalNanoseconds
        self.onSinkError = onSinkError
    }

    func run() {
        while true {
            // Group commit: wake when a batch is full, a flush asks, the log closes, or the interval ends.
            let batchSize = batchSize
            // While the file fails the writer keeps sealing (for the store sink) up to the spill's bound.
            let canTake = pendingCount < UInt64(spillCapacity)
            let (batch, closing) = state.wait(
                until: { $0.closed || $0.flushRequested || $0.queue.count >= batchSize },
                timeoutNanoseconds: commitIntervalNanoseconds
            ) { state, _ -> ([AuditRecord], Bool) in
                state.flushRequested = false
                guard canTake else { return ([], state.closed) }
                defer { state.queue.removeAll(keepingCapacity: true) }
                return (state.queue, state.closed)
            }
            if !batch.isEmpty { state.broadcast() }
            seal(batch)
            if !pending.isEmpty || needsSync {
                commit(closing: closing)
            } else if !health.fileWritable.load(ordering: .relaxed) {
                probe()
            } else if rotation?.waitForStore == true {
                // A rotation that waited for the store may be due now that the store caught up.
                rotateIfDue(lastSequence: pendingLastSequence)
            }
            checkpoints?.checkpointIfDue(force: false)
            if closing && pending.isEmpty && !needsSync && state.withLock({ $0.queue.isEmpty }) { break }
            if closing && failuresWhileClosing >= 20 { break }
        }
        // A last checkpoint at a clean stop: records cut off the end while the process is down are detected.
        checkpoints?.checkpointIfDue(force: true)
        // Whatever could not be written after the log closed is counted, never silently lost.
        let lost = pendingCount
        if descriptor >= 0 { Glibc.close(descriptor) }
        state.withLock { state in
            state.dropped += lost + UInt64(state.queue.count)
            state.queue.removeAll()
            state.writerDone = true
        }
        state.broadcast()
        if lost > 0 { onSinkError(.dropped) }
    }

    private func seal(_ batch: [AuditRecord]) {
        guard !batch.isEmpty else { return }
        var sealed: [(sequence: UInt64, line: [UInt8])] = []
        sealed.reserveCapacity(batch.count)
        for var record in batch {
            record.prevHash = lastHash
            let line = record.sealLine(key: key)
            pending.append(contentsOf: line)
            // The spill holds the line without its newline, as the store takes it.
            sealed.append((record.sequence, Array(line.dropLast())))
            lastHash = record.hash
            pendingLastSequence = record.sequence
            pendingCount += 1
        }
        state.withLock { $0.spill.append(contentsOf: sealed) }
        health.spillFull.store(pendingCount >= UInt64(spillCapacity), ordering: .relaxed)
    }

    /// Writes `pending` and syncs; on failure keeps what is left for the next round.
    private func commit(closing: Bool) {
        if let error = writePending() ?? syncIfNeeded() {
            state.withLock { state in
                state.writeErrors += 1
                state.fileFailing = true
            }
            health.fileWritable.store(false, ordering: .relaxed)
            onSinkError(error)
            if closing {
                // The closed log no longer waits between rounds, so pace the retries here.
                failuresWhileClosing += 1
                usleep(50_000)
            }
            return
        }
        let durable = pendingLastSequence
        let synced = pendingCount
        pendingCount = 0
        checkpoints?.durable(sequence: durable, hash: lastHash)
        state.withLock { state in
            state.durableSequence = durable
            state.fileFailing = false
            state.spill.removeAll(keepingCapacity: state.spill.count < 4096)
        }
        health.fileWritable.store(true, ordering: .relaxed)
        health.spillFull.store(false, ordering: .relaxed)
        state.broadcast()
        if synced > 0 { onDurable(Int(synced)) }
        rotateIfDue(lastSequence: durable)
    }

    /// After a commit: retires the file when it is big or old enough (and, if asked, the store holds all of it).
    /// The rename is the rotation; compressing and retention run on their own thread, off the writer's path.
    private func rotateIfDue(lastSequence: UInt64) {
        guard let rotation, descriptor >= 0, lastSequence > 0 else { return }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_size > 0 else { return }
        let bySize = rotation.maxBytes.map { UInt64(status.st_size) >= $0 } ?? false
        let byAge = rotation.maxAgeSeconds.map { clock.unixSeconds() - fileStartedAt >= $0 } ?? false
        guard bySize || byAge else { return }
        if rotation.waitForStore && state.withLock({ $0.storeAcknowledged }) < lastSequence { return }
        let retired = AuditRetiredFiles.retiredPath(for: path, lastSequence: lastSequence)
        guard rename(path, retired) == 0 else {
            onSinkError(.rotate(errno))
            return
        }
        // The next commit creates the new file; the chain goes on from `lastHash`.
        Glibc.close(descriptor)
        descriptor = -1
        fileStartedAt = clock.unixSeconds()
        let path = path
        let retention = rotation.retentionDays
        let now = clock.unixSeconds()
        Thread.detachNewThread {
            AuditRetiredFiles.compress(retired)
            if let retention { AuditRetiredFiles.applyRetention(for: path, days: retention, nowSeconds: now) }
        }
    }

    /// With nothing to write after a failure, checks that the file can be opened again, so that a fail-closed
    /// gateway (which records nothing while it refuses) serves again by itself once the file is back.
    private func probe() {
        guard openIfNeeded() == nil else { return }
        state.withLock { $0.fileFailing = false }
        health.fileWritable.store(true, ordering: .relaxed)
    }

    /// Opens the file unless the open descriptor still is the file at `path`. A file deleted, moved aside or
    /// replaced under a running writer would swallow appends into an inode nobody reads: reopen instead.
    private func openIfNeeded() -> AuditSinkError? {
        if descriptor >= 0 {
            var opened = stat()
            var named = stat()
            if fstat(descriptor, &opened) == 0, stat(path, &named) == 0, opened.st_ino == named.st_ino,
                opened.st_dev == named.st_dev
            {
                return nil
            }
            Glibc.close(descriptor)
            descriptor = -1
        }
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        return descriptor >= 0 ? nil : .open(errno)
    }

    private func writePending() -> AuditSinkError? {
        guard !pending.isEmpty else { return nil }
        if let error = openIfNeeded() { return error }
        while !pending.isEmpty {
            let written = pending.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let error = errno
                Glibc.close(descriptor)
                descriptor = -1
                return .write(error)
            }
            // A short write leaves the rest for the next call, never a duplicated prefix.
            pending.removeFirst(written)
            needsSync = true
        }
        return nil
    }

    private func syncIfNeeded() -> AuditSinkError? {
        guard needsSync else { return nil }
        guard fsync(descriptor) == 0 else { return .sync(errno) }
        needsSync = false
        return nil
    }
}
