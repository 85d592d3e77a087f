import PortalCore

/// A bounded pool of PostgreSQL connections (`POSTGRES_POOL_SIZE`), opened on demand.
///
/// `withConnection` lends one connection to the calling thread. When all `size` are lent, callers wait
/// for one to come back, at most the options' timeout, then fail `unavailable` (the data layer answers 503),
/// so a slow database bounds the wait instead of queueing work without end. A connection that broke (the
/// server restarted, a deadline passed mid-exchange) is closed, never lent again; an idle one whose server
/// went away is noticed when it is next borrowed, and replaced by a fresh connection.
public final class PostgresConnectionPool: Sendable {
    struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var closed = false
    }

    /// The most connections open at once.
    public let size: Int
    /// Where and how to connect.
    public let options: PostgresConnectionOptions
    private let state: ConditionLock<State>

    /// A pool that opens no connection until the first `withConnection`.
    /// - Precondition: `size` is at least 1.
    public init(options: PostgresConnectionOptions, size: Int) {
        precondition(size >= 1, "a connection pool holds at least one connection")
        self.size = size
        self.options = options
        state = ConditionLock(State())
    }

    /// Lends a connection to `body` with the operation's deadline (monotonic nanoseconds).
    /// - Throws: `StoreError` (`unavailable`) when no connection could be had in time, or what `body` throws.
    func withConnection<R>(_ body: (PostgresConnection, UInt64) throws -> R) throws -> R {
        let deadline = MonotonicTime.deadline(after: options.timeoutNanoseconds)
        let connection = try acquire(deadline: deadline)
        defer { release(connection) }
        return try body(connection, deadline)
    }

    /// Connections open now, lent or idle.
    public var openConnections: Int { state.withLock { $0.open } }

    /// Closes idle connections and refuses further use; lent connections close when they come back.
    public func close() {
        // The idle connections are handed out of the lock and closed (deinit) after it is released.
        _ = state.withLock { state -> [PostgresConnection] in
            state.closed = true
            defer { state.idle.removeAll() }
            state.open -= state.idle.count
            return state.idle
        }
        state.broadcast()
    }

    private func acquire(deadline: UInt64) throws -> PostgresConnection {
        while true {
            enum Step {
                case reuse(PostgresConnection)
                case open
                case wait
            }
            let step = state.withLock { state -> Step? in
                if state.closed { return nil }
                if let connection = state.idle.popLast() { return .reuse(connection) }
                if state.open < size {
                    state.open += 1
                    return .open
                }
                return .wait
            }
            switch step {
            case nil:
                throw StoreError.unavailable("pool", message: "the connection pool is closed")
            case .reuse(let connection):
                if connection.isUsable() { return connection }
                // Its server went away while it sat idle: drop it and try again.
                discard()
            case .open:
                do {
                    return try PostgresConnection(options: options, deadline: deadline)
                } catch {
                    discard()
                    throw error
                }
            case .wait:
                let now = MonotonicTime.nanoseconds()
                guard now < deadline else {
                    throw StoreError.unavailable("pool", message: "every pooled connection stayed busy")
                }
                let size = size
                _ = state.wait(
                    until: { $0.closed || !$0.idle.isEmpty || $0.open < size },
                    timeoutNanoseconds: deadline - now
                ) { _, ready in ready }
            }
        }
    }

    private func release(_ connection: PostgresConnection) {
        let keep = connection.isUsable()
        state.withLock { state in
            if keep && !state.closed {
                state.idle.append(connection)
            } else {
                state.open -= 1
            }
        }
        state.broadcast()
    }

    /// Forgets a connection that will not come back.
    private func discard() {
        state.withLock { $0.open -= 1 }
        state.broadcast()
    }
}
