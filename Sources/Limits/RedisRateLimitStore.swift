import Net
import RESP
import Redis

/// GCRA limiter state in Redis, shared by every gateway that uses the same server and key prefix.
///
/// Each decision is one `EVALSHA` of `GCRAScript` (atomic on the server, on the server's clock). A server
/// that does not know the script yet (restarted, `SCRIPT FLUSH`) answers `NOSCRIPT`; the decision is then
/// sent once more as `EVAL` with the script's text, which also loads it for the next time.
/// Keys are `<prefix>rl:<key>`, each expiring when its allowance is full. Resolution is 1 µs, so a rate
/// above one request per microsecond per key is capped there.
public final class RedisRateLimitStore: Sendable {
    private let client: RedisClient
    private let prefix: String

    /// - Parameters:
    ///   - client: the Redis client; its per-loop connections carry the decisions.
    ///   - keyPrefix: prepended to every key, so deployments can share a server; default `portal:`.
    public init(client: RedisClient, keyPrefix: String = "portal:") {
        self.client = client
        self.prefix = keyPrefix + "rl:"
    }

    /// The Lua text of the decision, as sent with `EVAL`.
    public static var scriptSource: String { GCRAScript.source }

    /// The SHA-1 that `EVALSHA` names the script by.
    public static var scriptSHA1: String { GCRAScript.sha1 }

    /// Decides one request for `key`; `completion` runs once on `loop`'s thread.
    public func decide(
        key: String, policy: RateLimitPolicy, on loop: EventLoop,
        completion: @escaping @Sendable (Result<RateLimitDecision, RedisError>) -> Void
    ) {
        let evalsha = command(GCRAScript.sha1, named: "EVALSHA", key: key, policy: policy)
        client.send(evalsha, on: loop) { [self] result in
            if case .failure(let error) = result, error.kind == .errorReply, error.code == "NOSCRIPT" {
                let eval = command(GCRAScript.source, named: "EVAL", key: key, policy: policy)
                client.send(eval, on: loop) { completion(Self.decision($0, policy: policy)) }
                return
            }
            completion(Self.decision(result, policy: policy))
        }
    }

    private func command(_ script: String, named name: String, key: String, policy: RateLimitPolicy) -> RESPCommand {
        var command = RESPCommand(argumentCount: 6)
        command.append(name)
        command.append(script)
        command.append("1")
        command.append(prefix + key)
        command.append(GCRAScript.intervalMicroseconds(policy))
        command.append(GCRAScript.toleranceMicroseconds(policy))
        return command
    }

    /// The decision from the script's `{allowed, debt}`, with headers computed as in memory.
    static func decision(
        _ result: Result<RESPValue, RedisError>, policy: RateLimitPolicy
    ) -> Result<RateLimitDecision, RedisError> {
        switch result {
        case .failure(let error):
            return .failure(error)
        case .success(let reply):
            guard case .array(let items) = reply, items.count == 2, let allowed = items[0].integerValue,
                let debt = items[1].integerValue, debt >= 0
            else { return .failure(RedisError(.protocolError, detail: "unexpected rate-limit script reply")) }
            let interval = UInt64(GCRAScript.intervalMicroseconds(policy)) * 1000
            let tolerance = UInt64(GCRAScript.toleranceMicroseconds(policy)) * 1000
            let decision = GCRA.decision(
                debt: UInt64(debt) * 1000, interval: interval, tolerance: tolerance, capacity: policy.capacity)
            guard decision.allowed == (allowed == 1) else {
                return .failure(RedisError(.protocolError, detail: "rate-limit script disagrees with GCRA"))
            }
            return .success(decision)
        }
    }
}
