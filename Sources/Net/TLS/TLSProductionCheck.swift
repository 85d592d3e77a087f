import COpenSSL
import PortalCore

#if canImport(Glibc)
    import Glibc
#endif

/// The checks that `PORTAL_ENV=production` adds before a TLS listener starts.
public enum TLSProductionCheck {
    /// Refuses a private key file that group or others may read (mode & 0o077) and a leaf certificate whose
    /// notAfter is at or before `clock`'s current time.
    /// - Parameters:
    ///   - configuration: the files to check.
    ///   - clock: the time the certificate is compared with; default the system clock.
    /// - Throws: `TLSError` in one line naming `TLS_KEY_PATH` or `TLS_CERT_PATH`.
    public static func verify(_ configuration: TLSConfiguration, clock: any PortalClock = SystemClock())
        throws(TLSError)
    {
        let keyPath = configuration.privateKeyPath
        var info = stat()
        guard stat(keyPath, &info) == 0 else {
            throw TLSError(.unreadable, "TLS_KEY_PATH: cannot read \(keyPath) (\(String(cString: strerror(errno))))")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            let octal = String(mode, radix: 8)
            throw TLSError(
                .keyReadableByOthers, "TLS_KEY_PATH: \(keyPath) has mode 0\(octal); allow the owner only (chmod 600)")
        }
        try checkNotExpired(configuration.certificateChainPath, now: clock.unixSeconds())
    }

    private static func checkNotExpired(_ path: String, now: Int64) throws(TLSError) {
        let pem = try SSLContextHandle.readFile(path, setting: "TLS_CERT_PATH")
        let certificate = pem.withUnsafeBytes { bytes -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let certificate else {
            ERR_clear_error()
            throw TLSError(.notPEM, "TLS_CERT_PATH: \(path) holds no PEM certificate")
        }
        defer { X509_free(certificate) }
        var at = time_t(now)
        // X509_cmp_time: -1 when notAfter is before `at`, 0 when it cannot be read; both refuse.
        guard let notAfter = X509_get0_notAfter(certificate), X509_cmp_time(notAfter, &at) > 0 else {
            ERR_clear_error()
            throw TLSError(.certificateExpired, "TLS_CERT_PATH: the certificate in \(path) has expired")
        }
    }
}
