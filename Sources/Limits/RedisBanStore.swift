import Net
import PortalCore
import RESP
import Redis

/// Bans in Redis: one key per ban, `<prefix>ban:<key>`, holding the reason and expiring with the ban, an index
/// `<prefix>bans` (a sorted set of banned keys by end, in Redis's milliseconds) for the admin list and the
/// gateways' mirrors, and a counter `<prefix>bans:version` that every ban and lift increments, so that a mirror
/// asks for the list only when it changed (`snapshot`).
///
/// `ban` runs a short script so that a ban is extended, never shortened, atomically (`SET ... PX` only
/// when the new end is later than the key's `PTTL`). The scripts name the ban keys of the index from inside
/// (`list`, `snapshot`), so the store wants a single Redis, not a cluster.
public final class RedisBanStore: SharedBanStore {
    static let extendScript = """
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          local now = redis.call('TIME')
          local end_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[2])
          redis.call('ZADD', KEYS[2], end_ms, ARGV[3])
          redis.call('INCR', KEYS[3])
        end
        return 1
        """

    static let liftScript = """
        redis.call('ZREM', KEYS[2], ARGV[1])
        local lifted = redis.call('DEL', KEYS[1])
        if lifted > 0 then redis.call('INCR', KEYS[3]) end
        return lifted
        """

    /// `{version}` when the version is `ARGV[2]`, else `{version, key, PTTL ms, ...}` for the live bans.
    static let snapshotScript = """
        local version = tonumber(redis.call('GET', KEYS[2]) or '0')
        if version == tonumber(ARGV[2]) then return {version} end
        local now = redis.call('TIME')
        local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
        local out = {version}
        for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          local ttl = redis.call('PTTL', ARGV[1] .. member)
          if ttl > 0 then
            out[#out + 1] = member
            out[#out + 1] = ttl
          end
        end
        return out
        """

    /// Drops ended entries from the index, then answers `[key, reason, PTTL ms, ...]` for the live bans.
    static let listScript = """
        local now = redis.call('TIME')
        local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
        local out = {}
        for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          local ttl = redis.call('PTTL', ARGV[1] .. member)
          if ttl > 0 then
            out[#out + 1] = member
            out[#out + 1] = redis.call('GET', ARGV[1] .. member)
            out[#out + 1] = ttl
          else
            redis.call('ZREM', KEYS[1], member)
          end
        end
        return out
        """

    private let client: RedisClient
    private let prefix: String
    private let indexKey: String
    private let versionKey: String
    private let clock = SystemClock()

    /// - Parameters:
    ///   - client: the Redis client.
    ///   - keyPrefix: prepended to every key; default `portal:`.
    public init(client: RedisClient, keyPrefix: String = "portal:") {
        self.client = client
        self.prefix = keyPrefix + "ban:"
        self.indexKey = keyPrefix + "bans"
        self.versionKey = keyPrefix + "bans:version"
    }

    public func ban(
        _ key: String, forSeconds seconds: Int, reason: String, on loop: EventLoop,
        completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void
    ) {
        let milliseconds = Int64(max(seconds, 1)) * 1000
        var command = RESPCommand(argumentCount: 9)
        command.append("EVAL")
        command.append(Self.extendScript)
        command.append("3")
        command.append(prefix + key)
        command.append(indexKey)
        command.append(versionKey)
        command.append(reason)
        command.append(milliseconds)
        command.append(key)
        client.send(command, on: loop) { result in
            completion(result.map { _ in () }.mapError(SharedStoreError.init))
        }
    }

    public func lift(
        _ key: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Bool, SharedStoreError>) -> Void
    ) {
        let command = RESPCommand(["EVAL", Self.liftScript, "3", prefix + key, indexKey, versionKey, key])
        client.send(command, on: loop) { result in
            completion(result.map { ($0.integerValue ?? 0) > 0 }.mapError(SharedStoreError.init))
        }
    }

    public func list(
        on loop: EventLoop, completion: @escaping @Sendable (Result<[BanList.Entry], SharedStoreError>) -> Void
    ) {
        client.send(RESPCommand(["EVAL", Self.listScript, "1", indexKey, prefix]), on: loop) { [self] result in
            switch result {
            case .success(let reply):
                let now = clock.monotonicNanoseconds()
                let items = reply.arrayValue ?? []
                var entries: [BanList.Entry] = []
                entries.reserveCapacity(items.count / 3)
                for index in stride(from: 0, to: items.count - 2, by: 3) {
                    guard let key = items[index].stringValue, let milliseconds = items[index + 2].integerValue else {
                        continue
                    }
                    let left = UInt64(max(milliseconds, 1)) * 1_000_000
                    entries.append(
                        BanList.Entry(
                            key: key, reason: items[index + 1].stringValue ?? "",
                            untilMonotonicNanoseconds: now &+ left,
                            remainingSeconds: GCRA.ceilSeconds(left)))
                }
                completion(.success(entries.sorted { $0.key < $1.key }))
            case .failure(let error):
                completion(.failure(SharedStoreError(error)))
            }
        }
    }

    /// The live bans with their milliseconds left, unless the list is still at `version`.
    /// - Parameter version: the version of the caller's copy; a negative one fetches the list whatever it is.
    public func snapshot(
        ifChangedSince version: Int64, on loop: EventLoop,
        completion: @escaping @Sendable (Result<SharedSnapshot, SharedStoreError>) -> Void
    ) {
        let command = RESPCommand(["EVAL", Self.snapshotScript, "2", indexKey, versionKey, prefix, String(version)])
        client.send(command, on: loop) { result in
            completion(result.mapError(SharedStoreError.init).flatMap { SharedSnapshot.parse($0, since: version) })
        }
    }
}
