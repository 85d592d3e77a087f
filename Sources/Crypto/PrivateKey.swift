import COpenSSL

/// A private key for signing, held by OpenSSL: RSA, ECDSA (P-256, P-384) or Ed25519.
///
/// Immutable and safe to share between threads. Its bytes never appear in descriptions or errors.
public final class PrivateKey: Sendable {
    /// What to generate.
    public enum Generation: Sendable {
        /// An RSA key with a modulus of `bits` bits (at least 2048) and exponent 65537.
        case rsa(bits: Int)
        case ec(ECCurve)
        case ed25519
    }

    /// What the key is.
    public let kind: PublicKey.Kind
    let key: OpenSSLKey

    private init(kind: PublicKey.Kind, key: OpenSSLKey) {
        self.kind = kind
        self.key = key
    }

    /// A fresh key from OpenSSL's generator.
    /// - Throws: `CryptoError` when OpenSSL cannot generate it or an RSA size is under 2048 bits.
    public static func generate(_ what: Generation) throws(CryptoError) -> PrivateKey {
        let typeName: String
        switch what {
        case .rsa(let bits):
            guard bits >= 2048, bits <= 16384 else { throw CryptoError(.invalidInput, "RSA key size") }
            typeName = "RSA"
        case .ec: typeName = "EC"
        case .ed25519: typeName = "ED25519"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, typeName, nil) else {
            throw CryptoError(.openSSLFailure, "EVP_PKEY_CTX_new_from_name")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw CryptoError(.openSSLFailure, "EVP_PKEY_keygen_init") }
        let kind: PublicKey.Kind
        switch what {
        case .rsa(let bits):
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1 else {
                throw CryptoError(.openSSLFailure, "EVP_PKEY_CTX_set_rsa_keygen_bits")
            }
            kind = .rsa
        case .ec(let curve):
            guard EVP_PKEY_CTX_set_group_name(context, curve.groupName) == 1 else {
                throw CryptoError(.openSSLFailure, "EVP_PKEY_CTX_set_group_name")
            }
            kind = .ec(curve)
        case .ed25519: kind = .ed25519
        }
        var pointer: OpaquePointer? = nil
        guard EVP_PKEY_generate(context, &pointer) == 1, let pointer else {
            throw CryptoError(.openSSLFailure, "EVP_PKEY_generate")
        }
        return PrivateKey(kind: kind, key: OpenSSLKey(taking: pointer))
    }

    /// A key from a PEM block: `PRIVATE KEY` (PKCS #8), `EC PRIVATE KEY` or `RSA PRIVATE KEY`, unencrypted.
    /// - Throws: `CryptoError` when the PEM does not hold a supported, unencrypted private key.
    public convenience init(pem: String) throws(CryptoError) {
        let key = try OpenSSLKey.fromPEM(pem) { bio in
            // An empty passphrase callback result makes encrypted PEM fail rather than prompt on a terminal.
            PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let kind = PublicKey.kind(of: key) else { throw CryptoError(.invalidKey, "unsupported key type") }
        self.init(kind: kind, key: key)
    }

    /// The key as an unencrypted PKCS #8 PEM block. Handle it as the secret it is.
    public func pemRepresentation() throws(CryptoError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError(.openSSLFailure, "BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PKCS8PrivateKey(bio, key.pointer, nil, nil, 0, nil, nil) == 1 else {
            throw CryptoError(.openSSLFailure, "PEM_write_bio_PKCS8PrivateKey")
        }
        let pending = Int(BIO_ctrl_pending(bio))
        var out = [UInt8](repeating: 0, count: pending)
        let read = out.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(pending)) }
        guard read == Int32(pending) else { throw CryptoError(.openSSLFailure, "BIO_read") }
        return String(decoding: out, as: UTF8.self)
    }

    /// The matching public key.
    public func publicKey() throws(CryptoError) -> PublicKey {
        let bio = BIO_new(BIO_s_mem())
        defer { BIO_free(bio) }
        guard let bio, PEM_write_bio_PUBKEY(bio, key.pointer) == 1 else {
            throw CryptoError(.openSSLFailure, "PEM_write_bio_PUBKEY")
        }
        guard let pointer = PEM_read_bio_PUBKEY(bio, nil, nil, nil) else {
            throw CryptoError(.openSSLFailure, "PEM_read_bio_PUBKEY")
        }
        return PublicKey(kind: kind, key: OpenSSLKey(taking: pointer))
    }

    /// An RSA signature of `message` with `digest` and `padding` (PSS: salt = digest length, MGF1 = digest).
    /// - Throws: `CryptoError` for a non-RSA key or an OpenSSL failure.
    public func rsaSignature(
        for message: some ContiguousBytes, digest: DigestAlgorithm, padding: RSAPadding
    ) throws(CryptoError) -> [UInt8] {
        guard kind == .rsa else { throw CryptoError(.wrongKeyType, "RSA signing") }
        let result: Result<[UInt8], CryptoError> = message.withUnsafeBytes { raw in
            Result { () throws(CryptoError) in
                try key.digestSign(raw, digest: digest.evp) { context in
                    RSAPadding.configure(context, padding: padding, digest: digest)
                }
            }
        }
        return try result.get()
    }

    /// An ECDSA signature of `message` with `digest`, in the JOSE raw form `r || s` (64 or 96 bytes).
    /// - Throws: `CryptoError` for a non-EC key or an OpenSSL failure.
    public func ecdsaSignature(
        for message: some ContiguousBytes, digest: DigestAlgorithm
    ) throws(CryptoError) -> [UInt8] {
        guard case .ec(let curve) = kind else { throw CryptoError(.wrongKeyType, "ECDSA signing") }
        let result: Result<[UInt8], CryptoError> = message.withUnsafeBytes { raw in
            Result { () throws(CryptoError) in try key.digestSign(raw, digest: digest.evp) }
        }
        guard let raw = ECDSADER.decode(try result.get(), size: curve.coordinateByteCount) else {
            throw CryptoError(.openSSLFailure, "d2i_ECDSA_SIG")
        }
        return raw
    }

    /// An Ed25519 signature (64 bytes) of `message`.
    /// - Throws: `CryptoError` for a non-Ed25519 key or an OpenSSL failure.
    public func ed25519Signature(for message: some ContiguousBytes) throws(CryptoError) -> [UInt8] {
        guard kind == .ed25519 else { throw CryptoError(.wrongKeyType, "Ed25519 signing") }
        let result: Result<[UInt8], CryptoError> = message.withUnsafeBytes { raw in
            Result { () throws(CryptoError) in try key.digestSign(raw, digest: nil) }
        }
        return try result.get()
    }
}
