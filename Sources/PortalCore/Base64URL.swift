/// Strict base64url (RFC 4648 §5) without padding, as JOSE uses it.
///
/// Decoding accepts exactly one spelling of any byte string: only the URL-safe alphabet
/// (`A–Z a–z 0–9 - _`), no `=` padding, no whitespace, no length of the form `4k + 1`, and
/// the unused low bits of the last character must be zero. Anything else decodes to `nil`.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0xFF marks a byte outside the alphabet.
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The unpadded base64url text of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encodeToBytes(bytes), as: UTF8.self)
    }

    /// The unpadded base64url text of `bytes`, as ASCII bytes.
    public static func encodeToBytes(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        appendEncoded(bytes, to: &out)
        return out
    }

    /// Appends the unpadded base64url text of `bytes` to `out`.
    public static func appendEncoded(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = second == nil ? nil : iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            out.append(alphabet[Int(group >> 18 & 0x3F)])
            out.append(alphabet[Int(group >> 12 & 0x3F)])
            if second != nil { out.append(alphabet[Int(group >> 6 & 0x3F)]) }
            if third != nil { out.append(alphabet[Int(group & 0x3F)]) }
        }
    }

    /// The bytes that `text` spells, or `nil` when it is not canonical unpadded base64url.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var copy = String(text)
        return copy.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    /// The bytes that `encoded` spells, or `nil` when it is not canonical unpadded base64url.
    public static func decode(_ encoded: [UInt8]) -> [UInt8]? {
        encoded.withUnsafeBytes { decode($0) }
    }

    /// The bytes that `encoded` spells, or `nil` when it is not canonical unpadded base64url.
    public static func decode(_ encoded: UnsafeRawBufferPointer) -> [UInt8]? {
        let count = encoded.count
        // A single leftover character carries only 6 bits: never a whole byte.
        if count % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(count * 3 / 4)
        var index = 0
        return reverse.withUnsafeBufferPointer { table -> [UInt8]? in
            while index + 4 <= count {
                let a = table[Int(encoded[index])], b = table[Int(encoded[index + 1])]
                let c = table[Int(encoded[index + 2])], d = table[Int(encoded[index + 3])]
                if (a | b | c | d) & 0xC0 != 0 { return nil }
                let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                out.append(UInt8(truncatingIfNeeded: group >> 16))
                out.append(UInt8(truncatingIfNeeded: group >> 8))
                out.append(UInt8(truncatingIfNeeded: group))
                index += 4
            }
            let rest = count - index
            if rest == 0 { return out }
            let a = table[Int(encoded[index])], b = table[Int(encoded[index + 1])]
            let c = rest == 3 ? table[Int(encoded[index + 2])] : 0
            if (a | b | c) & 0xC0 != 0 { return nil }
            // The bits past the last whole byte must be zero, or two texts would spell one value.
            if rest == 2 && b & 0x0F != 0 { return nil }
            if rest == 3 && c & 0x03 != 0 { return nil }
            let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
            out.append(UInt8(truncatingIfNeeded: group >> 16))
            if rest == 3 { out.append(UInt8(truncatingIfNeeded: group >> 8)) }
            return out
        }
    }
}
