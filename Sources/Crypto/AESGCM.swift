import COpenSSL

/// AES-GCM authenticated encryption through OpenSSL's EVP cipher interface.
///
/// Keys of 16, 24 or 32 bytes select AES-128, -192 or -256; new code should use 32.
/// Tags are 16 bytes. Nonces may be 1 to 128 bytes (OpenSSL 3's provider limit; longer ones are
/// refused with `invalid_input`, as Wycheproof allows); `seal` picks a random 12-byte nonce
/// unless given one. Never reuse a nonce with one key.
public enum AESGCM {
    /// A sealed message: the nonce it was sealed with, the ciphertext, and the 16-byte tag.
    public struct SealedBox: Sendable, Equatable {
        public let nonce: [UInt8]
        public let ciphertext: [UInt8]
        public let tag: [UInt8]

        public init(nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8]) {
            self.nonce = nonce
            self.ciphertext = ciphertext
            self.tag = tag
        }
    }

    /// The tag length in bytes.
    public static let tagByteCount = 16

    /// The nonce lengths accepted, in bytes.
    public static let nonceByteCounts = 1...128

    /// Encrypts `plaintext` and authenticates it with `additionalData`.
    /// - Parameters:
    ///   - nonce: unique per key; a random 12 bytes when `nil`.
    /// - Throws: `CryptoError` for a bad key or nonce length.
    public static func seal(
        _ plaintext: [UInt8], key: [UInt8], nonce: [UInt8]? = nil, authenticating additionalData: [UInt8] = []
    ) throws(CryptoError) -> SealedBox {
        let nonce = nonce ?? SecureRandom.bytes(count: 12)
        let context = try makeContext(key: key, nonce: nonce, encrypt: true)
        defer { EVP_CIPHER_CTX_free(context) }
        try update(context, aad: additionalData)
        var ciphertext = try update(context, input: plaintext)
        var final = [UInt8](repeating: 0, count: 16)
        var length: Int32 = 0
        guard final.withUnsafeMutableBufferPointer({ EVP_EncryptFinal_ex(context, $0.baseAddress, &length) }) == 1
        else { throw CryptoError(.openSSLFailure, "EVP_EncryptFinal_ex") }
        ciphertext += final.prefix(Int(length))
        var tag = [UInt8](repeating: 0, count: tagByteCount)
        let ok = tag.withUnsafeMutableBytes {
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(tagByteCount), $0.baseAddress)
        }
        guard ok == 1 else { throw CryptoError(.openSSLFailure, "EVP_CTRL_AEAD_GET_TAG") }
        return SealedBox(nonce: nonce, ciphertext: ciphertext, tag: tag)
    }

    /// Decrypts `box` after checking its tag over the ciphertext and `additionalData`.
    /// - Throws: `CryptoError` with reason `authentication_failed` when anything was altered,
    ///   or `invalid_input` / `invalid_key` for bad lengths. No plaintext is released on failure.
    public static func open(
        _ box: SealedBox, key: [UInt8], authenticating additionalData: [UInt8] = []
    ) throws(CryptoError) -> [UInt8] {
        guard box.tag.count == tagByteCount else { throw CryptoError(.invalidInput, "GCM tag length") }
        let context = try makeContext(key: key, nonce: box.nonce, encrypt: false)
        defer { EVP_CIPHER_CTX_free(context) }
        try update(context, aad: additionalData)
        var plaintext = try update(context, input: box.ciphertext)
        var tag = box.tag
        let setTag = tag.withUnsafeMutableBytes {
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(tagByteCount), $0.baseAddress)
        }
        guard setTag == 1 else { throw CryptoError(.openSSLFailure, "EVP_CTRL_AEAD_SET_TAG") }
        var final = [UInt8](repeating: 0, count: 16)
        var length: Int32 = 0
        guard final.withUnsafeMutableBufferPointer({ EVP_DecryptFinal_ex(context, $0.baseAddress, &length) }) == 1
        else {
            // Wipe what was decrypted before the tag was known to be wrong.
            for index in plaintext.indices { plaintext[index] = 0 }
            throw CryptoError(.authenticationFailed, "EVP_DecryptFinal_ex")
        }
        return plaintext + final.prefix(Int(length))
    }

    private static func makeContext(
        key: [UInt8], nonce: [UInt8], encrypt: Bool
    ) throws(CryptoError) -> OpaquePointer {
        let cipher: OpaquePointer?
        switch key.count {
        case 16: cipher = EVP_aes_128_gcm()
        case 24: cipher = EVP_aes_192_gcm()
        case 32: cipher = EVP_aes_256_gcm()
        default: throw CryptoError(.invalidKey, "AES key length")
        }
        guard nonceByteCounts.contains(nonce.count) else { throw CryptoError(.invalidInput, "GCM nonce length") }
        guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError(.openSSLFailure, "EVP_CIPHER_CTX_new") }
        let initialise = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        let ok =
            initialise(context, cipher, nil, nil, nil) == 1
            && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_IVLEN, Int32(nonce.count), nil) == 1
            && key.withUnsafeBufferPointer { k in
                nonce.withUnsafeBufferPointer { n in initialise(context, nil, nil, k.baseAddress, n.baseAddress) == 1 }
            }
        guard ok else {
            EVP_CIPHER_CTX_free(context)
            throw CryptoError(.openSSLFailure, "EVP_CipherInit_ex")
        }
        return context
    }

    private static func update(_ context: OpaquePointer, aad: [UInt8]) throws(CryptoError) {
        guard !aad.isEmpty else { return }
        var length: Int32 = 0
        let ok = aad.withUnsafeBufferPointer {
            EVP_CipherUpdate(context, nil, &length, $0.baseAddress, Int32(clamping: $0.count))
        }
        guard ok == 1 else { throw CryptoError(.openSSLFailure, "EVP_CipherUpdate") }
    }

    private static func update(_ context: OpaquePointer, input: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard !input.isEmpty else { return [] }
        guard input.count < Int(Int32.max) - 16 else { throw CryptoError(.invalidInput, "GCM input length") }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var length: Int32 = 0
        let ok = input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                EVP_CipherUpdate(context, o.baseAddress, &length, i.baseAddress, Int32(i.count))
            }
        }
        guard ok == 1 else { throw CryptoError(.openSSLFailure, "EVP_CipherUpdate") }
        return Array(out.prefix(Int(length)))
    }
}
