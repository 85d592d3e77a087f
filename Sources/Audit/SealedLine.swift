import Crypto
import PortalCore

/// One line of the audit file read back: the chain fields and the bytes the hash covers.
///
/// The hash field is always written last, so the canonical bytes are the line with its
/// `,"hash":"…"` member cut off. Nothing is re-serialised: the check runs over the bytes as stored.
struct SealedLine {
    let sequence: UInt64
    let prevHash: String
    let hash: String
    /// The line without its hash member: what `hash` must authenticate.
    let canonical: [UInt8]

    /// Parses one line (without its newline); nil when it is not a sealed record.
    init?(_ line: [UInt8]) {
        guard let object = try? JSONParser(maximumDepth: 4).parse(line).objectValue,
            let hash = object["hash"]?.stringValue, hash.utf8.count == 64,
            let prevHash = object["prev_hash"]?.stringValue, prevHash.utf8.count == 64,
            let text = object["sequence"]?.numberValue?.text, let sequence = UInt64(text)
        else { return nil }
        let suffix = Array(",\"hash\":\"\(hash)\"}".utf8)
        guard line.count > suffix.count, line.suffix(suffix.count).elementsEqual(suffix) else { return nil }
        self.sequence = sequence
        self.prevHash = prevHash
        self.hash = hash
        canonical = Array(line.dropLast(suffix.count)) + [UInt8(ascii: "}")]
    }

    /// Whether `hash` is the HMAC of the canonical bytes under `key`, compared in constant time.
    func verifies(with key: HMACKey) -> Bool {
        let expected = AuditRecord.chainHash(of: canonical, key: key)
        return ConstantTime.equals(Array(expected.utf8), Array(hash.utf8))
    }
}
