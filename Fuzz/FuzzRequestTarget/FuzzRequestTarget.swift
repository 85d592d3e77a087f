import FuzzSupport
import HTTPCodec

/// Fuzzes path normalisation, `RequestTarget(parsing:)`: the input is a request target.
///
/// Every decision of the gateway reads the normalised path, so these properties must hold for each target
/// that is accepted: the path is absolute and holds no empty, `.` or `..` segment, no backslash and no encoded
/// separator; no escape of an unreserved character is left and every escape is upper-case hex; normalising
/// the result again changes nothing (one path, whoever normalises it); the query is kept byte for byte.
enum RequestTargetHarness {
    static func run(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        guard let target = try? RequestTarget(parsing: text) else { return }
        let path = Array(target.path.utf8)
        FuzzCheck.expect(path.first == UInt8(ascii: "/"), "normalised path is not absolute")
        FuzzCheck.expect(!path.contains(UInt8(ascii: "\\")), "normalised path holds a backslash")
        FuzzCheck.expect(!path.contains(UInt8(ascii: "?")), "normalised path holds a '?'")
        checkSegments(path)
        checkEscapes(path)

        // Idempotence: the forwarded target normalises to itself.
        let again = try? RequestTarget(parsing: target.normalised)
        FuzzCheck.expect(again == target, "normalising the normalised target changes it")

        // The query after the first '?' is forwarded unchanged.
        let bytes = Array(input)
        if let question = bytes.firstIndex(of: UInt8(ascii: "?")) {
            FuzzCheck.expect(target.query.map { Array($0.utf8) } == Array(bytes[(question + 1)...]), "query changed")
        } else {
            FuzzCheck.expect(target.query == nil, "query invented")
        }
    }

    /// No `//`, and no segment that is `.` or `..` (a trailing slash is allowed).
    static func checkSegments(_ path: [UInt8]) {
        let segments = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            FuzzCheck.expect(!segment.isEmpty || isLast, "normalised path holds an empty segment")
            FuzzCheck.expect(segment.elementsEqual([0x2E]) == false, "normalised path holds a '.' segment")
            FuzzCheck.expect(segment.elementsEqual([0x2E, 0x2E]) == false, "normalised path holds a '..' segment")
        }
    }

    /// Every `%` starts an upper-case escape of a byte that is neither unreserved nor a separator.
    static func checkEscapes(_ path: [UInt8]) {
        var index = 0
        while index < path.count {
            defer { index += 1 }
            guard path[index] == UInt8(ascii: "%") else { continue }
            FuzzCheck.expect(index + 2 < path.count, "truncated escape in normalised path")
            guard let high = hexValue(path[index + 1]), let low = hexValue(path[index + 2]) else {
                FuzzCheck.expect(false, "escape in normalised path is not upper-case hex")
                return
            }
            let byte = high << 4 | low
            FuzzCheck.expect(!isUnreserved(byte), "escape of an unreserved byte left in normalised path")
            FuzzCheck.expect(byte != UInt8(ascii: "/") && byte != UInt8(ascii: "\\"), "encoded separator kept")
            FuzzCheck.expect(byte >= 0x20 && byte != 0x7F, "encoded control byte kept")
            index += 2
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "~")
        }
    }
}

/// libFuzzer in a fuzzing build, a replay of the argument files otherwise (see `FuzzEntry`).
@main
enum FuzzRequestTargetMain {
    static func main() {
        FuzzEntry.main(RequestTargetHarness.run)
    }
}
