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
    /// A JSON string holding the sealed JSON text (AES-256-GCM under the subject's data key, `key_id`), bound to
    /// the event id, the column and the key id (`SealedBinding.v1`). Written by earlier versions; still read.
    case sealedV1 = 1
    /// Crypto-shredded: the data key is destroyed and both columns hold JSON `null`.
    case erased = 2
    /// As `sealedV1`, and bound to every column a reader acts on as well (`SealedBinding.v2`): what appends
    /// write when encryption is on.
    case sealedV2 = 3

    /// Whether the payload and metadata columns hold sealed values, opened with the subject's data key.
    var isSealed: Bool { self == .sealedV1 || self == .sealedV2 }
}

/// Seals and opens an event's `payload` and `metadata` under a subject's data key.
///
/// The additional data (`SealedBinding`) names the column, so a value swapped between `payload` and `metadata`
/// fails to open, and binds the row's other columns, so a value moved to another row or a row whose bound
/// columns were changed fails to open too.
enum EventSealing {
    enum Column: String {
        case payload
        case metadata
    }

    /// `json` sealed, as the JSON string literal that the column stores (valid JSON for PostgreSQL's `json`).
    static func seal(_ json: String, column: Column, binding: SealedBinding, key: [UInt8]) -> String {
        do {
            let box = try AESGCM.seal(Array(json.utf8), key: key, authenticating: binding.additionalData(column))
            return "\"" + Base64URL.encode(box.nonce + box.ciphertext + box.tag) + "\""
        } catch {
            preconditionFailure("AES-256-GCM seal failed with valid inputs: \(error)")
        }
    }

    /// The JSON text sealed in `stored`.
    /// - Throws: `StoreError.undecryptable` when the value is not a sealed box, or anything it is bound to differs.
    static func open(_ stored: String, column: Column, binding: SealedBinding, key: [UInt8]) throws -> String {
        let utf8 = stored.utf8
        guard utf8.count >= 2, utf8.first == UInt8(ascii: "\""), utf8.last == UInt8(ascii: "\""),
            let box = Sealed.split(stored.dropFirst().dropLast())
        else { throw StoreError.undecryptable }
        let plaintext: [UInt8]
        do {
            plaintext = try AESGCM.open(box, key: key, authenticating: binding.additionalData(column))
        } catch {
            throw StoreError.undecryptable
        }
        return String(decoding: plaintext, as: UTF8.self)
    }
}
