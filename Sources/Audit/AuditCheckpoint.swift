import Crypto
import PortalCore

/// A signed statement that the audit chain reached `sequence` with `hash` at `timeMicroseconds`.
///
/// Checkpoints go to a file of their own beside the audit file (`<AUDIT_LOG_DESTINATION>.checkpoints`), one JSON
/// line each, so cutting records off the end of the audit file leaves a checkpoint that names a record no
/// longer there. The signature covers `story-portal audit checkpoint v1`, the sequence, the hash and the time in
/// microseconds since the Unix epoch, one per line; it is made with `AUDIT_SIGNING_KEY_FILE` (Ed25519, or ECDSA
/// P-256/P-384 as ES256/ES384).
public struct AuditCheckpoint: Sendable, Equatable {
    public let sequence: UInt64
    /// The chain hash of record `sequence`.
    public let hash: String
    public let timeMicroseconds: Int64
    /// The first 16 hex digits of the SHA-256 of the signing key's public PEM.
    public let keyID: String
    /// `Ed25519`, `ES256` or `ES384`.
    public let algorithm: String
    public let signature: [UInt8]

    /// The bytes the signature covers.
    static func message(sequence: UInt64, hash: String, timeMicroseconds: Int64) -> [UInt8] {
        Array("story-portal audit checkpoint v1\n\(sequence)\n\(hash)\n\(timeMicroseconds)".utf8)
    }

    /// The checkpoint as one JSON line, newline included.
    func line() -> [UInt8] {
        let time = RFC3339.format(unixMicroseconds: timeMicroseconds)
        let text =
            "{\"time\":\"\(time)\",\"time_us\":\(timeMicroseconds),\"sequence\":\(sequence),"
            + "\"hash\":\"\(hash)\",\"key_id\":\"\(keyID)\","
            + "\"algorithm\":\"\(algorithm)\",\"signature\":\"\(Base64URL.encode(signature))\"}\n"
        return Array(text.utf8)
    }

    /// Parses one checkpoint line (without its newline); nil when it is not one.
    init?(line: [UInt8]) {
        guard let object = try? JSONParser(maximumDepth: 2).parse(line).objectValue,
            let text = object["sequence"]?.numberValue?.text, let sequence = UInt64(text),
            let hash = object["hash"]?.stringValue, hash.utf8.count == 64,
            let timeText = object["time_us"]?.numberValue?.text, let micros = Int64(timeText),
            let keyID = object["key_id"]?.stringValue, let algorithm = object["algorithm"]?.stringValue,
            let encoded = object["signature"]?.stringValue, let signature = Base64URL.decode(encoded)
        else { return nil }
        self.init(
            sequence: sequence, hash: hash, timeMicroseconds: micros, keyID: keyID, algorithm: algorithm,
            signature: signature)
    }

    init(
        sequence: UInt64, hash: String, timeMicroseconds: Int64, keyID: String, algorithm: String, signature: [UInt8]
    ) {
        self.sequence = sequence
        self.hash = hash
        self.timeMicroseconds = timeMicroseconds
        self.keyID = keyID
        self.algorithm = algorithm
        self.signature = signature
    }

    /// Whether the signature is valid under `key` for this checkpoint's statement and algorithm.
    public func isSigned(by key: AuditCheckpointKey) -> Bool {
        guard keyID == key.keyID, algorithm == key.algorithm else { return false }
        let message = Self.message(sequence: sequence, hash: hash, timeMicroseconds: timeMicroseconds)
        switch key.publicKey.kind {
        case .ed25519: return key.publicKey.isValidEd25519Signature(signature, for: message)
        case .ec(let curve):
            let digest: DigestAlgorithm = curve == .p256 ? .sha256 : .sha384
            return key.publicKey.isValidECDSASignature(raw: signature, for: message, digest: digest)
        case .rsa: return false
        }
    }
}

/// The public half that checkpoints are verified with, and its id.
public struct AuditCheckpointKey: Sendable {
    public let publicKey: PublicKey
    public let keyID: String
    public let algorithm: String

    /// - Throws: `AuditKeyError` for an RSA key (checkpoints use Ed25519 or ECDSA only) or an unexportable key.
    public init(publicKey: PublicKey) throws(AuditKeyError) {
        switch publicKey.kind {
        case .ed25519: algorithm = "Ed25519"
        case .ec(let curve): algorithm = curve == .p256 ? "ES256" : "ES384"
        case .rsa: throw AuditKeyError(reason: "checkpoint keys are Ed25519 or ECDSA P-256/P-384, not RSA")
        }
        guard let pem = try? publicKey.pemRepresentation() else {
            throw AuditKeyError(reason: "the public key cannot be exported")
        }
        self.publicKey = publicKey
        keyID = String(Digest.hex(Digest.sha256(Array(pem.utf8))).prefix(16))
    }
}

/// Signs checkpoints with the private key of `AUDIT_SIGNING_KEY_FILE`.
public struct AuditCheckpointSigner: Sendable {
    let privateKey: PrivateKey
    /// The matching verification key.
    public let verificationKey: AuditCheckpointKey

    /// - Throws: `AuditKeyError` for an RSA key or one whose public half cannot be derived.
    public init(privateKey: PrivateKey) throws(AuditKeyError) {
        guard privateKey.kind != .rsa else {
            throw AuditKeyError(reason: "checkpoint keys are Ed25519 or ECDSA P-256/P-384, not RSA")
        }
        guard let publicKey = try? privateKey.publicKey() else {
            throw AuditKeyError(reason: "the public key cannot be derived")
        }
        self.privateKey = privateKey
        verificationKey = try AuditCheckpointKey(publicKey: publicKey)
    }

    /// A signed checkpoint for record `sequence` with chain hash `hash`, stamped `timeMicroseconds`.
    /// - Returns: nil when OpenSSL could not sign (counted by the caller as a checkpoint failure).
    func checkpoint(sequence: UInt64, hash: String, timeMicroseconds: Int64) -> AuditCheckpoint? {
        let message = AuditCheckpoint.message(sequence: sequence, hash: hash, timeMicroseconds: timeMicroseconds)
        let signature: [UInt8]?
        switch privateKey.kind {
        case .ed25519: signature = try? privateKey.ed25519Signature(for: message)
        case .ec(let curve):
            signature = try? privateKey.ecdsaSignature(for: message, digest: curve == .p256 ? .sha256 : .sha384)
        case .rsa: signature = nil
        }
        guard let signature else { return nil }
        return AuditCheckpoint(
            sequence: sequence, hash: hash, timeMicroseconds: timeMicroseconds, keyID: verificationKey.keyID,
            algorithm: verificationKey.algorithm, signature: signature)
    }
}

/// Why a checkpoint key cannot be used; names no key material.
public struct AuditKeyError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
