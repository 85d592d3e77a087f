import COpenSSL

/// Why TLS set-up or a TLS operation failed, in one line that names the setting to fix.
///
/// Carries paths and OpenSSL's fixed reason strings, never key material.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: String, Sendable {
        case unreadable = "unreadable"
        case notPEM = "not_pem"
        case keyMismatch = "key_mismatch"
        case clientCAMissing = "client_ca_missing"
        case keyReadableByOthers = "key_readable_by_others"
        case certificateExpired = "certificate_expired"
        case openSSLFailure = "openssl_failure"
        case sessionFailed = "session_failed"
    }

    let code: Code
    /// One line for logs and start-up failures.
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// A short fixed token for metrics, e.g. `key_mismatch`.
    public var reason: String { code.rawValue }

    public static func == (lhs: TLSError, rhs: TLSError) -> Bool { lhs.code == rhs.code }

    /// The oldest queued OpenSSL reason on this thread (a constant library string), then an empty queue.
    static func drainOpenSSLReason() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0, let text = ERR_reason_error_string(code) else { return "unknown" }
        return String(cString: text)
    }
}
