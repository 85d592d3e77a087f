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

    /// The digest's implementation, fetched from OpenSSL's default provider once per process.
    ///
    /// The legacy `EVP_sha256()` objects make OpenSSL 3 fetch the implementation again (a lock and a name
    /// lookup) on every use; an explicitly fetched `EVP_MD` is used as it is.
    var evp: OpaquePointer {
        switch self {
        case .sha256: FetchedDigest.sha256.md
        case .sha384: FetchedDigest.sha384.md
        case .sha512: FetchedDigest.sha512.md
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

/// An `EVP_MD` fetched once and kept for the life of the process.
///
/// `@unchecked Sendable`: a fetched `EVP_MD` is immutable and OpenSSL 3 allows one object to be used by any
/// number of threads at once (openssl-threads(7)); it is never freed, so it cannot dangle. The static lets
/// are initialised once, thread-safely, by Swift's lazy global initialisation.
struct FetchedDigest: @unchecked Sendable {
    let md: OpaquePointer

    static let sha256 = FetchedDigest(name: "SHA256", legacy: EVP_sha256())
    static let sha384 = FetchedDigest(name: "SHA384", legacy: EVP_sha384())
    static let sha512 = FetchedDigest(name: "SHA512", legacy: EVP_sha512())

    /// Fetches `name` from the default library context; if that fails, keeps the legacy object, which
    /// still works (it fetches per use).
    private init(name: String, legacy: OpaquePointer) {
        md = EVP_MD_fetch(nil, name, nil) ?? legacy
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
        hex(Array(bytes))
    }

    /// Lower-case hexadecimal of `bytes`; the concrete overload that digests and random bytes take.
    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { input in
            String(unsafeUninitializedCapacity: input.count * 2) { output in
                hexDigits.withUnsafeBufferPointer { digits in
                    for (index, byte) in input.enumerated() {
                        output[2 * index] = digits[Int(byte >> 4)]
                        output[2 * index + 1] = digits[Int(byte & 0xF)]
                    }
                }
                return input.count * 2
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
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
