import Foundation
import Net

/// A real `redis-server` for tests: its own process on a free loopback port, in its own temporary directory,
/// configured as the security guide's `redis.conf` (a password, FLUSHDB/FLUSHALL/CONFIG renamed away,
/// `maxclients`, `maxmemory-policy allkeys-lru`), that a test can stop, restart, pause and kill.
///
/// The binary is found on PATH or in /usr/bin (Debian's `redis-server`, installed by `scripts/deps.sh`);
/// without it `start` throws, so a test needing Redis fails rather than skips.
public final class RedisServer: @unchecked Sendable {
    // @unchecked: mutated only by the test that owns it, from one thread at a time.

    /// What went wrong starting or talking to the server.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// Certificate and key files for `tls-port`.
    public struct TLSFiles: Sendable {
        public var certificatePath: String
        public var keyPath: String

        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    /// The password `requirepass` demands; random per server unless given.
    public let password: String
    /// The port it listens on (the TLS port when started with TLS, the plain port closed then).
    public let port: Int
    /// The temporary directory holding `redis.conf` and `redis.log`.
    public let directory: String
    private let tls: TLSFiles?
    private let extraConfiguration: [String]
    private let baseFile: String?
    private var process: Process?

    /// Writes the configuration and starts the server; returns once it answers `PING`.
    /// - Parameters:
    ///   - password: `requirepass`; default a fresh random one.
    ///   - tls: serve TLS only, with these files (`tls-auth-clients no`).
    ///   - extraConfiguration: more `redis.conf` lines.
    ///   - baseFile: a `redis.conf` to start from instead of the built-in one; its `include`, `bind`, `port`,
    ///     `dir` and `logfile` lines are replaced by the test's own.
    public init(
        password: String? = nil, tls: TLSFiles? = nil, extraConfiguration: [String] = [], baseFile: String? = nil
    ) throws {
        self.password = password ?? "pw-" + UUID().uuidString.lowercased()
        self.tls = tls
        self.baseFile = try baseFile.map { try String(contentsOfFile: $0, encoding: .utf8) }
        self.extraConfiguration = extraConfiguration
        directory = NSTemporaryDirectory() + "redis-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = Self.freePort()
        try writeConfiguration()
        try start()
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The `redis-server` binary, or a failure naming the Debian package.
    public static func binary() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = folder + "/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Failure(description: "redis-server not found: install the Debian package redis-server (make deps)")
    }

    private func writeConfiguration() throws {
        let replaced = ["include", "bind", "port", "dir", "logfile", "requirepass", "daemonize"]
        let base = baseFile?.split(separator: "\n").map(String.init).filter { line in
            !replaced.contains { line.hasPrefix($0 + " ") }
        }
        var lines =
            base ?? [
                "protected-mode yes",
                "save \"\"",
                "appendonly no",
                "rename-command FLUSHDB \"\"",
                "rename-command FLUSHALL \"\"",
                "rename-command CONFIG \"\"",
                "maxclients 128",
                "maxmemory 64mb",
                "maxmemory-policy allkeys-lru",
            ]
        lines += [
            "bind 127.0.0.1",
            "daemonize no",
            "dir \(directory)",
            "logfile \(directory)/redis.log",
            "requirepass \(password)",
        ]
        if let tls {
            lines += [
                "port 0", "tls-port \(port)", "tls-cert-file \(tls.certificatePath)",
                "tls-key-file \(tls.keyPath)", "tls-auth-clients no",
            ]
        } else {
            lines.append("port \(port)")
        }
        lines += extraConfiguration
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: directory + "/redis.conf", atomically: true, encoding: .utf8)
    }

    /// Starts the server (again) on the same port and configuration; returns once it answers.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binary())
        process.arguments = [directory + "/redis.conf"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            guard process.isRunning else { throw Failure(description: "redis-server exited: \(log())") }
            if let reply = try? cli(["PING"]), reply == "PONG" { return }
            usleep(20_000)
        }
        throw Failure(description: "redis-server did not answer within 15 s: \(log())")
    }

    /// Stops the server as an operator would, with `SHUTDOWN NOSAVE` (it closes every connection), and waits
    /// for it to exit; SIGKILL after 5 s. Not SIGTERM: a process started from a test thread inherits that
    /// thread's signal mask, in which SIGTERM is blocked.
    public func stop() {
        guard let process, process.isRunning else { return }
        _ = try? cli(["SHUTDOWN", "NOSAVE"])
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        killHard()
    }

    /// Kills the server with SIGKILL: no goodbye on any connection.
    public func killHard() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers.
    public func pause() {
        if let process { kill(process.processIdentifier, SIGSTOP) }
    }

    /// Thaws a paused server (SIGCONT).
    public func resume() {
        if let process { kill(process.processIdentifier, SIGCONT) }
    }

    /// The server's log so far, for failure messages.
    public func log() -> String {
        (try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8)) ?? ""
    }

    /// Runs one command with `redis-cli` (a client independent of the one under test) and returns its output
    /// without the trailing newline.
    public func cli(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        var base = ["-h", "127.0.0.1", "-p", String(port), "--no-auth-warning", "-a", password]
        if let tls { base += ["--tls", "--cacert", tls.certificatePath] }
        process.arguments = base + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "redis-cli \(arguments) failed") }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// A loopback port that was free a moment ago (bound to port 0, read back, closed).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
