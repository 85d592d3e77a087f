import Net

#if canImport(Glibc)
    import Glibc
#endif

/// `portal cert self-signed --host NAME [--days N] --out DIR`: writes a development key and certificate.
enum CertCommand {
    static let usage = """
        Usage: portal cert self-signed --host NAME [--days N] --out DIR

        Writes DIR/cert.pem (mode 0644) and DIR/key.pem (mode 0600): an EC P-256 key and a self-signed
        X.509 v3 certificate with subjectAltName NAME, for development. Existing files are never overwritten.
        Point TLS_CERT_PATH and TLS_KEY_PATH at them.

        Options:
          --host NAME   DNS name or IP address the certificate names (required).
          --days N      Validity in days, 1 to 3650; default 365.
          --out DIR     Directory for the two files; created with mode 0700 when missing (required).
        """

    static func run(_ raw: [String]) throws -> Int32 {
        let args = try Arguments(raw, valued: ["host", "days", "out"])
        if args.wantsHelp || args.positionals.isEmpty {
            PortalCLI.printOut(usage)
            return args.wantsHelp ? 0 : 2
        }
        guard args.positionals == ["self-signed"] else {
            throw UsageError("unknown cert command; run `portal cert --help`")
        }
        guard let host = args.options["host"], !host.isEmpty else { throw UsageError("--host is required") }
        guard let directory = args.options["out"], !directory.isEmpty else { throw UsageError("--out is required") }
        var days = 365
        if let text = args.options["days"] {
            guard let value = Int(text), (1...3650).contains(value) else {
                throw UsageError("--days: expected whole days from 1 to 3650")
            }
            days = value
        }

        let generated = try SelfSignedCertificate(host: host, days: days)
        let certPath = directory + "/cert.pem"
        let keyPath = directory + "/key.pem"
        try makeDirectory(directory)
        for path in [certPath, keyPath] where access(path, F_OK) == 0 {
            throw UsageError("\(path) already exists; remove it or choose another --out")
        }
        // The key first: created 0600 with O_EXCL, so it is never readable by others, not even briefly.
        try write(generated.privateKeyPEM, to: keyPath, mode: 0o600)
        try write(generated.certificatePEM, to: certPath, mode: 0o644)
        PortalCLI.printOut("wrote \(certPath) and \(keyPath)")
        return 0
    }

    private static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        throw UsageError("--out: cannot create \(path) (\(String(cString: strerror(errno))))")
    }

    private static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw UsageError("cannot create \(path) (\(String(cString: strerror(errno))))") }
        defer { _ = close(fd) }
        // umask may have narrowed the mode; set exactly what was asked.
        guard fchmod(fd, mode) == 0 else { throw UsageError("cannot set the mode of \(path)") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw UsageError("cannot write \(path) (\(String(cString: strerror(errno))))") }
            offset += n
        }
        guard fsync(fd) == 0 else { throw UsageError("cannot sync \(path)") }
    }
}
