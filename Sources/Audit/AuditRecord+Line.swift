import Crypto
import PortalCore

extension AuditRecord {
    /// The record as one JSON object, all fields in a fixed order, ending with `"prev_hash"`
    /// and without `"hash"`: the bytes that `hash` is computed over.
    func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(contentsOf: Array("{\"time\":\"".utf8))
        out.append(contentsOf: Array(RFC3339.format(unixMicroseconds: timeMicroseconds).utf8))
        out.append(contentsOf: Array("\",\"sequence\":\(sequence),\"type\":".utf8))
        Self.append(type.rawValue, to: &out)
        out.append(contentsOf: Array(",\"outcome\":".utf8))
        Self.append(outcome.rawValue, to: &out)
        let optionals: [(String, String?)] = [
            ("request_id", requestID), ("client_address", clientAddress), ("subject", subject),
            ("route", route), ("reason", reason), ("token_fingerprint", tokenFingerprint),
        ]
        for (name, value) in optionals {
            out.append(contentsOf: Array(",\"\(name)\":".utf8))
            if let value { Self.append(value, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
        }
        out.append(contentsOf: Array(",\"prev_hash\":".utf8))
        Self.append(prevHash, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Sets `hash` from the canonical bytes and returns the full line, newline included.
    mutating func sealLine() -> [UInt8] {
        var line = canonicalBytes()
        hash = Digest.hex(Digest.sha256(line))
        line.removeLast()
        line.append(contentsOf: Array(",\"hash\":\"\(hash)\"}\n".utf8))
        return line
    }

    /// Appends `value` quoted and escaped, cut to `maxFieldBytes` on a character boundary.
    private static func append(_ value: String, to out: inout [UInt8]) {
        guard value.utf8.count > maxFieldBytes else { return JSONEscaping.appendQuoted(value, to: &out) }
        var kept = Substring()
        var bytes = 0
        for character in value {
            bytes += character.utf8.count
            if bytes > maxFieldBytes { break }
            kept.append(character)
        }
        JSONEscaping.appendQuoted(kept, to: &out)
    }
}
