import Net
import PortalCore

/// `SharedBanStore` over this process's `BanList`: for a single gateway, or as the embedded default.
/// Nothing is shared with other processes; every call completes before it returns, and every lookup
/// is answered from memory (`cachedStatus` never returns nil).
public final class InMemoryBanStore: SharedBanStore {
    /// The list behind the store, for the admin API and the `bans_active` gauge.
    public let list: BanList

    /// A store over `list`.
    public init(list: BanList) {
        self.list = list
    }

    public func ban(
        _ key: String, forSeconds seconds: Int, reason: String, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void
    ) {
        completion(list.ban(key, forSeconds: max(seconds, 1), reason: reason) ? .success(()) : .failure(.capacity))
    }

    public func lift(
        _ key: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Bool, SharedStoreError>) -> Void
    ) {
        completion(.success(list.lift(key)))
    }

    public func cachedStatus(_ key: String, on loop: EventLoop) -> BanStatus? {
        BanStatus(remainingSeconds: list.remainingSeconds(key))
    }

    public func status(
        _ key: String, on loop: EventLoop,
        completion: @escaping @Sendable (Result<BanStatus, SharedStoreError>) -> Void
    ) {
        completion(.success(BanStatus(remainingSeconds: list.remainingSeconds(key))))
    }
}
