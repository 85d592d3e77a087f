import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq connection, driven without ever blocking past a deadline.
///
/// Statements are always parameterised: `query` prepares each distinct SQL text once per connection
/// (`PQsendPrepare`) and runs it with its values sent apart from the text (`PQsendQueryPrepared`), so no
/// value is ever spliced into SQL. Every wait is a `poll` on the socket bounded by the caller's deadline;
/// a server that stops answering costs the deadline, not a thread forever.
///
/// Not thread-safe: the pool hands a connection to one thread at a time.
final class PostgresConnection {
    let handle: OpaquePointer
    private var statements: [String: String] = [:]
    /// Set once the connection cannot be trusted (I/O failed, a deadline passed mid-exchange): close it.
    private(set) var isBroken = false

    /// Connects with `options`, giving up at `deadline` (monotonic nanoseconds).
    /// - Throws: `StoreError` (`unavailable`) with libpq's reason when the server cannot be reached in time.
    init(options: PostgresConnectionOptions, deadline: UInt64) throws {
        handle = try Self.connect(options, deadline: deadline)
        // Notices (for example "relation already exists, skipping") would otherwise go to stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        guard PQsetnonblocking(handle, 1) == 0 else {
            PQfinish(handle)
            throw StoreError.unavailable("connect", message: "cannot switch the connection to non-blocking mode")
        }
        do {
            // The server cancels a statement past the timeout itself, so a slow query fails cleanly.
            let milliseconds = String(options.timeoutNanoseconds / 1_000_000)
            _ = try query(
                "SELECT set_config('statement_timeout', $1, false), "
                    + "set_config('idle_in_transaction_session_timeout', $1, false)",
                [.text(milliseconds)], deadline: deadline)
        } catch {
            PQfinish(handle)
            throw error
        }
    }

    deinit { PQfinish(handle) }

    /// Runs `sql` with `parameters` ($1, $2, ...) and returns its rows as text.
    /// - Throws: `StoreError`: `unavailable` for I/O failures, timeouts and transient server errors,
    ///   `database` with the SQLSTATE for other server errors, `invalidText` for a NUL byte in a value.
    func query(_ sql: String, _ parameters: [PostgresValue] = [], deadline: UInt64) throws -> PostgresRows {
        guard !isBroken else { throw StoreError.unavailable("query") }
        let name = try preparedName(for: sql, parameterCount: parameters.count, deadline: deadline)
        let sent = try PostgresValue.withCStrings(parameters) { pointers in
            PQsendQueryPrepared(handle, name, Int32(pointers.count), pointers.baseAddress, nil, nil, 0)
        }
        guard sent == 1 else { throw broken("query") }
        return try awaitResult(deadline: deadline, operation: "query")
    }

    /// Runs constant SQL that takes no values (DDL, `BEGIN`, `COMMIT`) with the simple protocol.
    ///
    /// - Precondition: `sql` is a literal of the program, never text built from input.
    func execute(_ sql: StaticString, deadline: UInt64) throws {
        guard !isBroken else { throw StoreError.unavailable("execute") }
        let sent = sql.withUTF8Buffer { buffer in
            String(decoding: buffer, as: UTF8.self).withCString { PQsendQuery(handle, $0) }
        }
        guard sent == 1 else { throw broken("execute") }
        _ = try awaitResult(deadline: deadline, operation: "execute")
    }

    /// Runs `body` inside `BEGIN` … `COMMIT`; rolls back when it throws.
    func transaction<R>(deadline: UInt64, _ body: () throws -> R) throws -> R {
        try execute("BEGIN", deadline: deadline)
        do {
            let result = try body()
            try execute("COMMIT", deadline: deadline)
            return result
        } catch {
            if !isBroken { try? execute("ROLLBACK", deadline: deadline) }
            throw error
        }
    }

    /// Whether the connection is still open and idle: a server that shut down has closed the socket
    /// (readable at EOF), which a zero-timeout poll finds without sending anything.
    func isUsable() -> Bool {
        guard !isBroken, PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) == PQTRANS_IDLE else {
            return false
        }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return true }
        // Readable while idle: a notice, or the end. Consuming tells which.
        return PQconsumeInput(handle) == 1 && PQstatus(handle) == CONNECTION_OK
    }

    /// Whether the connection is encrypted with TLS.
    var usesTLS: Bool { PQsslInUse(handle) == 1 }

    /// A SCRAM-SHA-256 verifier of `password` for `user`, computed here so the password never reaches the server.
    func scramVerifier(password: String, user: String) -> String? {
        guard let encrypted = PQencryptPasswordConn(handle, password, user, "scram-sha-256") else { return nil }
        defer { PQfreemem(encrypted) }
        return String(cString: encrypted)
    }

    private func preparedName(for sql: String, parameterCount: Int, deadline: UInt64) throws -> String {
        if let name = statements[sql] { return name }
        let name = "s\(statements.count + 1)"
        guard PQsendPrepare(handle, name, sql, Int32(parameterCount), nil) == 1 else { throw broken("prepare") }
        _ = try awaitResult(deadline: deadline, operation: "prepare")
        statements[sql] = name
        return name
    }

    /// Sends what is buffered, waits for the whole answer, and returns the last result's rows.
    func awaitResult(deadline: UInt64, operation: StaticString) throws -> PostgresRows {
        try flush(deadline: deadline, operation: operation)
        var rows = PostgresRows(values: [], columnCount: 0)
        var failure: StoreError?
        while true {
            while PQisBusy(handle) == 1 {
                try wait(for: Int16(POLLIN), deadline: deadline, operation: operation)
                guard PQconsumeInput(handle) == 1 else { throw broken(operation) }
            }
            guard let result = PQgetResult(handle) else { break }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
                rows = PostgresRows(result)
            default:
                let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
                failure = state.isEmpty ? StoreError.unavailable(operation) : StoreError.database(state, operation)
            }
        }
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
        if let failure { throw failure }
        return rows
    }

    func flush(deadline: UInt64, operation: StaticString) throws {
        while true {
            switch PQflush(handle) {
            case 0: return
            case 1:
                try wait(for: Int16(POLLOUT | POLLIN), deadline: deadline, operation: operation)
                guard PQconsumeInput(handle) == 1 else { throw broken(operation) }
            default: throw broken(operation)
            }
        }
    }

    /// Polls the socket for `events` until the deadline; past it the connection is abandoned mid-exchange.
    func wait(for events: Int16, deadline: UInt64, operation: StaticString) throws {
        try Self.waitForSocket(PQsocket(handle), events: events, deadline: deadline) {
            isBroken = true
            return StoreError.unavailable(operation, message: "timed out")
        }
    }

    func broken(_ operation: StaticString) -> StoreError {
        isBroken = true
        return StoreError.unavailable(operation)
    }
}

extension PostgresConnection {
    /// Starts a connection and drives libpq's state machine until it is up or `deadline` passes.
    fileprivate static func connect(_ options: PostgresConnectionOptions, deadline: UInt64) throws -> OpaquePointer {
        let keywords = options.parameters.map(\.keyword)
        let values = options.parameters.map(\.value)
        let started = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectStartParams(keywordPointers, valuePointers, 0)
            }
        }
        guard let connection = started else { throw StoreError.unavailable("connect", message: "out of memory") }
        guard PQstatus(connection) != CONNECTION_BAD else {
            let message = PQerrorMessage(connection).map { String(cString: $0) } ?? ""
            PQfinish(connection)
            throw StoreError.unavailable("connect", message: message)
        }
        var status = PGRES_POLLING_WRITING
        while true {
            switch status {
            case PGRES_POLLING_OK:
                return connection
            case PGRES_POLLING_READING, PGRES_POLLING_WRITING:
                let events = Int16(status == PGRES_POLLING_READING ? POLLIN : POLLOUT)
                do {
                    try waitForSocket(PQsocket(connection), events: events, deadline: deadline) {
                        StoreError.unavailable("connect", message: "timed out connecting to the server")
                    }
                } catch {
                    PQfinish(connection)
                    throw error
                }
                status = PQconnectPoll(connection)
            default:
                let message = PQerrorMessage(connection).map { String(cString: $0) } ?? ""
                PQfinish(connection)
                throw StoreError.unavailable("connect", message: message)
            }
        }
    }

    /// Waits until `socket` is ready for `events` or `deadline` passes (then throws `onTimeout()`).
    fileprivate static func waitForSocket(
        _ socket: Int32, events: Int16, deadline: UInt64, onTimeout: () -> StoreError
    ) throws {
        guard socket >= 0 else { throw StoreError.unavailable("poll") }
        while true {
            let now = MonotonicTime.nanoseconds()
            guard now < deadline else { throw onTimeout() }
            let milliseconds = Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let ready = Glibc.poll(&descriptor, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw StoreError.unavailable("poll") }
        }
    }

    /// Calls `body` with a NULL-terminated array of C strings that live for the call.
    fileprivate static func withCStringArray<R>(
        _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// The monotonic clock, for deadlines that a wall-clock step cannot stretch.
enum MonotonicTime {
    static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// The deadline `nanoseconds` from now.
    static func deadline(after nanoseconds: UInt64) -> UInt64 { Self.nanoseconds() + nanoseconds }
}
