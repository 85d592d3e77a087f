import Net
import PortalCore
import RESP
import Redis

/// Revoked token ids in Redis: `SET <prefix>revoked:<jti> 1 EXAT <exp>`, looked up with `PTTL`, plus an index
/// `<prefix>revocations` (a sorted set of ids by `exp`) and a counter `<prefix>revocations:version` that every
/// revocation increments, so that a gateway's mirror fetches the list only when it changed (`snapshot`).
///
/// A "revoked" answer is cached until the token's expiry would end it anyway (it cannot be un-revoked);
/// a "not revoked" answer for `caching.ttlNanoseconds`, so a revocation made on another gateway takes
/// effect here within that time, and at once on the loop that made it.
public final class RedisRevocationStore: RevocationStore {
    private let client: RedisClient
    private let prefix: String
    private let indexKey: String
    private let versionKey: String
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
        self.indexKey = keyPrefix + "revocations"
        self.versionKey = keyPrefix + "revocations:version"
        self.caching = caching
        self.clock = clock
    }

    public func revoke(
        _ tokenID: String, untilUnixSeconds: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void
    ) {
        let left = untilUnixSeconds - clock.unixSeconds()
        guard left > 0 else { return completion(.success(())) }
        var command = RESPCommand(argumentCount: 8)
        command.append("EVAL")
        command.append(Self.revokeScript)
        command.append("3")
        command.append(prefix + tokenID)
        command.append(indexKey)
        command.append(versionKey)
        command.append(tokenID)
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

    /// The live revocations (`key`: the id, `value`: its `exp`), unless the list is still at `version`.
    public func snapshot(
        ifChangedSince version: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<SharedSnapshot, SharedStoreError>) -> Void
    ) {
        let command = RESPCommand(["EVAL", Self.snapshotScript, "2", indexKey, versionKey, String(version)])
        client.send(command, on: loop) { result in
            completion(result.mapError(SharedStoreError.init).flatMap { SharedSnapshot.parse($0, since: version) })
        }
    }

    static let revokeScript = """
        redis.call('SET', KEYS[1], '1', 'EXAT', ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
        redis.call('INCR', KEYS[3])
        return 1
        """

    /// `{version}` when the version is `ARGV[1]`, else `{version, id, exp, ...}` for the live revocations.
    static let snapshotScript = """
        local version = tonumber(redis.call('GET', KEYS[2]) or '0')
        if version == tonumber(ARGV[1]) then return {version} end
        local now = redis.call('TIME')
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(now[1]))
        local out = {version}
        local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
        for index = 1, #entries, 2 do
          out[#out + 1] = entries[index]
          out[#out + 1] = tonumber(entries[index + 1])
        end
        return out
        """

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
