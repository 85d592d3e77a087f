import Dispatch
import Net
import PortalCore
import RESP
import Synchronization

/// What a Redis command's caller is told, once, on the loop the command was sent on.
public typealias RedisCompletion = @Sendable (Result<RESPValue, RedisError>) -> Void

/// A Redis client for the event loops: one pipelined connection per loop, opened on first use.
///
/// Why our own client rather than hiredis: Debian 12's hiredis is 0.14, which has no TLS (hiredis_ssl came in
/// 1.0), and its async API would need an adapter to these loops anyway, while its blocking API would stall
/// them. RESP is small; the codec (`RESP` module) is kept apart from this transport and fuzzed on its own.
///
/// - Per loop: each event loop keeps its own connection (`EventLoop.local`), touched only on its thread, so
///   sending takes no lock. Commands are written at once and their replies matched in order (pipelining).
/// - Handshake: `AUTH` (password, or ACL user and password) and `SELECT` go out ahead of the first command on
///   each new connection, in the same write.
/// - Timeouts: connecting, TLS and the handshake must finish within the connect timeout; each command's reply
///   must come within the command timeout. A timeout closes the connection (a late reply could no longer be
///   matched) and fails every waiting command.
/// - Reconnect: after a failure the loop's connection waits a backoff (50 ms doubling to 1 s by default);
///   commands sent meanwhile fail at once with `.unavailable`, so a dead server costs no latency. A
///   connection the server closed while idle reconnects on the next command without waiting.
/// - Secrets: the password is written only into the socket; errors and descriptions never carry it.
public final class RedisClient: Sendable {
    /// The settings this client was made with.
    public let configuration: RedisConfiguration
    let address: UpstreamAddress
    let key = EventLoopLocalKey()

    /// Resolves the host now; connects on first use.
    /// - Throws: `RedisError(.connectFailed)` when the host does not resolve.
    public init(configuration: RedisConfiguration) throws(RedisError) {
        do {
            address = try UpstreamAddress(host: configuration.host, port: configuration.port)
        } catch {
            throw RedisError(.connectFailed, detail: "cannot resolve the Redis host")
        }
        self.configuration = configuration
    }

    /// Sends `command` on `loop`'s connection; `completion` runs once, on `loop`'s thread.
    ///
    /// An error reply from Redis completes with `.errorReply` and its code. Callable from any thread; on the
    /// loop's own thread the command goes straight to the loop's connection, with no lock and no hop.
    public func send(_ command: RESPCommand, on loop: EventLoop, completion: @escaping RedisCompletion) {
        precondition(command.isComplete, "a command is sent with every declared argument")
        guard loop.inEventLoop else {
            loop.execute { self.send(command, on: loop, completion: completion) }
            return
        }
        connection(on: loop).send(command, completion: completion)
    }

    /// Sends `command` and waits for the reply. Blocks the caller: never call it on an event loop's thread.
    /// For start-up checks, administration and tests.
    public func sendAndWait(_ command: RESPCommand, on loop: EventLoop) -> Result<RESPValue, RedisError> {
        precondition(!loop.inEventLoop, "sendAndWait would block its own loop")
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        send(command, on: loop) { result in
            box.set(result)
            done.signal()
        }
        done.wait()
        return box.get()
    }

    /// Sends `PING` through a fresh handshake if needed, and waits: proves the server is reachable and takes
    /// the credentials. Blocks the caller; never call it on an event loop's thread.
    /// - Throws: the `RedisError` the connection or the server gave.
    public func verifyConnection(on loop: EventLoop) throws(RedisError) {
        switch sendAndWait(RESPCommand(["PING"]), on: loop) {
        case .success: return
        case .failure(let error): throw error
        }
    }

    /// Closes this client's connection on each of `loops`; commands still waiting fail with `.connectionLost`.
    /// Callable from any thread; the closing happens on each loop.
    public func close(on loops: [EventLoop]) {
        for loop in loops {
            let key = self.key
            loop.execute {
                loop.existingLocal(key, as: RedisConnection.self)?.shutdown()
                loop.removeLocal(key)
            }
        }
    }

    func connection(on loop: EventLoop) -> RedisConnection {
        loop.local(key) { RedisConnection(loop: loop, client: self) }
    }
}

/// Carries one result from a loop thread to a waiting thread.
private final class ResultBox: Sendable {
    private let result = Mutex<Result<RESPValue, RedisError>>(.failure(RedisError(.unavailable)))
    func set(_ value: Result<RESPValue, RedisError>) { result.withLock { $0 = value } }
    func get() -> Result<RESPValue, RedisError> { result.withLock { $0 } }
}
