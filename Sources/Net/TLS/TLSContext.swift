import COpenSSL
import Synchronization

/// A TLS server context: certificate, key and policy loaded and checked, shared by every connection.
///
/// `reload()` re-reads the files and swaps in a new OpenSSL context in one step (for SIGHUP): handshakes
/// that start afterwards use it, sessions already made keep the context they were made with.
public final class TLSContext: Sendable {
    /// The files and policy this context loads.
    public let configuration: TLSConfiguration
    private let current: Mutex<SSLContextHandle>

    /// Loads and validates the files now, so that a bad file stops start-up.
    /// - Throws: `TLSError` in one line naming `TLS_CERT_PATH`, `TLS_KEY_PATH` or `TLS_CLIENT_CA_PATH`.
    public init(configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        current = Mutex(try SSLContextHandle(configuration))
    }

    /// Re-reads the certificate, key and client CAs. On failure the previous context stays in use.
    /// - Throws: `TLSError` as `init` does.
    public func reload() throws(TLSError) {
        let fresh = try SSLContextHandle(configuration)
        current.withLock { $0 = fresh }
    }

    /// A new server session for one connection, using the context current at this moment.
    /// - Throws: `TLSError` when OpenSSL cannot allocate the session.
    public func makeSession() throws(TLSError) -> TLSSession {
        let handle = current.withLock { $0 }
        return try TLSSession(context: handle)
    }
}
