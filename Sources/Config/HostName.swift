/// Checks host names for listeners and upstreams.
enum HostName {
    /// Whether `text` is an IPv4/IPv6 literal (no brackets) or an RFC 1123 host name
    /// (labels of letters, digits and `-`, 1 to 63 bytes each, 253 bytes in all).
    static func isValid(_ text: String) -> Bool {
        if IPAddress(text) != nil { return true }
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return false }
            let allowed = label.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: "-")
            }
            guard allowed else { return false }
        }
        // A name of digits and dots only that is not a valid IPv4 address (e.g. 999.1.1.1) is a typo.
        return !bytes.allSatisfy { (0x30...0x39).contains($0) || $0 == UInt8(ascii: ".") }
    }
}
