import Net
import PortalCore
import Synchronization

/// Revoked token ids in this process's memory: for a single gateway, or as the embedded default.
///
/// One `Mutex`-guarded table from id to the token's expiry (Unix seconds); expired ids are dropped when met
/// and whenever the table is full. At most `maxEntries` live revocations (default 100,000); past that
/// `revoke` fails with `.capacity` rather than forgetting a live one. Every call completes before it
/// returns, and `cachedIsRevoked` never returns nil.
public final class InMemoryRevocationStore: RevocationStore {
    private let table = Mutex<[String: Int64]>([:])
    private let clock: any PortalClock
    private let maxEntries: Int

    /// - Parameters:
    ///   - clock: the wall clock `exp` is compared with.
    ///   - maxEntries: live revocations held at most; default 100,000.
    public init(clock: any PortalClock = SystemClock(), maxEntries: Int = 100_000) {
        self.clock = clock
        self.maxEntries = maxEntries
    }

    public func revoke(
        _ tokenID: String, untilUnixSeconds: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void
    ) {
        let now = clock.unixSeconds()
        guard untilUnixSeconds > now else { return completion(.success(())) }
        let stored = table.withLock { table -> Bool in
            if table.count >= maxEntries && table[tokenID] == nil {
                table = table.filter { $0.value > now }
                guard table.count < maxEntries else { return false }
            }
            table[tokenID] = max(table[tokenID] ?? 0, untilUnixSeconds)
            return true
        }
        completion(stored ? .success(()) : .failure(.capacity))
    }

    public func cachedIsRevoked(_ tokenID: String, on loop: EventLoop) -> Bool? {
        let now = clock.unixSeconds()
        return table.withLock { table in
            guard let until = table[tokenID] else { return false }
            guard until > now else {
                table[tokenID] = nil
                return false
            }
            return true
        }
    }

    public func isRevoked(
        _ tokenID: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Bool, SharedStoreError>) -> Void
    ) {
        completion(.success(cachedIsRevoked(tokenID, on: loop) ?? false))
    }
}
