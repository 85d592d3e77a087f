import COpenSSL

/// Why a cryptographic operation or key import failed. Never carries key or message bytes.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: String, Sendable {
        case invalidKey = "invalid_key"
        case invalidInput = "invalid_input"
        case wrongKeyType = "wrong_key_type"
        case authenticationFailed = "authentication_failed"
        case openSSLFailure = "openssl_failure"
        case libraryFailure = "library_failure"
    }

    let code: Code
    /// The OpenSSL call or check that failed; a constant from this module, never input.
    let operation: StaticString

    init(_ code: Code, _ operation: StaticString) {
        self.code = code
        self.operation = operation
        // The error queue is per thread; leave it empty so later calls start clean.
        ERR_clear_error()
    }

    /// A short fixed token for metrics and audit, e.g. `invalid_key`.
    public var reason: String { code.rawValue }

    public var description: String { "crypto: \(code.rawValue) (\(operation))" }

    public static func == (lhs: CryptoError, rhs: CryptoError) -> Bool { lhs.code == rhs.code }
}
