import COpenSSL

/// RSA signature paddings.
public enum RSAPadding: Sendable, Equatable {
    /// RSASSA-PKCS1-v1_5 (RS256/384/512).
    case pkcs1v15
    /// RSASSA-PSS with MGF1 over the same digest and a salt as long as the digest (PS256/384/512).
    case pss
}

/// A public key for signature verification, held by OpenSSL: RSA, ECDSA (P-256, P-384) or Ed25519.
///
/// Immutable and safe to share between threads. Each verification method answers `false`
/// for a key of another type, so a caller cannot trick one algorithm into another's check.
public final class PublicKey: Sendable {
    /// The kinds of public key this module builds.
    public enum Kind: Sendable, Equatable {
        case rsa
        case ec(ECCurve)
        case ed25519
    }

    /// What the key is.
    public let kind: Kind
    let key: OpenSSLKey

    init(kind: Kind, key: OpenSSLKey) {
        self.kind = kind
        self.key = key
    }

    /// The size of the key in bits: the modulus for RSA, 256/384 for EC, 253 for Ed25519.
    public var bitCount: Int { key.bitCount }

    /// An RSA key from its modulus and public exponent, both unsigned big-endian (as JWK `n` and `e`).
    /// - Throws: `CryptoError` when OpenSSL refuses the numbers.
    public static func rsa(modulus: [UInt8], exponent: [UInt8]) throws(CryptoError) -> PublicKey {
        guard !modulus.isEmpty, !exponent.isEmpty, exponent.count <= 8 else {
            throw CryptoError(.invalidKey, "RSA parameters")
        }
        let n = modulus.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(clamping: $0.count), nil) }
        let e = exponent.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(clamping: $0.count), nil) }
        defer {
            BN_free(n)
            BN_free(e)
        }
        guard let n, let e else { throw CryptoError(.openSSLFailure, "BN_bin2bn") }
        let key = try OpenSSLKey.fromData(type: "RSA", selection: OpenSSLKey.publicKeySelection) { builder, finish in
            guard OSSL_PARAM_BLD_push_BN(builder, OpenSSLKey.name("n"), n) == 1,
                OSSL_PARAM_BLD_push_BN(builder, OpenSSLKey.name("e"), e) == 1
            else { return nil }
            return finish()
        }
        return PublicKey(kind: .rsa, key: key)
    }

    /// An EC key from its affine coordinates, each exactly `curve.coordinateByteCount` bytes, big-endian.
    /// - Throws: `CryptoError` when a length is wrong or the point is not on the curve.
    public static func ec(curve: ECCurve, x: [UInt8], y: [UInt8]) throws(CryptoError) -> PublicKey {
        let size = curve.coordinateByteCount
        guard x.count == size, y.count == size else { throw CryptoError(.invalidKey, "EC coordinate length") }
        let point: [UInt8] = [0x04] + x + y
        let group = curve.groupName
        let key = try OpenSSLKey.fromData(type: "EC", selection: OpenSSLKey.publicKeySelection) { builder, finish in
            group.withCString { name in
                point.withUnsafeBytes { raw in
                    guard OSSL_PARAM_BLD_push_utf8_string(builder, OpenSSLKey.name("group"), name, 0) == 1,
                        OSSL_PARAM_BLD_push_octet_string(
                            builder, OpenSSLKey.name("pub"), raw.baseAddress, raw.count) == 1
                    else { return nil }
                    return finish()
                }
            }
        }
        guard key.checkPublic() else { throw CryptoError(.invalidKey, "EVP_PKEY_public_check") }
        return PublicKey(kind: .ec(curve), key: key)
    }

    /// An Ed25519 key from its 32 raw bytes (JWK `x` of an OKP key).
    /// - Throws: `CryptoError` when the length is wrong or OpenSSL refuses the bytes.
    public static func ed25519(_ raw: [UInt8]) throws(CryptoError) -> PublicKey {
        guard raw.count == 32 else { throw CryptoError(.invalidKey, "Ed25519 key length") }
        let pointer = raw.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let pointer else { throw CryptoError(.invalidKey, "EVP_PKEY_new_raw_public_key") }
        return PublicKey(kind: .ed25519, key: OpenSSLKey(taking: pointer))
    }

    /// A key from a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) block; RSA, P-256, P-384 or Ed25519.
    /// - Throws: `CryptoError` when the PEM does not hold such a key.
    public convenience init(pem: String) throws(CryptoError) {
        let key = try OpenSSLKey.fromPEM(pem) { PEM_read_bio_PUBKEY($0, nil, nil, nil) }
        guard let kind = Self.kind(of: key) else { throw CryptoError(.invalidKey, "unsupported key type") }
        self.init(kind: kind, key: key)
    }

    /// The key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) block.
    /// - Throws: `CryptoError` when OpenSSL cannot write it.
    public func pemRepresentation() throws(CryptoError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError(.openSSLFailure, "BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PUBKEY(bio, key.pointer) == 1 else {
            throw CryptoError(.openSSLFailure, "PEM_write_bio_PUBKEY")
        }
        let pending = Int(BIO_ctrl_pending(bio))
        var out = [UInt8](repeating: 0, count: pending)
        let read = out.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(pending)) }
        guard read == Int32(pending) else { throw CryptoError(.openSSLFailure, "BIO_read") }
        return String(decoding: out, as: UTF8.self)
    }

    static func kind(of key: OpenSSLKey) -> Kind? {
        if key.isA("RSA") { return .rsa }
        if key.isA("ED25519") { return .ed25519 }
        guard key.isA("EC") else { return nil }
        var name = [CChar](repeating: 0, count: 64)
        var length = 0
        let ok = name.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_utf8_string_param(key.pointer, "group", $0.baseAddress, $0.count, &length)
        }
        guard ok == 1 else { return nil }
        switch String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) {
        case "prime256v1", "P-256", "secp256r1": return .ec(.p256)
        case "secp384r1", "P-384": return .ec(.p384)
        default: return nil
        }
    }
}

extension PublicKey {
    /// Whether `signature` is a valid RSA signature of `message` with `digest` and `padding`.
    /// `false` for a non-RSA key.
    public func isValidRSASignature(
        _ signature: some ContiguousBytes, for message: some ContiguousBytes, digest: DigestAlgorithm,
        padding: RSAPadding
    ) -> Bool {
        guard kind == .rsa else { return false }
        return signature.withUnsafeBytes { sig in
            message.withUnsafeBytes { msg in
                key.digestVerify(sig, message: msg, digest: digest.evp) { context in
                    RSAPadding.configure(context, padding: padding, digest: digest)
                }
            }
        }
    }

    /// Whether `signature`, in the JOSE / IEEE P1363 form `r || s` (exactly twice the coordinate
    /// size: 64 bytes for P-256, 96 for P-384), is a valid ECDSA signature of `message` with `digest`.
    ///
    /// `r` or `s` equal to zero or not below the group order are refused before OpenSSL sees them.
    /// `false` for a non-EC key.
    public func isValidECDSASignature(
        raw signature: some ContiguousBytes, for message: some ContiguousBytes, digest: DigestAlgorithm
    ) -> Bool {
        guard case .ec(let curve) = kind else { return false }
        let size = curve.coordinateByteCount
        let bytes: [UInt8] = signature.withUnsafeBytes { Array($0) }
        guard bytes.count == 2 * size else { return false }
        let r = bytes[0..<size], s = bytes[size...]
        guard curve.isScalarInRange(r), curve.isScalarInRange(s), let der = ECDSADER.encode(r: r, s: s) else {
            return false
        }
        return der.withUnsafeBytes { sig in
            message.withUnsafeBytes { msg in key.digestVerify(sig, message: msg, digest: digest.evp) }
        }
    }

    /// Whether `signature` (64 bytes) is a valid Ed25519 signature of `message`. `false` for another key.
    public func isValidEd25519Signature(_ signature: some ContiguousBytes, for message: some ContiguousBytes) -> Bool {
        guard kind == .ed25519 else { return false }
        return signature.withUnsafeBytes { sig in
            guard sig.count == 64 else { return false }
            return message.withUnsafeBytes { msg in key.digestVerify(sig, message: msg, digest: nil) }
        }
    }
}

extension RSAPadding {
    /// Sets this padding on a signing or verifying context; PSS gets salt = digest length, MGF1 = digest.
    static func configure(_ context: OpaquePointer, padding: RSAPadding, digest: DigestAlgorithm) -> Bool {
        switch padding {
        case .pkcs1v15:
            return EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1
        case .pss:
            return EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) == 1
                && EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_DIGEST) == 1
                && EVP_PKEY_CTX_set_rsa_mgf1_md(context, digest.evp) == 1
        }
    }
}
