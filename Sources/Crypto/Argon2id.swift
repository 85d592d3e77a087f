import CArgon2

/// Argon2id password hashing (RFC 9106) through the reference library (`libargon2`).
///
/// Hashing is deliberately slow and memory-hard: with `Parameters.owasp` one hash takes about 19 MiB and tens
/// of milliseconds. Never call it on an event loop.
public enum Argon2id {
    /// Cost parameters, written into every PHC string so that old hashes keep verifying after a change.
    public struct Parameters: Sendable, Equatable {
        /// Memory in KiB.
        public var memoryKiB: UInt32
        /// Passes over the memory.
        public var iterations: UInt32
        /// Lanes.
        public var parallelism: UInt32

        public init(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32) {
            self.memoryKiB = memoryKiB
            self.iterations = iterations
            self.parallelism = parallelism
        }

        /// OWASP's Password Storage Cheat Sheet minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
        public static let owasp = Parameters(memoryKiB: 19_456, iterations: 2, parallelism: 1)

        /// Whether libargon2 accepts these costs (and they are not absurd for a server): 8 KiB per lane to
        /// 4 GiB, 1 to 64 iterations, 1 to 16 lanes.
        public var isAcceptable: Bool {
            (1...16).contains(parallelism) && (1...64).contains(iterations)
                && memoryKiB >= 8 * parallelism && memoryKiB <= 4 * 1024 * 1024
        }
    }

    /// The raw argon2id (version 0x13) hash of `password` with `salt`.
    /// - Parameters:
    ///   - length: output bytes, 16 to 64; default 32.
    /// - Throws: `CryptoError` for unacceptable parameters, a salt under 8 bytes, or a library failure.
    public static func hash(
        password: some ContiguousBytes, salt: [UInt8], parameters: Parameters, length: Int = 32
    ) throws(CryptoError) -> [UInt8] {
        guard parameters.isAcceptable, salt.count >= 8, (16...64).contains(length) else {
            throw CryptoError(.invalidInput, "argon2id parameters")
        }
        var out = [UInt8](repeating: 0, count: length)
        let placeholder: [UInt8] = [0]
        let rc = password.withUnsafeBytes { pwd in
            placeholder.withUnsafeBytes { empty in
                salt.withUnsafeBytes { s in
                    out.withUnsafeMutableBytes { o in
                        argon2id_hash_raw(
                            parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                            pwd.baseAddress ?? empty.baseAddress, pwd.count, s.baseAddress, s.count,
                            o.baseAddress, o.count)
                    }
                }
            }
        }
        guard rc == Int32(ARGON2_OK.rawValue) else { throw CryptoError(.libraryFailure, "argon2id_hash_raw") }
        return out
    }
}
