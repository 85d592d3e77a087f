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
    ///
    /// Spawned with `posix_spawn` and reaped with `waitpid`, not with Foundation's `Process`: that one learns of
    /// the child's end through a socket the child inherits, and a daemon the command starts (pg_ctl's
    /// postgres) would hold it open for ever. Output goes to files, and the child gets no other descriptor.
    public static func run(
        _ executable: String, _ arguments: [String], asUser user: String? = nil, environment: [String: String]? = nil,
        timeoutSeconds: Double = 120
    ) throws -> PostgresServer.Output {
        let argv = user.map { ["/usr/sbin/runuser", "-u", $0, "--", executable] } ?? [executable]
        let base = NSTemporaryDirectory() + "subprocess-" + UUID().uuidString
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = spawnActionCloseFrom(&actions, 3)
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let status = withCStrings(argv + arguments) { argvPointers in
            withCStrings(variables) { environmentPointers in
                posix_spawn(&pid, argv[0], &actions, nil, argvPointers, environmentPointers)
            }
        }
        guard status == 0 else { throw PostgresTestError("cannot start \(argv[0]): errno \(status)") }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, WNOHANG) == 0 {
            guard Date() < deadline else {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &waitStatus, 0)
                throw PostgresTestError("\(executable) did not finish within \(timeoutSeconds) s")
            }
            usleep(5_000)
        }
        // WIFEXITED / WEXITSTATUS are macros: exited normally when the low 7 bits are 0.
        let exitStatus: Int32 = waitStatus & 0x7F == 0 ? (waitStatus >> 8) & 0xFF : 128 + (waitStatus & 0x7F)
        let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        return PostgresServer.Output(status: exitStatus, stdout: read(base + ".out"), stderr: read(base + ".err"))
    }

    /// Calls `body` with a NULL-terminated array of C strings that live for the call.
    private static func withCStrings<R>(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R
    ) -> R {
        let copies = strings.map { strdup($0) } + [nil]
        defer { copies.forEach { free($0) } }
        return copies.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which the Glibc module does not import: the
/// child closes every descriptor from the given one up.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnActionCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
