/// The shapes of a client-chosen `X-Request-ID` that may be kept (echoed, forwarded, audited).
///
/// Only shapes too small to hold a credential are kept: a UUID (8-4-4-4-12 hex digits), 32 hex digits, a ULID
/// (26 Crockford base-32 characters), or a short id of 1 to 24 `A-Z a-z 0-9 . _ -`. Each carries at most
/// 130 bits, less than the 256 of a key's or refresh token's secret or an HS256 signature, and none may start
/// like a key, refresh token or JWT in any case. Anything else is replaced by a generated id, so a secret
/// pasted into the wrong header is never written down.
public enum ClientRequestID {
    /// The longest free-form id kept: 24 characters, 144 bits at most of base64url.
    public static let maxShortLength = 24

    /// Whether `id` has a shape that may be kept.
    public static func isSafe(_ id: String) -> Bool {
        let bytes = id.utf8
        if bytes.count == 36 { return isUUID(bytes) }
        if bytes.count == 32 { return bytes.allSatisfy(isHex) }
        if bytes.count == 26, isULID(bytes) { return true }
        guard (1...maxShortLength).contains(bytes.count), bytes.allSatisfy(isIDByte) else { return false }
        return !startsLikeCredential(bytes)
    }

    private static func isUUID(_ bytes: String.UTF8View) -> Bool {
        for (index, b) in bytes.enumerated() {
            let dash = index == 8 || index == 13 || index == 18 || index == 23
            guard dash ? b == UInt8(ascii: "-") : isHex(b) else { return false }
        }
        return true
    }

    /// Crockford base 32 (no I, L, O, U), the first character 0–7 (a 128-bit value).
    private static func isULID(_ bytes: String.UTF8View) -> Bool {
        guard let first = bytes.first, first >= 0x30, first <= 0x37 else { return false }
        return bytes.allSatisfy { b in
            let upper = b >= 0x61 && b <= 0x7A ? b - 0x20 : b
            switch upper {
            case 0x30...0x39: return true
            case 0x41...0x5A: return upper != 0x49 && upper != 0x4C && upper != 0x4F && upper != 0x55
            default: return false
            }
        }
    }

    /// `spk_`, `srt_` (either case) or `eyJ`: a key, a refresh token, a JWT.
    private static func startsLikeCredential(_ bytes: String.UTF8View) -> Bool {
        let head = Array(bytes.prefix(4)).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        return head.starts(with: Array("spk_".utf8)) || head.starts(with: Array("srt_".utf8))
            || bytes.starts(with: "eyJ".utf8)
    }

    private static func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
    }

    private static func isIDByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
    }
}
