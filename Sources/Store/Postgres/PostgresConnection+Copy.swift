import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// COPY in both directions, and SQL whose identifiers come from the catalog, for backup and restore.
///
/// Long transfers are bounded by progress, not by one deadline: each wait may last `idleNanoseconds`, and every
/// row or buffer that moves starts the wait again, so a large table takes as long as it needs while a server
/// that stops answering still costs at most one idle period.
extension PostgresConnection {
    /// Runs `sql`, built by this module from constant text and identifiers read from the catalog (each quoted
    /// with `PostgresIdentifier.quoted`), with the simple protocol: for statements that cannot be prepared
    /// (`LOCK`, `TRUNCATE`, `ALTER TABLE`). Never pass text that came from input.
    func execute(catalogSQL sql: String, deadline: UInt64) throws {
        guard !isBroken else { throw StoreError.unavailable("execute") }
        guard PQsendQuery(handle, sql) == 1 else { throw broken("execute") }
        _ = try awaitResult(deadline: deadline, operation: "execute")
    }

    /// Runs `COPY ... TO STDOUT` and hands every row (one line of COPY text) to `body`.
    /// - Returns: the number of rows.
    func copyOut(
        catalogSQL sql: String, idleNanoseconds: UInt64, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int64 {
        guard !isBroken else { throw StoreError.unavailable("copy_out") }
        guard PQsendQuery(handle, sql) == 1 else { throw broken("copy_out") }
        try flush(deadline: MonotonicTime.deadline(after: idleNanoseconds), operation: "copy_out")
        try awaitCopyStart(PGRES_COPY_OUT, idleNanoseconds: idleNanoseconds, operation: "copy_out")
        var rows: Int64 = 0
        var deadline = MonotonicTime.deadline(after: idleNanoseconds)
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(handle, &buffer, 1)
            if n > 0, let buffer {
                defer { PQfreemem(buffer) }
                try body(UnsafeRawBufferPointer(start: buffer, count: Int(n)))
                rows += 1
                deadline = MonotonicTime.deadline(after: idleNanoseconds)
            } else if n == 0 {
                try wait(for: Int16(POLLIN), deadline: deadline, operation: "copy_out")
                guard PQconsumeInput(handle) == 1 else { throw broken("copy_out") }
            } else if n == -1 {
                break
            } else {
                throw broken("copy_out")
            }
        }
        _ = try awaitResult(deadline: MonotonicTime.deadline(after: idleNanoseconds), operation: "copy_out")
        return rows
    }

    /// Sends `COPY ... FROM STDIN` and waits until the server takes data.
    func beginCopyIn(catalogSQL sql: String, idleNanoseconds: UInt64) throws {
        guard !isBroken else { throw StoreError.unavailable("copy_in") }
        guard PQsendQuery(handle, sql) == 1 else { throw broken("copy_in") }
        try flush(deadline: MonotonicTime.deadline(after: idleNanoseconds), operation: "copy_in")
        try awaitCopyStart(PGRES_COPY_IN, idleNanoseconds: idleNanoseconds, operation: "copy_in")
    }

    /// Sends COPY data (any split of the text; rows may span calls).
    func putCopyData(_ bytes: UnsafeRawBufferPointer, idleNanoseconds: UInt64) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let deadline = MonotonicTime.deadline(after: idleNanoseconds)
        while true {
            let rc = PQputCopyData(handle, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
            if rc == 1 { break }
            guard rc == 0 else { throw broken("copy_in") }
            // The send queue is full: let the socket drain.
            try wait(for: Int16(POLLOUT), deadline: deadline, operation: "copy_in")
            guard PQflush(handle) >= 0 else { throw broken("copy_in") }
        }
    }

    /// Ends COPY data and returns the rows the server loaded.
    /// - Throws: `StoreError` (`database`, with the SQLSTATE) when the server refused the data.
    func endCopyIn(idleNanoseconds: UInt64) throws -> Int64 {
        let deadline = MonotonicTime.deadline(after: idleNanoseconds)
        while true {
            let rc = PQputCopyEnd(handle, nil)
            if rc == 1 { break }
            guard rc == 0 else { throw broken("copy_in") }
            try wait(for: Int16(POLLOUT), deadline: deadline, operation: "copy_in")
        }
        try flush(deadline: deadline, operation: "copy_in")
        var rows: Int64 = -1
        var failure: StoreError?
        while true {
            while PQisBusy(handle) == 1 {
                try wait(for: Int16(POLLIN), deadline: deadline, operation: "copy_in")
                guard PQconsumeInput(handle) == 1 else { throw broken("copy_in") }
            }
            guard let result = PQgetResult(handle) else { break }
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                rows = Int64(String(cString: PQcmdTuples(result))) ?? -1
            } else {
                let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
                failure = StoreError.database(state, "copy_in")
            }
        }
        if let failure { throw failure }
        return rows
    }

    /// Waits for the result that opens a COPY of `status`; any other result is an error.
    private func awaitCopyStart(_ status: ExecStatusType, idleNanoseconds: UInt64, operation: StaticString) throws {
        let deadline = MonotonicTime.deadline(after: idleNanoseconds)
        while PQisBusy(handle) == 1 {
            try wait(for: Int16(POLLIN), deadline: deadline, operation: operation)
            guard PQconsumeInput(handle) == 1 else { throw broken(operation) }
        }
        guard let result = PQgetResult(handle) else { throw broken(operation) }
        defer { PQclear(result) }
        guard PQresultStatus(result) == status else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            // Collect the rest of the exchange, so the connection is idle again for ROLLBACK.
            while let next = PQgetResult(handle) { PQclear(next) }
            throw StoreError.database(state, operation)
        }
    }
}

/// Quoting of SQL identifiers read from the catalog.
enum PostgresIdentifier {
    /// `name` as a quoted identifier: in double quotes, each `"` doubled.
    static func quoted(_ name: String) -> String {
        var out = "\""
        for character in name { out += character == "\"" ? "\"\"" : String(character) }
        return out + "\""
    }

    /// `schema.name`, both quoted.
    static func qualified(_ schema: String, _ name: String) -> String { quoted(schema) + "." + quoted(name) }
}
