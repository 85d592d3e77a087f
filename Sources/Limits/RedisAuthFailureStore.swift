import Crypto
import Net
import RESP
import Redis

/// Authentication failures counted by every gateway on the same Redis and key prefix, per address and per
/// account, with the offenses that make repeat bans longer.
///
/// Each failure is one `EVALSHA` of `AuthFailureScript` (atomic, on Redis's clock), sent again as `EVAL` when
/// Redis answers `NOSCRIPT`, as `RedisRateLimitStore` does. Keys, each expiring on its own:
/// - `<prefix>failures:<address>`: the address's failure times, a window after its last failure;
/// - `<prefix>failures:account:<digest>`: the account's failure times and addresses, the same;
/// - `<prefix>offenses:<address>` and `<prefix>offenses:account:<digest>`: bans and locks so far, the offense
///   memory after the last one.
///
/// An account is named by `digest(ofAccount:)` (the first 128 bits of an HMAC-SHA256 of its name under the
/// credential key every gateway shares), never by its name: a password typed into the name field must not sit
/// in Redis, and without the key a digest cannot be matched against a list of likely names. No password or
/// token is ever sent. The script names the
/// failure and offense keys of other addresses from inside, so the store wants a single Redis, not a cluster.
public final class RedisAuthFailureStore: Sendable {
    /// What the shared count decided for one failure.
    public struct Answer: Sendable, Equatable {
        /// The bans and the lock due, with lengths from the policy and offenses counted by every gateway.
        public var verdict: BruteForceVerdict
        /// Milliseconds left on the address's ban when it was in the shared ban list already (its ban not yet
        /// mirrored where it failed; the failure counted for nothing), else 0.
        public var addressBanMilliseconds: Int64
        /// Milliseconds left on the account's lock when it was in the shared ban list already (the failure
        /// counted against the address alone), else 0.
        public var accountLockMilliseconds: Int64

        /// - Parameters:
        ///   - verdict: the bans and the lock due; default none.
        ///   - addressBanMilliseconds: what was left of the address's shared ban; default 0, none.
        ///   - accountLockMilliseconds: what was left of the account's shared lock; default 0, none.
        public init(
            verdict: BruteForceVerdict = BruteForceVerdict(), addressBanMilliseconds: Int64 = 0,
            accountLockMilliseconds: Int64 = 0
        ) {
            self.verdict = verdict
            self.addressBanMilliseconds = addressBanMilliseconds
            self.accountLockMilliseconds = accountLockMilliseconds
        }
    }

    private let client: RedisClient
    private let failuresPrefix: String
    private let offensesPrefix: String
    private let banPrefix: String
    private let accountKey: HMACKey

    /// - Parameters:
    ///   - client: the Redis client.
    ///   - keyPrefix: prepended to every key, the same as the ban store's; default `portal:`.
    ///   - accountKey: the secret account digests are keyed with (`CREDENTIAL_HMAC_KEY`): the same on every
    ///     gateway, or they count each account apart.
    public init(client: RedisClient, keyPrefix: String = "portal:", accountKey: [UInt8]) {
        self.client = client
        self.accountKey = HMACKey(secret: accountKey)
        failuresPrefix = keyPrefix + "failures:"
        offensesPrefix = keyPrefix + "offenses:"
        banPrefix = keyPrefix + "ban:"
    }

    /// The Lua text of one failure, as sent with `EVAL`.
    public static var scriptSource: String { AuthFailureScript.source }

    /// The SHA-1 that `EVALSHA` names the script by.
    public static var scriptSHA1: String { AuthFailureScript.sha1 }

    /// What the account digest's HMAC is taken of before the name, so that it can equal no other HMAC made
    /// with the credential key (API key secrets are hashed with it too, and hold no NUL).
    static let accountDigestDomain = Array("story-portal failure-count account\u{0}".utf8)

    /// How an account is named in Redis: the first 128 bits, in hex, of the HMAC-SHA256 under `accountKey` of
    /// `accountDigestDomain` followed by its name.
    public func digest(ofAccount account: String) -> String {
        let code = accountKey.authenticationCode(for: Self.accountDigestDomain + Array(account.utf8))
        return String(Digest.hex(code).prefix(32))
    }

    /// Counts one failure from `address` (against `account`, when known) and answers what it earned under
    /// `policy`; `completion` runs once on `loop`'s thread.
    /// - Parameters:
    ///   - lockKey: the account's key in the ban list (`account:<name>`) when it can be locked, else nil; while
    ///     it is banned the account counts nothing and cannot be locked again.
    ///   - minAccountShare: the failures an address must have made against a locked account to be banned with
    ///     it.
    public func record(
        address: String, account: String?, lockKey: String?, policy: BruteForcePolicy, minAccountShare: Int,
        on loop: EventLoop, completion: @escaping @Sendable (Result<Answer, SharedStoreError>) -> Void
    ) {
        let failure = Failure(
            address: address, account: account, lockKey: account == nil ? nil : lockKey, policy: policy,
            minAccountShare: minAccountShare)
        client.send(command(AuthFailureScript.sha1, named: "EVALSHA", failure), on: loop) { [self] result in
            if case .failure(let error) = result, error.kind == .errorReply, error.code == "NOSCRIPT" {
                let eval = command(AuthFailureScript.source, named: "EVAL", failure)
                client.send(eval, on: loop) { completion(Self.answer($0, policy: policy)) }
                return
            }
            completion(Self.answer(result, policy: policy))
        }
    }

    /// Forgets `address`'s failures (its ban was lifted); its offenses still count.
    public func forget(
        address: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void
    ) {
        delete(failuresPrefix + address, on: loop, completion: completion)
    }

    /// Forgets `account`'s failures (it logged in, or its lock was lifted); its offenses still count.
    public func forget(
        account: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void
    ) {
        delete(failuresPrefix + "account:" + digest(ofAccount: account), on: loop, completion: completion)
    }

    private func delete(
        _ key: String, on loop: EventLoop, completion: @escaping @Sendable (Result<Void, SharedStoreError>) -> Void
    ) {
        client.send(RESPCommand(["DEL", key]), on: loop) { result in
            completion(result.map { _ in () }.mapError(SharedStoreError.init))
        }
    }

    /// One failure's facts, for building its command twice (`EVALSHA`, then perhaps `EVAL`).
    struct Failure: Sendable {
        let address: String
        let account: String?
        let lockKey: String?
        let policy: BruteForcePolicy
        let minAccountShare: Int
    }

    /// `EVALSHA` (`script` is the SHA-1) or `EVAL` (`script` is the text) of one failure.
    func command(_ script: String, named name: String, _ failure: Failure) -> RESPCommand {
        let account = failure.account.map { "account:" + digest(ofAccount: $0) } ?? "account:-"
        var command = RESPCommand(argumentCount: 18)
        command.append(name)
        command.append(script)
        command.append("6")
        command.append(failuresPrefix + failure.address)
        command.append(failuresPrefix + account)
        command.append(banPrefix + failure.address)
        command.append(offensesPrefix + failure.address)
        command.append(offensesPrefix + account)
        command.append(banPrefix + (failure.lockKey ?? failure.address))
        // The window in microseconds, like the script's clock; offenses expire in milliseconds (PEXPIRE).
        command.append(Int64(failure.policy.windowNanoseconds / 1000))
        command.append(Int64(failure.policy.maxFailures))
        command.append(Int64(failure.minAccountShare))
        command.append(Int64(failure.policy.offenseMemoryNanoseconds / 1_000_000))
        command.append(failuresPrefix)
        command.append(offensesPrefix)
        command.append(failure.address)
        command.append(failure.account == nil ? "0" : "1")
        command.append(failure.lockKey == nil ? "0" : "1")
        return command
    }

    /// The answer from the script's reply, with ban lengths from `policy`.
    static func answer(
        _ result: Result<RESPValue, RedisError>, policy: BruteForcePolicy
    ) -> Result<Answer, SharedStoreError> {
        let malformed = SharedStoreError(RedisError(.protocolError, detail: "unexpected failure-count script reply"))
        switch result {
        case .failure(let error):
            return .failure(SharedStoreError(error))
        case .success(let reply):
            guard let items = reply.arrayValue, items.count % 4 == 2, let banned = items[0].integerValue,
                let locked = items[1].integerValue, banned >= 0, locked >= 0
            else { return .failure(malformed) }
            var answer = Answer(addressBanMilliseconds: banned, accountLockMilliseconds: locked)
            for index in stride(from: 2, to: items.count, by: 4) {
                guard let cause = items[index].stringValue, let who = items[index + 1].stringValue,
                    let offense = items[index + 2].integerValue, let failures = items[index + 3].integerValue,
                    offense >= 1, failures >= 1
                else { return .failure(malformed) }
                let ban = BruteForceBan(
                    seconds: policy.banSeconds(offense: Int(offense)), offense: Int(offense),
                    cause: cause == "address" ? .address : .account, failures: Int(failures))
                switch cause {
                case "address", "account": answer.verdict.addressBans.append(.init(address: who, ban: ban))
                case "lock": answer.verdict.accountLock = ban
                default: return .failure(malformed)
                }
            }
            return .success(answer)
        }
    }
}
