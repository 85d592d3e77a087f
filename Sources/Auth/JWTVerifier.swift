import Crypto
import PortalCore

/// Verifies compact JWS tokens (RFC 7515/7519) against a fixed set of keys; immutable and `Sendable`.
///
/// Every key is pinned to one algorithm. The token's `alg` and `kid` only *select* among keys whose
/// pinned algorithm equals `alg`; they never choose how a key is used. `none` (in any case) is never
/// accepted; `jku`, `x5u`, `jwk`, `x5c` and `x5t` headers are refused, never fetched; any `crit` is refused,
/// since no extension is understood, and so are `enc`, `zip` and `b64`. Tokens over `maximumTokenBytes` are
/// refused before any parsing.
public struct JWTVerifier: Sendable {
    /// What the verifier checks besides the signature.
    public struct Configuration: Sendable {
        /// When set, `iss` is required and must equal it.
        public var issuer: String?
        /// When set, `aud` is required and must equal it or, as an array, contain it.
        public var audience: String?
        /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds; 60 by default, 0...3600.
        public var leewaySeconds: Int64
        /// Longest token accepted, in bytes; 16 KiB by default.
        public var maximumTokenBytes: Int

        /// - Parameters:
        ///   - issuer: required `iss`, or `nil` not to check it.
        ///   - audience: required `aud` entry, or `nil` not to check it.
        ///   - leewaySeconds: allowed clock skew in seconds (default 60).
        ///   - maximumTokenBytes: longest token in bytes (default 16,384).
        public init(
            issuer: String? = nil, audience: String? = nil, leewaySeconds: Int64 = 60, maximumTokenBytes: Int = 16_384
        ) {
            precondition((0...3600).contains(leewaySeconds), "leewaySeconds must be 0...3600")
            precondition(maximumTokenBytes > 0, "maximumTokenBytes must be positive")
            self.issuer = issuer
            self.audience = audience
            self.leewaySeconds = leewaySeconds
            self.maximumTokenBytes = maximumTokenBytes
        }
    }

    /// The keys, in the order given; the first that verifies wins.
    public let keys: [Key]
    /// The claim checks.
    public let configuration: Configuration
    let clock: any PortalClock

    /// - Parameters:
    ///   - keys: verification keys, each pinned to one algorithm.
    ///   - configuration: issuer, audience, leeway and size limit.
    ///   - clock: the time source for `exp`, `nbf` and `iat`.
    public init(keys: [Key], configuration: Configuration = Configuration(), clock: any PortalClock = SystemClock()) {
        self.keys = keys
        self.configuration = configuration
        self.clock = clock
    }

    /// Verifies a compact JWS token and its claims.
    /// - Throws: `JWTError` saying why it was refused.
    public func verify(_ token: String) throws(JWTError) -> VerifiedToken {
        guard token.utf8.count <= configuration.maximumTokenBytes else { throw JWTError(.tooLarge) }
        return try verify(bytes: Array(token.utf8))
    }

    /// Verifies a compact JWS token given as its ASCII bytes, e.g. straight from an `Authorization` header.
    /// - Throws: `JWTError` saying why it was refused.
    public func verify(bytes token: [UInt8]) throws(JWTError) -> VerifiedToken {
        guard token.count <= configuration.maximumTokenBytes else { throw JWTError(.tooLarge) }
        // Exactly three segments: header, payload, signature.
        var dots: [Int] = []
        for index in token.indices where token[index] == UInt8(ascii: ".") {
            dots.append(index)
            if dots.count > 2 { throw JWTError(.malformed, "segments") }
        }
        guard dots.count == 2 else { throw JWTError(.malformed, "segments") }
        let header = try parseObject(token[..<dots[0]], "header")
        let algorithm = try checkHeader(header)
        let keyID = try optionalString(header, "kid", missing: .malformed)

        // The signature is checked before the payload is even parsed.
        let signingInput = token[..<dots[1]]
        guard let signature = Base64URL.decode(Array(token[(dots[1] + 1)...])) else {
            throw JWTError(.malformed, "signature encoding")
        }
        let key = try selectAndVerify(algorithm: algorithm, keyID: keyID, input: signingInput, signature: signature)
        let claims = try parseObject(token[(dots[0] + 1)..<dots[1]], "payload")
        return try checkClaims(claims, algorithm: key.algorithm, keyID: keyID)
    }

    private func parseObject(_ segment: ArraySlice<UInt8>, _ name: StaticString) throws(JWTError) -> JSONObject {
        guard let decoded = Base64URL.decode(Array(segment)) else { throw JWTError(.malformed, name) }
        guard let value = try? JSONParser().parse(decoded), let object = value.objectValue else {
            throw JWTError(.malformed, name)
        }
        return object
    }

    /// The header's algorithm, after refusing `none`, unknown algorithms and dangerous members.
    private func checkHeader(_ header: JSONObject) throws(JWTError) -> JWTAlgorithm {
        guard let name = header["alg"]?.stringValue else { throw JWTError(.malformed, "alg") }
        guard let algorithm = JWTAlgorithm(rawValue: name) else { throw JWTError(.algorithmNotAllowed) }
        for member in ["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256"] where header[member] != nil {
            throw JWTError(.forbiddenHeader, "key reference")
        }
        // Encryption (JWE), compression and unencoded payloads (RFC 7797) change what the signature covers.
        for member in ["enc", "zip", "b64"] where header[member] != nil {
            throw JWTError(.forbiddenHeader, "unsupported")
        }
        // No extension is understood, so any critical one is unknown (RFC 7515 §4.1.11).
        if header["crit"] != nil { throw JWTError(.forbiddenHeader, "crit") }
        return algorithm
    }

    private func selectAndVerify(
        algorithm: JWTAlgorithm, keyID: String?, input: ArraySlice<UInt8>, signature: [UInt8]
    ) throws(JWTError) -> Key {
        let named = keyID.map { kid in keys.filter { $0.keyID == kid } } ?? keys
        guard !named.isEmpty else { throw JWTError(.unknownKey) }
        let candidates = named.filter { $0.algorithm == algorithm }
        guard !candidates.isEmpty else { throw JWTError(.algorithmNotAllowed) }
        for key in candidates where key.verifies(signature, over: input) { return key }
        throw JWTError(.badSignature)
    }
}
