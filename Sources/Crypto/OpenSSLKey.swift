import COpenSSL

/// Owns one `EVP_PKEY`, freed with the object.
///
/// `@unchecked Sendable`: the key is never modified after construction, and OpenSSL 3 allows
/// concurrent signing and verification with one `EVP_PKEY` from many threads (each operation
/// uses its own `EVP_MD_CTX`; the provider-side caches lock internally).
final class OpenSSLKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    /// `EVP_PKEY_PUBLIC_KEY`, a compound macro Swift does not import: the key parameters plus the public key.
    static let publicKeySelection = Int32(
        OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS | OSSL_KEYMGMT_SELECT_OTHER_PARAMETERS | OSSL_KEYMGMT_SELECT_PUBLIC_KEY)

    deinit { EVP_PKEY_free(pointer) }

    /// The key's size in bits (the modulus for RSA, the field for EC).
    var bitCount: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// Whether the key is of the named type, e.g. `RSA`, `EC`, `ED25519`.
    func isA(_ name: String) -> Bool { EVP_PKEY_is_a(pointer, name) == 1 }

    typealias Params = UnsafeMutablePointer<OSSL_PARAM>

    /// A C string that lives for the whole process, for parameter names the builder keeps pointers to.
    static func name(_ literal: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(literal.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    /// Builds a key of `type` (`RSA`, `EC`, `ED25519`) from parameters, as `selection` says.
    ///
    /// `push` fills the builder. The builder keeps pointers to pushed strings and numbers until
    /// `OSSL_PARAM_BLD_to_param`, so `push` must call `finish` while its buffers are still alive.
    static func fromData(
        type: String, selection: Int32,
        push: (_ builder: OpaquePointer, _ finish: () -> Params?) -> Params?
    ) throws(CryptoError) -> OpenSSLKey {
        guard let builder = OSSL_PARAM_BLD_new() else { throw CryptoError(.openSSLFailure, "OSSL_PARAM_BLD_new") }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard let params = push(builder, { OSSL_PARAM_BLD_to_param(builder) }) else {
            throw CryptoError(.invalidKey, "OSSL_PARAM_BLD_push")
        }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            throw CryptoError(.openSSLFailure, "EVP_PKEY_CTX_new_from_name")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(context) == 1, EVP_PKEY_fromdata(context, &key, selection, params) == 1,
            let key
        else { throw CryptoError(.invalidKey, "EVP_PKEY_fromdata") }
        return OpenSSLKey(taking: key)
    }

    /// Runs OpenSSL's public-key check (for EC: the point is on the curve and not at infinity).
    func checkPublic() -> Bool {
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pointer, nil) else { return false }
        defer { EVP_PKEY_CTX_free(context) }
        return EVP_PKEY_public_check(context) == 1
    }

    /// Reads a PEM key with `read` from an in-memory BIO.
    static func fromPEM(
        _ pem: String, read: (OpaquePointer) -> OpaquePointer?
    ) throws(CryptoError) -> OpenSSLKey {
        let bytes = Array(pem.utf8)
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(clamping: raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
        guard let key else { throw CryptoError(.invalidKey, "PEM_read_bio") }
        return OpenSSLKey(taking: key)
    }

    /// Verifies `signature` over `message` with EVP_DigestVerify; `configure` sets padding on the context.
    func digestVerify(
        _ signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, digest: OpaquePointer?,
        configure: (OpaquePointer) -> Bool = { _ in true }
    ) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(context, &keyContext, digest, nil, pointer) == 1, let keyContext,
            configure(keyContext)
        else {
            ERR_clear_error()
            return false
        }
        let placeholder: [UInt8] = [0]
        let result = placeholder.withUnsafeBufferPointer { empty in
            EVP_DigestVerify(
                context, signature.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? empty.baseAddress,
                signature.count, message.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? empty.baseAddress,
                message.count)
        }
        if result != 1 { ERR_clear_error() }
        return result == 1
    }

    /// Signs `message` with EVP_DigestSign; `configure` sets padding on the context.
    func digestSign(
        _ message: UnsafeRawBufferPointer, digest: OpaquePointer?,
        configure: (OpaquePointer) -> Bool = { _ in true }
    ) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw CryptoError(.openSSLFailure, "EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestSignInit(context, &keyContext, digest, nil, pointer) == 1, let keyContext,
            configure(keyContext)
        else { throw CryptoError(.wrongKeyType, "EVP_DigestSignInit") }
        let placeholder: [UInt8] = [0]
        let messagePointer = message.baseAddress?.assumingMemoryBound(to: UInt8.self)
        return try placeholder.withUnsafeBufferPointer { empty throws(CryptoError) -> [UInt8] in
            let input = messagePointer ?? empty.baseAddress
            var length = 0
            guard EVP_DigestSign(context, nil, &length, input, message.count) == 1 else {
                throw CryptoError(.openSSLFailure, "EVP_DigestSign")
            }
            var out = [UInt8](repeating: 0, count: length)
            let ok = out.withUnsafeMutableBufferPointer { buffer in
                EVP_DigestSign(context, buffer.baseAddress, &length, input, message.count)
            }
            guard ok == 1 else { throw CryptoError(.openSSLFailure, "EVP_DigestSign") }
            return Array(out.prefix(length))
        }
    }
}
