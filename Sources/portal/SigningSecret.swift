import Config
import Crypto
import PortalCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Finds the HS256 secret: `JWT_SECRET(_FILE)`, or in development a secret generated once and kept in
/// `$PORTAL_DATA_DIR/jwt_secret` (mode 0600), so `portal serve` and `portal token issue` agree.
/// Production never gets here without a strong `JWT_SECRET`: settings refuse to load.
enum SigningSecret {
    /// A secret that cannot be had; `badSetting` when the setting (or the file it names) is at fault: exit status 2.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        var badSetting = false
    }

    static func resolve(_ settings: PortalSettings) throws -> [UInt8] {
        if let secret = settings.jwtSecret {
            guard secret.byteCount >= 32 else {
                throw Failure(description: "JWT_SECRET: expected at least 32 bytes", badSetting: true)
            }
            return secret.bytes
        }
        return try generatedFile("jwt_secret", in: settings.portalDataDirectory)
    }

    /// The secret kept in `directory/name`, generated (32 random bytes, base64url) and written with mode 0600
    /// the first time; for development, where the setting that names a real one is unset.
    static func generatedFile(_ name: String, in directory: String) throws -> [UInt8] {
        try DataDirectory.ensure(directory)
        let path = directory + "/" + name
        if let existing = try readSecretFile(path) { return existing }
        let fresh = Array(Base64URL.encode(SecureRandom.bytes(count: 32)).utf8)
        try writeSecretFile(path, fresh)
        return fresh
    }

    private static func readSecretFile(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Failure(description: "PORTAL_DATA_DIR: cannot read \(path)")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 32 else { throw Failure(description: "PORTAL_DATA_DIR: \(path) holds no usable secret") }
        var bytes = Array(buffer[..<n])
        while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        return bytes
    }

    static func writeSecretFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "PORTAL_DATA_DIR: cannot create \(path)") }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count, fsync(fd) == 0 else {
            throw Failure(description: "PORTAL_DATA_DIR: cannot write \(path)")
        }
    }
}

/// The data directory: created with mode 0700 when missing.
enum DataDirectory {
    /// Directories already warned about, so a command that opens several files warns once.
    private static let warned = Mutex<Set<String>>([])

    /// Creates the data directory 0700 when missing. One the operator made is left as it is, with one warning
    /// line when its group or others may enter it.
    static func ensure(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw SigningSecret.Failure(description: "PORTAL_DATA_DIR: \(path) is not a directory")
            }
            let mode = info.st_mode & 0o777
            if mode & 0o077 != 0, warned.withLock({ $0.insert(path).inserted }) {
                PortalCLI.printError(
                    "portal: warning: PORTAL_DATA_DIR \(path) is open to group or others (mode "
                        + String(mode, radix: 8) + "); run `chmod 700` on it")
            }
            return
        }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw SigningSecret.Failure(description: "PORTAL_DATA_DIR: cannot create \(path)")
        }
    }
}

/// An exclusive lock on the data directory for the life of the process: two servers appending to one
/// audit chain or one store would fork the chain and break its sequence.
enum DataDirectoryLock {
    /// Takes the lock or throws a one-line error naming the directory; the descriptor stays open until exit.
    static func acquire(_ directory: String) throws -> Int32 {
        let path = directory + "/.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SigningSecret.Failure(description: "PORTAL_DATA_DIR: cannot create \(path)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw SigningSecret.Failure(
                description: "PORTAL_DATA_DIR: \(directory) is in use by another portal process")
        }
        return fd
    }
}
