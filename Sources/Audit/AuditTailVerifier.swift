import Crypto
import Foundation
import PortalCore

/// Verifies the audit file's chain in the background as it grows, for `audit_last_verified_seq`.
///
/// Each round reads the records synced since the last round (never the whole file again), checks every
/// record's HMAC under the chain key, its sequence and its link to the previous record, and advances
/// `lastVerifiedSequence`. At the first broken record it stops advancing and reports the failure once: the
/// gauge then stays behind `audit_records_total`, which is what the alert watches. Signed checkpoints are left
/// to `portal audit verify`, which an operator runs over the whole trail.
public final class AuditTailVerifier: Sendable {
    struct State: AuditThreadState {
        var stopping = false
        var done = false
        var verified: UInt64 = 0
        var failure: String?
    }

    private let state = ConditionLock(State())
    private let loop: AuditTailVerifierLoop

    /// - Parameters:
    ///   - path: the audit file.
    ///   - chainKey: `AUDIT_HMAC_KEY`.
    ///   - durableSequence: the last sequence synced to the file (`AuditLog.fileDurableSequence`).
    ///   - intervalMilliseconds: the pause between rounds; default 10 000 ms.
    ///   - onFailure: told once, from the verifier's thread, of the first broken record: a fixed reason with
    ///     the sequence, never record contents.
    public init(
        path: String, chainKey: HMACKey, durableSequence: @escaping @Sendable () -> UInt64,
        intervalMilliseconds: Int = 10_000, onFailure: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        let follower = AuditFileFollower(path: path)
        follower.acceptsAnyStart = true
        loop = AuditTailVerifierLoop(
            follower: follower, path: path, key: chainKey, durableSequence: durableSequence,
            intervalNanoseconds: UInt64(max(1, intervalMilliseconds)) * 1_000_000, state: state,
            onFailure: onFailure)
    }

    /// Starts the verifier's thread.
    public func start() {
        state.start(loop, name: "audit-verifier")
    }

    /// Stops the thread, waiting at most `timeoutMilliseconds`.
    @discardableResult
    public func stop(timeoutMilliseconds: Int = 5000) -> Bool {
        state.stopThread(timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The last sequence whose record, and every one before it, verified; 0 before the first round.
    public var lastVerifiedSequence: UInt64 { state.withLock { $0.verified } }

    /// The first broken record found, as a fixed reason; nil while the chain holds.
    public var failure: String? { state.withLock { $0.failure } }

    /// Blocks until `sequence` is verified or a failure is found, at most `timeoutMilliseconds`.
    /// - Returns: whether `sequence` verified.
    public func waitUntilVerified(_ sequence: UInt64, timeoutMilliseconds: Int) -> Bool {
        state.wait(
            until: { $0.verified >= sequence || $0.failure != nil },
            timeoutNanoseconds: UInt64(max(0, timeoutMilliseconds)) * 1_000_000
        ) { state, _ in state.verified >= sequence }
    }
}

/// The verifier's thread. `@unchecked Sendable`: handed once to its thread and used only there; shared state
/// is reached only through the `ConditionLock`.
final class AuditTailVerifierLoop: AuditThreadLoop, @unchecked Sendable {
    private let follower: AuditFileFollower
    private let path: String
    private let key: HMACKey
    private let durableSequence: @Sendable () -> UInt64
    private let intervalNanoseconds: UInt64
    private let state: ConditionLock<AuditTailVerifier.State>
    private let onFailure: @Sendable (String) -> Void
    private var previousHash = AuditRecord.genesisHash
    private var started = false
    private var linked = false

    init(
        follower: AuditFileFollower, path: String, key: HMACKey,
        durableSequence: @escaping @Sendable () -> UInt64,
        intervalNanoseconds: UInt64, state: ConditionLock<AuditTailVerifier.State>,
        onFailure: @escaping @Sendable (String) -> Void
    ) {
        self.follower = follower
        self.path = path
        self.key = key
        self.durableSequence = durableSequence
        self.intervalNanoseconds = intervalNanoseconds
        self.state = state
        self.onFailure = onFailure
    }

    func run() {
        var failed = false
        while !state.withLock({ $0.stopping }) {
            if !failed {
                do {
                    try round()
                } catch  where error.detail.hasPrefix(AuditFileFollower.openFailure) {
                    // Between a rotation's rename and the next file: try again next round.
                } catch {
                    failed = true
                    let reason = error.detail
                    state.withLock { $0.failure = reason }
                    state.broadcast()
                    onFailure(reason)
                }
            }
            state.wait(until: { $0.stopping }, timeoutNanoseconds: intervalNanoseconds) { _, _ in }
        }
        state.withLock { $0.done = true }
        state.broadcast()
    }

    /// Verifies every synced record not verified yet, in batches.
    private func round() throws(AuditShipError) {
        let durable = durableSequence()
        if !started {
            // No record synced yet: the file may not exist.
            guard durable > 0 else { return }
            try follower.seek(after: 0)
            started = true
        }
        while follower.nextSequence <= durable {
            let expected = follower.nextSequence
            var lines: [[UInt8]] = []
            var end = follower.offset
            do {
                (lines, end) = try follower.batch(upTo: durable, maxRecords: 1000, maxBytes: 1 << 20)
            } catch  where error.detail.hasPrefix(AuditFileFollower.openFailure) {
                // Between a rotation's rename and the next file: the records are in the retired files.
            }
            var checked = lines
            if lines.isEmpty {
                // Synced, yet not in the open file nor under the path: a rotation retired them already.
                // Not started yet: begin in the newest retired file rather than read the whole history.
                checked = try retiredLines(expected..<(durable + 1), newestOnly: !linked)
                guard !checked.isEmpty else { return }
            } else if linked, let first = AuditFileFollower.sequence(of: lines[0]), first > expected {
                // The reader went on in a newer file: the files retired meanwhile hold what it jumped over.
                checked = try retiredLines(expected..<first) + lines
            }
            let last = try check(checked, after: expected - 1)
            follower.advance(to: lines.isEmpty ? follower.offset : end, lastSequence: last)
            state.withLock { $0.verified = last }
            state.broadcast()
        }
    }

    /// The records of `range` from the retired files (or only the newest of them), in order.
    private func retiredLines(_ range: Range<UInt64>, newestOnly: Bool = false) throws(AuditShipError) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        let files = AuditRetiredFiles.list(for: path)
        for file in newestOnly ? Array(files.suffix(1)) : files where file.lastSequence >= range.lowerBound {
            // A plain file may be compressed and removed between listing and reading: then read its twin.
            let twin = AuditRetiredFiles.File(path: file.path + ".z", lastSequence: file.lastSequence, compressed: true)
            guard let bytes = (try? AuditRetiredFiles.contents(of: file)) ?? (try? AuditRetiredFiles.contents(of: twin))
            else { throw AuditShipError(.file, detail: "a retired audit file cannot be read") }
            for line in bytes.split(separator: UInt8(ascii: "\n")) {
                guard let sequence = AuditFileFollower.sequence(of: Array(line)) else { continue }
                if range.contains(sequence) { lines.append(Array(line)) }
            }
            if file.lastSequence >= range.upperBound - 1 { break }
        }
        return lines
    }

    /// Checks `lines` in order: HMAC, and each one's link to the one before.
    /// - Returns: the sequence of the last of them.
    private func check(_ lines: [[UInt8]], after start: UInt64) throws(AuditShipError) -> UInt64 {
        var last = start
        for bytes in lines {
            guard let line = SealedLine(bytes), line.verifies(with: key) else {
                throw AuditShipError(.file, detail: "record \(last + 1) does not verify (edited)")
            }
            // The first record this verifier reads links into a file it never saw when it is not the chain's
            // first: trust that one link (`portal audit verify` walks the retired files too).
            if !linked && line.sequence != 1 { previousHash = line.prevHash }
            linked = true
            guard line.prevHash == previousHash else {
                throw AuditShipError(.file, detail: "record \(line.sequence) does not link to the one before")
            }
            previousHash = line.hash
            last = line.sequence
        }
        return last
    }
}
