/// Whether a TLS listener asks clients for a certificate (mutual TLS).
public enum TLSClientAuthentication: String, Sendable {
    /// No certificate is requested.
    case none
    /// A certificate is requested; a client without one is accepted, one that fails verification is refused.
    case optional
    /// A certificate that verifies against the client CA is required; the handshake fails otherwise.
    case required
}

/// What a TLS listener serves: its certificate, key and client-certificate policy.
///
/// The protocol policy is fixed, not configurable: TLS 1.2 and 1.3 only; in TLS 1.2 only ECDHE key exchange
/// with AEAD ciphers (AES-GCM, ChaCha20-Poly1305); the server's cipher order wins; ALPN `http/1.1`;
/// no session tickets or session cache, no renegotiation, no compression.
public struct TLSConfiguration: Sendable, Equatable {
    /// PEM file with the leaf certificate first, then any intermediates (`TLS_CERT_PATH`).
    public var certificateChainPath: String
    /// PEM file with the private key (`TLS_KEY_PATH`).
    public var privateKeyPath: String
    /// PEM file with the CAs that sign client certificates (`TLS_CLIENT_CA_PATH`); needed unless `.none`.
    public var clientCAPath: String?
    /// Client-certificate policy (`TLS_CLIENT_AUTH`); default `.none`.
    public var clientAuthentication: TLSClientAuthentication

    /// - Parameters:
    ///   - certificateChainPath: PEM chain, leaf first.
    ///   - privateKeyPath: PEM private key matching the leaf.
    ///   - clientCAPath: PEM CA bundle for client certificates; default none.
    ///   - clientAuthentication: default `.none`.
    public init(
        certificateChainPath: String, privateKeyPath: String, clientCAPath: String? = nil,
        clientAuthentication: TLSClientAuthentication = .none
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
        self.clientAuthentication = clientAuthentication
    }

    /// TLS 1.2 suites: ECDHE with AEAD only, strongest first.
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    ].joined(separator: ":")

    /// TLS 1.3 suites (all AEAD).
    static let tls13Suites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"

    /// Key-exchange groups offered for ECDHE.
    static let groups = "X25519:P-256:P-384"
}
