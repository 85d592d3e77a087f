import COpenSSL

/// The elliptic curves that ECDSA keys may use.
public enum ECCurve: Sendable, Equatable {
    /// NIST P-256 (secp256r1), used by ES256.
    case p256
    /// NIST P-384 (secp384r1), used by ES384.
    case p384

    /// Bytes in one coordinate, and in each of `r` and `s`: 32 or 48.
    public var coordinateByteCount: Int {
        switch self {
        case .p256: 32
        case .p384: 48
        }
    }

    /// The name OpenSSL's providers know the group by.
    var groupName: String {
        switch self {
        case .p256: "P-256"
        case .p384: "P-384"
        }
    }

    /// The digest JOSE pairs with the curve.
    var digest: DigestAlgorithm {
        switch self {
        case .p256: .sha256
        case .p384: .sha384
        }
    }

    /// The group order n, big-endian, `coordinateByteCount` long; read once from OpenSSL.
    var order: [UInt8] {
        switch self {
        case .p256: Self.p256Order
        case .p384: Self.p384Order
        }
    }

    private static let p256Order = readOrder(nid: NID_X9_62_prime256v1, byteCount: 32)
    private static let p384Order = readOrder(nid: NID_secp384r1, byteCount: 48)

    private static func readOrder(nid: Int32, byteCount: Int) -> [UInt8] {
        guard let group = EC_GROUP_new_by_curve_name(nid) else {
            preconditionFailure("OpenSSL lacks a built-in NIST curve")
        }
        defer { EC_GROUP_free(group) }
        var out = [UInt8](repeating: 0, count: byteCount)
        let written = out.withUnsafeMutableBufferPointer { buffer in
            BN_bn2binpad(EC_GROUP_get0_order(group), buffer.baseAddress, Int32(byteCount))
        }
        precondition(written == Int32(byteCount), "curve order does not fit its coordinate size")
        return out
    }

    /// Whether the big-endian integer `value` (exactly `coordinateByteCount` bytes) lies in [1, n-1].
    func isScalarInRange(_ value: ArraySlice<UInt8>) -> Bool {
        guard value.count == coordinateByteCount, value.contains(where: { $0 != 0 }) else { return false }
        // Lexicographic order of equal-length big-endian bytes is numeric order.
        return value.lexicographicallyPrecedes(order)
    }
}
