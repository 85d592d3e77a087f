import Foundation

/// The built `portal` binary, run as a child process with a controlled environment.
struct PortalProcess {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String

        /// Standard error's non-empty lines.
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    /// `portal` sits beside the test bundle in the build products folder.
    static var binary: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("portal")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return URL(fileURLWithPath: ".build/debug/portal")
    }

    /// A fresh, empty working directory, 0700 as a data directory should be (an open one makes `portal` warn).
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("portal-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return url
    }

    /// The environment a test starts from: PATH only, so the machine's settings never leak in.
    static func baseEnvironment(dataDirectory: URL) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "PORTAL_DATA_DIR": dataDirectory.path,
            "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": "0", "ADMIN_PORT": "0", "DATA_LAYER_PORT": "0",
            "LOOP_THREADS": "1",
        ]
    }

    /// Runs `portal arguments` to completion (bounded by `timeoutSeconds`) in `directory`.
    static func run(
        _ arguments: [String], environment: [String: String], in directory: URL, timeoutSeconds: Double = 20,
        stdin: String? = nil
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}

/// `portal serve` running in the background, with the ports it reported when its listeners started.
final class RunningPortal {
    let process = Process()
    let directory: URL
    private let errPipe = Pipe()
    private(set) var ports: [String: Int] = [:]
    private var logText = ""
    /// What the process logged up to the moment its listeners had all started.
    var startupLog: String { logText }
    private let laterLog = LogText()

    struct StartFailure: Error, CustomStringConvertible { let description: String }

    /// Starts `portal <command>` (default `serve`) and waits until `expectedListeners` have started; with
    /// `niceness`, under `nice -n` (a negative value needs root; without it nice warns and runs it at the usual
    /// priority).
    init(
        environment: [String: String], directory: URL, expectedListeners: Set<String>, command: String = "serve",
        niceness: Int? = nil
    ) throws {
        self.directory = directory
        if let niceness {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
            process.arguments = ["-n", "\(niceness)", PortalProcess.binary.path, command]
        } else {
            process.executableURL = PortalProcess.binary
            process.arguments = [command]
        }
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errPipe
        try process.run()

        // Read the JSON log until every listener has said where it listens.
        let handle = errPipe.fileHandleForReading
        let deadline = Date().addingTimeInterval(20)
        while Set(ports.keys) != expectedListeners {
            guard Date() < deadline, process.isRunning else {
                throw StartFailure(description: "portal did not start: \(logText)")
            }
            let chunk = handle.availableData
            if chunk.isEmpty { continue }
            logText += String(decoding: chunk, as: UTF8.self)
            for line in logText.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    object["message"] as? String == "listener.started",
                    let name = object["listener"] as? String, let port = object["port"] as? Int
                else { continue }
                ports[name] = port
            }
        }
        // Keep reading, so that a process logging a lot never blocks on a full pipe.
        let later = laterLog
        Thread.detachNewThread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                later.append(String(decoding: chunk, as: UTF8.self))
            }
        }
    }

    /// Kills the process at once (SIGKILL), as a crash would, and waits for it to be gone.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The log lines written so far (JSON, one per line).
    var log: String { logText + laterLog.text }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    func terminate(timeoutSeconds: Double = 15) -> Int32? {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Log text read after start-up, appended from the reading thread.
final class LogText: @unchecked Sendable {
    /// `@unchecked Sendable`: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = ""

    func append(_ text: String) {
        lock.lock()
        value += text
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
