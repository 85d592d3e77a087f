import Net
import PortalCore
import RESP
import Redis

/// Revoked token ids in Redis: `SET <prefix>revoked:<jti> 1 EXAT <exp>`, plus an index `<prefix>revocations`
/// (a sorted set of ids by `exp`) and a counter `<prefix>revocations:version` that every revocation
/// increments, so that a gateway's mirror fetches the list only when it changed (`snapshot`).
public final class RedisRevocationStore: RevocationStore {
    private let client: RedisClient
    private let prefix: String
    private let indexKey: String
    private let versionKey: String
    private let clock: any PortalClock

    /// - Parameters:
    ///   - client: the Redis client.
    ///   - keyPrefix: prepended to every key; default `portal:`.
    ///   - clock: the wall clock that `exp` is compared with.
    public init(
        client: RedisClient, keyPrefix: String = "portal:", clock: any PortalClock = SystemClock()
    ) {
        self.client = client
        self.prefix = keyPrefix + "revoked:"
        self.indexKey = keyPrefix + "revocations"
        self.versionKey = keyPrefix + "revocations:version"
        self.clock = clock
    }

    public func revoke(
        _ tokenID: String, untilUnixSeconds: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void
    ) {
        guard untilUnixSeconds > clock.unixSeconds() else { return completion(.success(())) }
        var command = RESPCommand(argumentCount: 8)
        command.append("EVAL")
        command.append(Self.revokeScript)
        command.append("3")
        command.append(prefix + tokenID)
        command.append(indexKey)
        command.append(versionKey)
        command.append(tokenID)
        command.append(untilUnixSeconds)
        client.send(command, on: loop) { result in
            completion(result.map { _ in () }.mapError(SharedStoreError.init))
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
}
