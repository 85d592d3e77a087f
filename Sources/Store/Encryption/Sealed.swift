import Crypto
import PortalCore

/// The text form of an AES-256-GCM box as the stores keep it: base64url of nonce (12 bytes) ‖ ciphertext ‖
/// tag (16 bytes).
enum Sealed {
    static let nonceByteCount = 12

    /// The box in `text`, or nil when it is not base64url or too short to hold a nonce and a tag.
    static func split(_ text: some StringProtocol) -> AESGCM.SealedBox? {
        guard let bytes = Base64URL.decode(text), bytes.count >= nonceByteCount + AESGCM.tagByteCount else {
            return nil
        }
        return AESGCM.SealedBox(
            nonce: Array(bytes.prefix(nonceByteCount)),
            ciphertext: Array(bytes.dropFirst(nonceByteCount).dropLast(AESGCM.tagByteCount)),
            tag: Array(bytes.suffix(AESGCM.tagByteCount)))
    }
}

/// How the payload and metadata of one event row are kept (the `format` column).
enum EventFormat: Int64 {
    /// JSON text as sent: rows written before encryption at rest, or by a store opened without a master key.
    case plaintext = 0
    /// A JSON string holding the sealed JSON text (AES-256-GCM v1 under the subject's data key, `key_id`).
    case sealedV1 = 1
    /// Crypto-shredded: the data key is destroyed and both columns hold JSON `null`.
    case erased = 2
}

/// Seals and opens an event's `payload` and `metadata` under a subject's data key.
///
/// The additional data binds the event id, the column and the key id, so a sealed value moved to another row,
/// swapped between `payload` and `metadata`, or relabelled with another key fails to open.
enum EventSealing {
    enum Column: String {
        case payload
        case metadata
    }

    /// `json` sealed, as the JSON string literal that the column stores (valid JSON for PostgreSQL's `json`).
    static func seal(_ json: String, eventID: String, column: Column, keyID: String, key: [UInt8]) -> String {
        do {
            let box = try AESGCM.seal(
                Array(json.utf8), key: key,
                authenticating: context(eventID: eventID, column: column, keyID: keyID))
            return "\"" + Base64URL.encode(box.nonce + box.ciphertext + box.tag) + "\""
        } catch {
            preconditionFailure("AES-256-GCM seal failed with valid inputs: \(error)")
        }
    }

    /// The JSON text sealed in `stored`.
    /// - Throws: `StoreError.undecryptable` when the value is not a sealed box, or anything it is bound to differs.
    static func open(_ stored: String, eventID: String, column: Column, keyID: String, key: [UInt8]) throws -> String {
        let utf8 = stored.utf8
        guard utf8.count >= 2, utf8.first == UInt8(ascii: "\""), utf8.last == UInt8(ascii: "\""),
            let box = Sealed.split(stored.dropFirst().dropLast())
        else { throw StoreError.undecryptable }
        let plaintext: [UInt8]
        do {
            plaintext = try AESGCM.open(
                box, key: key, authenticating: context(eventID: eventID, column: column, keyID: keyID))
        } catch {
            throw StoreError.undecryptable
        }
        return String(decoding: plaintext, as: UTF8.self)
    }

    private static func context(eventID: String, column: Column, keyID: String) -> [UInt8] {
        Array("story-portal event v1\u{0}\(eventID.lowercased())\u{0}\(column.rawValue)\u{0}\(keyID)".utf8)
    }
}
