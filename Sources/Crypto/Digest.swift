import COpenSSL

/// Hash functions, computed by OpenSSL's EVP interface.
public enum DigestAlgorithm: Sendable {
    case sha256
    case sha384
    case sha512

    /// The OpenSSL name of the digest, as `EVP_MD_fetch` and `EVP_MAC` expect it.
    var openSSLName: String {
        switch self {
        case .sha256: "SHA256"
        case .sha384: "SHA384"
        case .sha512: "SHA512"
        }
    }

    var evp: OpaquePointer {
        switch self {
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }

    /// The digest's output length in bytes.
    public var byteCount: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }
}

/// One-shot message digests.
public enum Digest {
    /// The digest of `bytes` under `algorithm`.
    public static func hash(_ bytes: some ContiguousBytes, using algorithm: DigestAlgorithm = .sha256) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: algorithm.byteCount)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                EVP_Digest(
                    input.baseAddress, input.count, output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    &length, algorithm.evp, nil)
            }
        }
        precondition(ok == 1 && Int(length) == algorithm.byteCount, "EVP_Digest failed on a built-in digest")
        return out
    }

    /// The SHA-256 digest of `bytes`.
    public static func sha256(_ bytes: some ContiguousBytes) -> [UInt8] { hash(bytes, using: .sha256) }

    /// Lower-case hexadecimal of `bytes`.
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Bytes that can be viewed contiguously; `[UInt8]`, `ArraySlice<UInt8>` and UTF-8 views of strings.
public protocol ContiguousBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}
extension String.UTF8View: ContiguousBytes {
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var s = String(self)
        return try s.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
