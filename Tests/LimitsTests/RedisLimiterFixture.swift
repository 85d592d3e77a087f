import Dispatch
import Limits
import Net
import PortalCore
import Redis
import RedisTestSupport
import Synchronization

/// A one-loop group, a client for a real redis-server, and blocking helpers that run calls on the loop.
final class RedisLimiterFixture {
    let group: EventLoopGroup
    let client: RedisClient
    var loop: EventLoop { group.loops[0] }

    init(server: RedisServer, commandTimeoutNanoseconds: UInt64 = 500_000_000) throws {
        group = try EventLoopGroup(threads: 1)
        var configuration = RedisConfiguration(
            host: "127.0.0.1", port: server.port, password: RedisPassword(server.password))
        configuration.commandTimeoutNanoseconds = commandTimeoutNanoseconds
        client = try RedisClient(configuration: configuration)
    }

    /// Runs `body` on the loop and waits until it calls its completion; returns what it was called with.
    func wait<T: Sendable>(_ body: @escaping @Sendable (EventLoop, @escaping @Sendable (T) -> Void) -> Void) -> T {
        let box = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        let loop = self.loop
        loop.execute {
            body(loop) { value in
                box.withLock { $0 = value }
                done.signal()
            }
        }
        done.wait()
        return box.withLock { $0! }
    }

    /// One verdict from a loop limiter, the way the gateway asks for it.
    func verdict(_ limiter: any LoopRateLimiter, key: String, policy: RateLimitPolicy) -> RateLimitVerdict {
        wait { loop, done in
            if let verdict = limiter.decideWithoutWaiting(key: key, policy: policy) {
                done(verdict)
            } else {
                limiter.decide(key: key, policy: policy, on: loop, completion: done)
            }
        }
    }

    func shutdown() {
        client.close(on: group.loops)
        group.shutdown()
    }
}
