import COpenSSL

/// SHA-1, for identifiers that a protocol fixes and nothing else: Redis names a loaded script by the SHA-1
/// of its text (`EVALSHA`). SHA-1 is broken for collision resistance; never use it for integrity,
/// signatures, passwords or keys.
public enum InsecureSHA1 {
    /// The lower-case hex SHA-1 of `bytes` (40 characters).
    public static func hexForIdentifier(_ bytes: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha1(), nil)
            }
        }
        precondition(ok == 1 && length == 20, "EVP_Digest failed on SHA-1")
        return Digest.hex(out)
    }
}
