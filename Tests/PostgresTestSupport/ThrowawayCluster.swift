import Foundation
import Store

/// A PostgreSQL 15 cluster of one test's own, in a temporary directory, that the test may stop, start,
/// freeze and thaw without disturbing any other test.
///
/// Made with `initdb` and driven with `pg_ctl` as the `postgres` OS user (PostgreSQL refuses to run as
/// root, which CI is). It listens on a Unix socket in its directory (superuser `postgres`, trust) and on
/// 127.0.0.1 at a free port (SCRAM-SHA-256 passwords; TLS on when asked). Call `destroy()` when done.
public final class ThrowawayCluster: @unchecked Sendable {
    /// `@unchecked Sendable`: every property is set in `init` and never changed afterwards.
    public static let binaries = "/usr/lib/postgresql/15/bin"
    public let directory: String
    public let port: Int
    /// The superuser over the Unix socket.
    public let server: PostgresServer
    /// The server certificate (self-signed for `localhost`) when TLS is on.
    public let certificatePath: String?
    private var dataDirectory: String { directory + "/data" }

    /// Creates and starts the cluster.
    /// - Parameters:
    ///   - tls: turn on `ssl` with a self-signed certificate for `localhost` and 127.0.0.1.
    ///   - hostSSLOnly: refuse TCP connections that do not use TLS (`hostssl` only in pg_hba.conf).
    public init(tls: Bool = false, hostSSLOnly: Bool = false) throws {
        directory = NSTemporaryDirectory() + "portal-pg-" + UUID().uuidString.lowercased().prefix(12)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = try Self.freePort()
        server = PostgresServer(socketDirectory: directory, port: port, superuser: "postgres")
        certificatePath = tls ? directory + "/server.crt" : nil
        try Self.check(Subprocess.run("/bin/chown", ["postgres:postgres", directory]))
        try Self.check(
            Subprocess.run(
                Self.binaries + "/initdb",
                [
                    "-D", dataDirectory, "-U", "postgres", "-E", "UTF8", "--no-sync", "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ], asUser: "postgres"))
        var settings = [
            "listen_addresses = '127.0.0.1'", "port = \(port)", "unix_socket_directories = '\(directory)'",
            "shared_buffers = 16MB", "max_connections = 40", "fsync = on", "synchronous_commit = on",
        ]
        if tls {
            try makeCertificate()
            settings += [
                "ssl = on", "ssl_cert_file = '\(directory)/server.crt'", "ssl_key_file = '\(directory)/server.key'",
            ]
        }
        try append(settings.joined(separator: "\n") + "\n", to: dataDirectory + "/postgresql.conf")
        if hostSSLOnly {
            let rules = """
                local all all trust
                hostssl all all 127.0.0.1/32 scram-sha-256
                """
            try Self.write(rules + "\n", to: dataDirectory + "/pg_hba.conf")
        }
        try start()
    }

    /// Starts the server and waits until it accepts connections.
    public func start() throws {
        try Self.check(
            Subprocess.run(
                Self.binaries + "/pg_ctl",
                ["-D", dataDirectory, "-l", directory + "/server.log", "-w", "-t", "60", "start"],
                asUser: "postgres"))
    }

    /// Stops the server (`fast`: sessions are ended, no new ones accepted) and waits until it is down.
    public func stop(mode: String = "fast") throws {
        try Self.check(
            Subprocess.run(
                Self.binaries + "/pg_ctl", ["-D", dataDirectory, "-m", mode, "-w", "-t", "60", "stop"],
                asUser: "postgres"))
    }

    /// Freezes every process of the cluster (SIGSTOP): connections stay open but nothing is answered.
    public func pause() throws { try signalAll(SIGSTOP) }

    /// Thaws the cluster after `pause()`.
    public func resume() throws { try signalAll(SIGCONT) }

    /// Stops the server if it runs and removes its directory.
    public func destroy() {
        try? resume()
        _ = try? Subprocess.run(
            Self.binaries + "/pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"], asUser: "postgres")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Connection options over TCP as `user` with `password`, plus `extra` keywords (for example `sslmode`).
    public func tcpOptions(
        database: String, user: String, password: String, extra: [(String, String)] = [], timeoutSeconds: Double = 5
    ) throws -> PostgresConnectionOptions {
        try PostgresConnectionOptions(
            parameters: [
                ("host", "127.0.0.1"), ("port", String(port)), ("dbname", database), ("user", user),
                ("password", password),
            ] + extra.map { (keyword: $0.0, value: $0.1) }, timeoutSeconds: timeoutSeconds)
    }

    /// The server's log so far, for failure messages.
    public func log() -> String {
        (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
    }

    private func signalAll(_ signal: Int32) throws {
        let pidFile = try String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8)
        guard let first = pidFile.split(separator: "\n").first, let postmaster = Int32(first) else {
            throw PostgresTestError("no postmaster.pid")
        }
        // The postmaster and every backend it forked.
        var pids = [postmaster]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == postmaster { pids.append(pid) }
        }
        for pid in pids { kill(pid, signal) }
    }

    private func makeCertificate() throws {
        let key = directory + "/server.key"
        let certificate = directory + "/server.crt"
        try Self.check(
            Subprocess.run(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", certificate,
                ]))
        try Self.check(Subprocess.run("/bin/chown", ["postgres:postgres", key, certificate]))
        try Self.check(Subprocess.run("/bin/chmod", ["0600", key]))
    }

    private func append(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw PostgresTestError("cannot open \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    private static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private static func check(_ output: PostgresServer.Output) throws {
        guard output.status == 0 else { throw PostgresTestError("command failed: \(output.stderr)\(output.stdout)") }
    }

    /// A TCP port nobody listens on right now.
    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw PostgresTestError("socket failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw PostgresTestError("bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
