import Audit
import Config
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension AuditCommand {
    /// `portal audit tail`: the last records of the audit file (going back into the retired, compressed files when
    /// the current one holds fewer), and with `-f` the new ones as they come.
    static func tail(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(
            raw.map { $0 == "-f" ? "--follow" : $0 }, valued: ["file", "lines"], flags: ["follow"])
        if args.wantsHelp {
            PortalCLI.printOut(usage)
            return 0
        }
        guard args.positionals.isEmpty else { throw UsageError("audit tail takes no positional arguments") }
        var count = 10
        if let text = args.options["lines"] {
            guard let value = Int(text), value >= 0 else { throw UsageError("--lines: expected a count from 0") }
            count = value
        }
        let path = try args.options["file"] ?? PortalSettings.load(from: Environment.load()).auditLogDestination
        var follower = FileTail(path: path)
        var retired = AuditRetiredFiles.list(for: path)
        // Right after a rotation the current file may not exist yet: the retired ones still have the tail.
        guard let first = follower.read() ?? (retired.isEmpty ? nil : []) else {
            PortalCLI.printError("portal: audit tail: cannot read \(path)")
            return 1
        }
        var lines = first.split(separator: UInt8(ascii: "\n"))
        // Fewer lines than asked for: go back through the retired files, newest first.
        while lines.count < count, let file = retired.popLast() {
            guard let bytes = try? AuditRetiredFiles.contents(of: file) else { break }
            lines = bytes.split(separator: UInt8(ascii: "\n")) + lines
        }
        if count > 0, !lines.isEmpty {
            PortalCLI.printOut(lines.suffix(count).map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n"))
        }
        guard args.flags.contains("follow") else { return 0 }
        // Whoever started this may have blocked the stop signals it handed down: -f runs until one comes.
        var stops = sigset_t()
        sigemptyset(&stops)
        sigaddset(&stops, SIGINT)
        sigaddset(&stops, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stops, nil)
        // Poll: the writer syncs at most every ~50 ms, so a quarter second is prompt enough.
        while true {
            usleep(250_000)
            if let more = follower.read(), !more.isEmpty {
                PortalCLI.printOut(String(decoding: more.dropLast(), as: UTF8.self))
            }
        }
    }
}

/// Reads whole lines appended to a file since the last read; starts over when the file is replaced.
struct FileTail {
    let path: String
    private var offset: UInt64 = 0
    private var inode: UInt64?

    init(path: String) { self.path = path }

    /// The complete lines written since the last call (each ending in a newline), or nil when the file
    /// cannot be read.
    mutating func read() -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var info = stat()
        guard fstat(handle.fileDescriptor, &info) == 0 else { return nil }
        if inode != UInt64(info.st_ino) || UInt64(info.st_size) < offset {
            inode = UInt64(info.st_ino)
            offset = 0
        }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd() else { return [] }
        let bytes = Array(data)
        // Only whole lines: a line being written is left for the next read.
        guard let end = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        offset += UInt64(end + 1)
        return Array(bytes[...end])
    }
}
