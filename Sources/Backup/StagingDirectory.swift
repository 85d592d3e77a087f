#if canImport(Glibc)
    import Glibc
#endif

/// A private directory (mode 0700) for the plaintext copies of databases that backup and restore stage, made
/// inside the data directory so they stay where the plaintext already lives; removed with its files after use.
struct StagingDirectory {
    let path: String

    init(in parent: String) throws {
        var template = Array((parent + "/.backup-staging-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw BackupError.io("cannot create a staging directory in", path: parent, errno: errno)
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Removes the directory and the files in it (it never holds subdirectories).
    func remove() {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }

    /// Reads the file at `path` in pieces of up to 1 MiB and hands each to `body`.
    static func stream(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError.io("cannot open", path: path, errno: errno) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw BackupError.io("read", path: path, errno: errno) }
            if n == 0 { return }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }
}

/// A file being written in full, then synced.
final class StagedFile {
    private var fd: Int32
    let path: String

    init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        self.path = path
        guard fd >= 0 else { throw BackupError.io("cannot create", path: path, errno: errno) }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BackupError.io("write", path: path, errno: errno) }
            offset += n
        }
    }

    /// Syncs and closes the file.
    func close() throws {
        let descriptor = fd
        fd = -1
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BackupError.io("fsync", path: path, errno: errno) }
    }
}
