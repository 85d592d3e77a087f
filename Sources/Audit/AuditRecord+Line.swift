import Crypto
import PortalCore

extension AuditRecord {
    /// The record as one JSON object, all fields in a fixed order, ending with `"prev_hash"`
    /// and without `"hash"`: the bytes that `hash` is computed over.
    ///
    /// Written field by field straight into one buffer: literals are appended from static storage and
    /// values that need no escaping are copied as they are, so a record costs one allocation for the line.
    func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        Self.appendLiteral("{\"time\":\"", to: &out)
        out.append(contentsOf: RFC3339.format(unixMicroseconds: timeMicroseconds).utf8)
        Self.appendLiteral("\",\"sequence\":", to: &out)
        out.append(contentsOf: String(sequence).utf8)
        Self.appendLiteral(",\"type\":", to: &out)
        Self.append(type.rawValue, to: &out)
        Self.appendLiteral(",\"outcome\":", to: &out)
        Self.append(outcome.rawValue, to: &out)
        Self.append(",\"request_id\":", requestID, to: &out)
        Self.append(",\"client_address\":", clientAddress, to: &out)
        Self.append(",\"subject\":", subject, to: &out)
        Self.append(",\"route\":", route, to: &out)
        Self.append(",\"reason\":", reason, to: &out)
        Self.append(",\"token_fingerprint\":", tokenFingerprint, to: &out)
        Self.appendLiteral(",\"prev_hash\":", to: &out)
        Self.append(prevHash, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Sets `hash` (HMAC-SHA256 of the canonical bytes under `key`) and returns the full line, newline included.
    mutating func sealLine(key: HMACKey) -> [UInt8] {
        var line = canonicalBytes()
        hash = Self.chainHash(of: line, key: key)
        line.removeLast()
        Self.appendLiteral(",\"hash\":\"", to: &line)
        line.append(contentsOf: hash.utf8)
        Self.appendLiteral("\"}\n", to: &line)
        return line
    }

    /// The chain hash of a record's canonical bytes: lower-case hex HMAC-SHA256 under the chain key.
    ///
    /// Keyed, so that whoever can edit the file but does not hold `AUDIT_HMAC_KEY` cannot re-seal an edited
    /// record, nor rebuild the chain after deleting or reordering records.
    static func chainHash(of canonical: [UInt8], key: HMACKey) -> String {
        Digest.hex(key.authenticationCode(for: canonical))
    }

    /// Appends the bytes of a literal without building an array for it.
    private static func appendLiteral(_ literal: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends `key` then `value` quoted, or `null` when there is none.
    private static func append(_ key: StaticString, _ value: String?, to out: inout [UInt8]) {
        appendLiteral(key, to: &out)
        if let value { append(value, to: &out) } else { appendLiteral("null", to: &out) }
    }

    /// Appends `value` quoted and escaped, cut to `maxFieldBytes` on a character boundary.
    private static func append(_ value: String, to out: inout [UInt8]) {
        guard value.utf8.count > maxFieldBytes else {
            // Most values (ids, addresses, routes, hashes) hold nothing to escape: copy them in one go.
            if needsNoEscaping(value) {
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: value.utf8)
                out.append(UInt8(ascii: "\""))
            } else {
                JSONEscaping.appendQuoted(value, to: &out)
            }
            return
        }
        var kept = Substring()
        var bytes = 0
        for character in value {
            bytes += character.utf8.count
            if bytes > maxFieldBytes { break }
            kept.append(character)
        }
        JSONEscaping.appendQuoted(kept, to: &out)
    }

    /// Whether `JSONEscaping.appendQuoted` would copy every byte of `value` unchanged.
    private static func needsNoEscaping(_ value: String) -> Bool {
        let scan = value.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.allSatisfy { $0 >= 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        }
        // A string without contiguous UTF-8 (bridged) takes the escaping path, which is always correct.
        return scan ?? false
    }
}
