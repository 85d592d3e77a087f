import Dispatch
import Foundation
import Net
import RESP
import Redis
import RedisTestSupport
import Synchronization

/// A one-loop group and a client for `server`, closed by `shutdown()`.
final class RedisFixture {
    let group: EventLoopGroup
    let client: RedisClient
    var loop: EventLoop { group.loops[0] }

    init(_ configuration: RedisConfiguration) throws {
        group = try EventLoopGroup(threads: 1)
        client = try RedisClient(configuration: configuration)
    }

    convenience init(server: RedisServer, password: String? = nil, database: Int = 0) throws {
        try self.init(
            RedisConfiguration(
                host: "127.0.0.1", port: server.port, password: RedisPassword(password ?? server.password),
                database: database))
    }

    func run(_ arguments: [String]) -> Result<RESPValue, RedisError> {
        client.sendAndWait(RESPCommand(arguments), on: loop)
    }

    /// Sends every command from the loop thread in one go (pipelined) and waits for all replies, in order.
    func pipeline(_ commands: [[String]]) -> [Result<RESPValue, RedisError>] {
        let results = Mutex<[Result<RESPValue, RedisError>]>([])
        let done = DispatchSemaphore(value: 0)
        let client = self.client
        let loop = self.loop
        let total = commands.count
        loop.execute {
            for command in commands {
                client.send(RESPCommand(command), on: loop) { result in
                    let count = results.withLock {
                        $0.append(result)
                        return $0.count
                    }
                    if count == total { done.signal() }
                }
            }
        }
        done.wait()
        return results.withLock { $0 }
    }

    func shutdown() {
        client.close(on: group.loops)
        group.shutdown()
    }
}

extension Result where Failure == RedisError {
    var error: RedisError? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var value: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}

/// Waits, polling every 20 ms, until `condition` holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
