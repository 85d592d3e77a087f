import Net
import PortalCore
import RESP
import Redis

/// Revoked token ids in Redis: `SET <prefix>revoked:<jti> 1 EXAT <exp>`, looked up with `EXISTS`.
///
/// A "revoked" answer is cached until the token's expiry would end it anyway (it cannot be un-revoked);
/// a "not revoked" answer for `caching.ttlNanoseconds`, so a revocation made on another gateway takes
/// effect here within that time, and at once on the loop that made it.
public final class RedisRevocationStore: RevocationStore {
    private let client: RedisClient
    private let prefix: String
    private let caching: SharedStoreCaching
    private let cacheKey = EventLoopLocalKey()
    private let clock: any PortalClock

    /// - Parameters:
    ///   - client: the Redis client.
    ///   - keyPrefix: prepended to every key; default `portal:`.
    ///   - caching: how long and how many "not revoked" answers each loop keeps.
    ///   - clock: the wall clock that `exp` is compared with, and the monotonic one for the cache.
    public init(
        client: RedisClient, keyPrefix: String = "portal:", caching: SharedStoreCaching = SharedStoreCaching(),
        clock: any PortalClock = SystemClock()
    ) {
        self.client = client
        self.prefix = keyPrefix + "revoked:"
        self.caching = caching
        self.clock = clock
    }

    public func revoke(
        _ tokenID: String, untilUnixSeconds: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void
    ) {
        let left = untilUnixSeconds - clock.unixSeconds()
        guard left > 0 else { return completion(.success(())) }
        var command = RESPCommand(argumentCount: 5)
        command.append("SET")
        command.append(prefix + tokenID)
        command.append("1")
        command.append("EXAT")
        command.append(untilUnixSeconds)
        client.send(command, on: loop) { [self] result in
            switch result {
            case .success:
                remember(tokenID, revoked: true, forSeconds: left, on: loop)
                completion(.success(()))
            case .failure(let error):
                completion(.failure(SharedStoreError(error)))
            }
        }
    }

    public func cachedIsRevoked(_ tokenID: String, on loop: EventLoop) -> Bool? {
        cache(on: loop).value(tokenID, now: clock.monotonicNanoseconds())
    }

    public func isRevoked(
        _ tokenID: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Bool, SharedStoreError>) -> Void
    ) {
        // PTTL rather than EXISTS: one round trip also says how long a "revoked" answer may be cached.
        client.send(RESPCommand(["PTTL", prefix + tokenID]), on: loop) { [self] result in
            switch result {
            case .success(let reply):
                guard let milliseconds = reply.integerValue else {
                    return completion(.failure(SharedStoreError(RedisError(.protocolError, detail: "PTTL reply"))))
                }
                let revoked = milliseconds > 0 || milliseconds == -1
                let seconds = milliseconds > 0 ? (milliseconds + 999) / 1000 : 0
                remember(tokenID, revoked: revoked, forSeconds: seconds, on: loop)
                completion(.success(revoked))
            case .failure(let error):
                completion(.failure(SharedStoreError(error)))
            }
        }
    }

    private func remember(_ tokenID: String, revoked: Bool, forSeconds seconds: Int64, on loop: EventLoop) {
        let now = clock.monotonicNanoseconds()
        let span = revoked && seconds > 0 ? UInt64(seconds) * 1_000_000_000 : caching.ttlNanoseconds
        cache(on: loop).store(revoked, for: tokenID, until: now &+ span)
    }

    private func cache(on loop: EventLoop) -> LoopLocalCache<Bool> {
        loop.local(cacheKey) { LoopLocalCache<Bool>(capacity: caching.capacity) }
    }
}
