import Foundation
import Store

/// A PostgreSQL cluster the tests reach as a superuser over its Unix socket, and the `psql` they drive it with.
///
/// `PostgresServer.debian` is the cluster `make test` starts (`scripts/postgres-setup.sh`), with a superuser
/// role named after the user running the tests (peer authentication). A test that needs it and finds it
/// down fails, naming the script, rather than being skipped.
public struct PostgresServer: Sendable {
    public let socketDirectory: String
    public let port: Int
    public let superuser: String

    public init(socketDirectory: String, port: Int, superuser: String) {
        self.socketDirectory = socketDirectory
        self.port = port
        self.superuser = superuser
    }

    /// Debian's cluster 15/main on `/var/run/postgresql`, as the current OS user.
    public static var debian: PostgresServer {
        PostgresServer(socketDirectory: "/var/run/postgresql", port: 5432, superuser: currentUser())
    }

    /// What `psql` printed and how it exited.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        /// Standard output without its trailing newline, one row per line.
        public var rows: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// Runs `sql` with `psql -X -tA -v ON_ERROR_STOP=1` as the superuser, or as `role` (`SET ROLE` first,
    /// so privileges are exactly that role's).
    public func psql(_ sql: String, database: String = "postgres", role: String? = nil) throws -> Output {
        let script = (role.map { "SET ROLE \($0);\n" } ?? "") + sql
        return try Subprocess.run(
            "/usr/bin/psql",
            [
                "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", String(port), "-U", superuser,
                "-d", database, "-c", script,
            ], timeoutSeconds: 60)
    }

    /// Runs `sql` as the superuser and fails unless it succeeds; returns its rows.
    @discardableResult
    public func admin(_ sql: String, database: String = "postgres") throws -> [String] {
        let output = try psql(sql, database: database)
        guard output.status == 0 else { throw PostgresTestError("psql failed: \(output.stderr)") }
        return output.rows
    }

    /// Fails unless the server answers; the message names what starts it.
    public func requireReachable() throws {
        let output = try psql("SELECT 1")
        guard output.status == 0, output.rows == ["1"] else {
            throw PostgresTestError(
                "PostgreSQL is not reachable at \(socketDirectory):\(port) as \(superuser) "
                    + "(run scripts/postgres-setup.sh, which `make test` runs): \(output.stderr)")
        }
    }

    /// A new, empty database with a random name.
    public func createDatabase() throws -> String {
        try requireReachable()
        let name = "portal_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try admin("CREATE DATABASE \(name)")
        return name
    }

    /// Drops `database`, ending any session still in it.
    public func dropDatabase(_ database: String) {
        _ = try? psql("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
    }

    /// Connection options for `database` as the superuser over the socket.
    public func options(database: String, timeoutSeconds: Double = 5) throws -> PostgresConnectionOptions {
        try PostgresConnectionOptions(
            parameters: [
                ("host", socketDirectory), ("port", String(port)), ("user", superuser), ("dbname", database),
            ], timeoutSeconds: timeoutSeconds)
    }

    private static func currentUser() -> String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "root" }
        return String(cString: name)
    }
}

/// A failure of the test setup itself, with what went wrong.
public struct PostgresTestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs programs to completion with a bound on their time.
public enum Subprocess {
    /// Runs `executable` with `arguments`, optionally as `user` (via `runuser`), and collects its output.
    public static func run(
        _ executable: String, _ arguments: [String], asUser user: String? = nil, environment: [String: String]? = nil,
        timeoutSeconds: Double = 120
    ) throws -> PostgresServer.Output {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", user, "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain both pipes while waiting, so a chatty child never blocks on a full pipe.
        let stdout = Accumulator(out.fileHandleForReading)
        let stderr = Accumulator(err.fileHandleForReading)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw PostgresTestError("\(executable) did not finish within \(timeoutSeconds) s")
        }
        process.waitUntilExit()
        return PostgresServer.Output(status: process.terminationStatus, stdout: stdout.text(), stderr: stderr.text())
    }

    /// Reads a pipe to its end on a thread of its own.
    private final class Accumulator: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                let all = handle.readDataToEndOfFile()
                lock.lock()
                data = all
                lock.unlock()
                done.signal()
            }
        }

        func text() -> String {
            _ = done.wait(timeout: .now() + 10)
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
