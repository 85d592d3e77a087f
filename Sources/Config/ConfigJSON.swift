import Foundation
import PortalCore

/// The strict reading every `PORTAL_CONFIG` reader starts with.
///
/// The readers walk the document with `JSONSerialization`, which quietly keeps the last of two members of one
/// name; a file that says `"public": false` and later `"public": true` must not be read either way. So the bytes
/// first pass the network's strict parser: a repeated member name, invalid UTF-8, a byte-order mark or anything
/// after the document is refused, naming the line and column.
enum ConfigJSON {
    /// - Throws: `ConfigError` naming `PORTAL_CONFIG`, the line and column, and what is wrong there.
    static func check(_ data: Data) throws(ConfigError) {
        let bytes = [UInt8](data)
        do {
            _ = try JSONParser().parse(bytes)
        } catch {
            let (line, column) = position(of: error.offset, in: bytes)
            throw ConfigError.invalidRouteTable(
                jsonPath: "$ (line \(line), column \(column))", reason: explanation(error.reason))
        }
    }

    /// 1-based line and column (in bytes) of `offset`.
    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }

    private static func explanation(_ reason: String) -> String {
        switch reason {
        case "duplicate_member": return "a member name is repeated in one object (each may appear once)"
        case "invalid_utf8": return "not valid UTF-8"
        case "too_deep": return "nested too deeply"
        case "trailing_content": return "not valid JSON: something follows the document"
        case "lone_surrogate", "invalid_escape": return "not valid JSON: a bad escape in a string"
        case "control_character": return "not valid JSON: a raw control character in a string"
        case "invalid_number": return "not valid JSON: a malformed number"
        default: return "not valid JSON"
        }
    }
}
