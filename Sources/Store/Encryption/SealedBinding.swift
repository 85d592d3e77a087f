/// What a sealed payload or metadata value is bound to: the AES-GCM additional data, one form per sealed format.
///
/// A value opens only under the additional data it was sealed with, so everything in it is as good as sealed
/// too: a write to any of those columns makes the row fail to open instead of reading as something else.
enum SealedBinding: Equatable {
    /// Format 1: the event id, the column and the key id. Rows written before format 3 keep reading with it.
    case v1(eventID: String, keyID: String)
    /// Format 3: those and every other column a reader acts on (see `SealedRowFields`).
    case v2(SealedRowFields)

    /// The additional data for `column`.
    ///
    /// v1: `story-portal event v1 \0 <event id> \0 <column> \0 <key id>`, byte for byte as earlier versions
    /// wrote it.
    ///
    /// v2: the label `story-portal event v2` followed by eight fields, each as its UTF-8 byte count (8 bytes, big
    /// endian) and then its bytes: the event id (lower case), the column, the key id, `event_type`,
    /// `aggregate_type`, `aggregate_id`, the version and `created_at` in microseconds (both in decimal, as
    /// `String(_:)` writes an `Int64`: one spelling per number). A store accepts any text in the three names
    /// (the data layer's validator is stricter, but other callers append too, and SQLite keeps `\0` in text),
    /// so a separator could be forged from inside a field; a length prefix cannot. The encoding is injective:
    /// the label is fixed, the field count is fixed, and each length says exactly where its field ends, so one
    /// byte string parses back to one tuple of fields. It cannot equal a v1 string either: the labels differ.
    func additionalData(_ column: EventSealing.Column) -> [UInt8] {
        switch self {
        case .v1(let eventID, let keyID):
            return Array("story-portal event v1\u{0}\(eventID.lowercased())\u{0}\(column.rawValue)\u{0}\(keyID)".utf8)
        case .v2(let row):
            var out = Array("story-portal event v2".utf8)
            let fields = [
                row.eventID.lowercased(), column.rawValue, row.keyID, row.eventType, row.aggregateType,
                row.aggregateID, String(row.version), String(row.createdAtMicroseconds),
            ]
            for field in fields {
                let bytes = Array(field.utf8)
                withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { out += $0 }
                out += bytes
            }
            return out
        }
    }
}

/// The columns of an event row that a format 3 seal binds, besides the name of the sealed column itself.
///
/// A reader acts on each of them: `aggregate_id` names the subject that erasure finds the row by, `created_at`
/// decides retention, and the others say what the payload means and where it stands in its aggregate.
struct SealedRowFields: Equatable {
    var eventID: String
    var keyID: String
    var eventType: String
    var aggregateType: String
    var aggregateID: String
    var version: Int64
    var createdAtMicroseconds: Int64
}
