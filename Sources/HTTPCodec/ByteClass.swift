/// Byte classes from RFC 9110/9112, decided without tables or allocation.
enum ByteClass {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A

    /// `tchar`: the bytes a token (method, field name, coding) may hold.
    @inline(__always)
    static func isToken(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    /// A request-target byte: visible ASCII only (no CTL, space, DEL or obs-text).
    @inline(__always)
    static func isTargetByte(_ b: UInt8) -> Bool { b >= 0x21 && b <= 0x7E }

    /// A field-value byte: HTAB, SP, VCHAR or obs-text; never another CTL or DEL.
    @inline(__always)
    static func isFieldValueByte(_ b: UInt8) -> Bool { b == htab || (b >= 0x20 && b != 0x7F) }

    @inline(__always)
    static func isOWS(_ b: UInt8) -> Bool { b == sp || b == htab }

    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

    /// The value of a hex digit, or nil.
    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt64? {
        switch b {
        case 0x30...0x39: return UInt64(b - 0x30)
        case 0x41...0x46: return UInt64(b - 0x41 + 10)
        case 0x61...0x66: return UInt64(b - 0x61 + 10)
        default: return nil
        }
    }

    /// Whether `bytes` equals the lowercase ASCII `lowercased`, ignoring ASCII case.
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercased: StaticString) -> Bool {
        guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
        let other = lowercased.utf8Start
        for i in 0..<bytes.count where lower(bytes[i]) != other[i] { return false }
        return true
    }

    /// A received field; a value that is not valid UTF-8 keeps its bytes, so it is forwarded unchanged.
    ///
    /// Only for bytes `FieldLine.split` accepted: the field is marked validated.
    static func field(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, text: String) -> HTTPField {
        let name = String(decoding: name, as: UTF8.self)
        // Only the ISO-8859-1 fallback makes more UTF-8 bytes than were received.
        guard text.utf8.count != value.count else { return HTTPField(validatedName: name, value: text, rawValue: nil) }
        return HTTPField(validatedName: name, value: text, rawValue: [UInt8](value))
    }

    /// Text for a field value: UTF-8 when valid, otherwise each byte as ISO-8859-1.
    static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        var ascii = true
        for b in bytes where b >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        if let utf8 = String(validating: bytes, as: UTF8.self) { return utf8 }
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(Unicode.Scalar(b)) }
        return String(scalars)
    }
}
