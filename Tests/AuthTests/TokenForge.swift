import Auth
import Crypto
import PortalCore

/// Builds tokens with arbitrary headers and payloads, for hostile tests.
enum TokenForge {
    static let secret = Array("an-hs256-test-secret-of-32-bytes-or-more!".utf8)

    static func hs256(header: String, payload: String, secret: [UInt8] = secret) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let mac = HMAC.authenticationCode(for: Array(input.utf8), key: secret, using: .sha256)
        return input + "." + Base64URL.encode(mac)
    }

    static func hs256(payload: String) -> String {
        hs256(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: payload)
    }
}
