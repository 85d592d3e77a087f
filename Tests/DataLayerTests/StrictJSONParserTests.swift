import Testing

@testable import DataLayer

@Suite("StrictJSONParser")
struct StrictJSONParserTests {
    private func parse(_ text: String, maxDepth: Int = 32) throws(JSONParseError) -> JSONValue {
        try StrictJSONParser.parse(Array(text.utf8), maxDepth: maxDepth)
    }

    @Test(
        "valid documents parse and serialise back compactly with numbers kept verbatim",
        arguments: [
            ("{}", "{}"),
            (" { \"a\" : [1, -0.5e+10, true, false, null] } ", "{\"a\":[1,-0.5e+10,true,false,null]}"),
            ("{\"big\":123456789012345678901234567890}", "{\"big\":123456789012345678901234567890}"),
            ("{\"s\":\"\\u00e9\\ud83d\\ude00\\n\\/\"}", "{\"s\":\"é😀\\n/\"}"),
            ("{\"b\":1,\"a\":2}", "{\"b\":1,\"a\":2}"),
            ("[\"x\",{}]", "[\"x\",{}]"),
        ])
    func validDocuments(input: String, expected: String) throws {
        #expect(try parse(input).serialized == expected)
    }

    @Test("booleans and numbers stay distinct: 1 is not true, 0 is not false")
    func boolsAreNotNumbers() throws {
        #expect(try parse("[1,true,0,false]") == .array([.number("1"), .bool(true), .number("0"), .bool(false)]))
    }

    @Test(
        "hostile or malformed input is rejected with the right reason",
        arguments: [
            ("", JSONParseError.Reason.syntax),
            ("{", .syntax),
            ("{\"a\":1,}", .syntax),
            ("[1,]", .syntax),
            ("{'a':1}", .syntax),
            ("{\"a\":01}", .syntax),
            ("{\"a\":1.}", .syntax),
            ("{\"a\":.5}", .syntax),
            ("{\"a\":+1}", .syntax),
            ("{\"a\":NaN}", .syntax),
            ("{\"a\":Infinity}", .syntax),
            ("{\"a\":tru}", .syntax),
            ("{\"a\":\"raw\ttab\"}", .syntax),
            ("{\"a\":\"raw\nnewline\"}", .syntax),
            ("{\"a\":\"\\x41\"}", .syntax),
            ("{\"a\":\"\\u12\"}", .syntax),
            ("{\"a\":\"unterminated}", .syntax),
            ("{\"a\":\"\\ud800\"}", .syntax),
            ("{\"a\":\"\\ud800\\u0041\"}", .invalidUTF8),
            ("{\"a\":\"\\udc00\"}", .invalidUTF8),
            ("{\"a\":1,\"a\":2}", .duplicateKey),
            ("{\"a\":{\"b\":1,\"b\":1}}", .duplicateKey),
            ("{} {}", .trailingData),
            ("{}x", .trailingData),
            ("{}\u{0}", .trailingData),
        ])
    func hostileInput(input: String, reason: JSONParseError.Reason) {
        #expect(throws: JSONParseError(reason: reason)) { try parse(input) }
    }

    @Test(
        "invalid UTF-8 bytes inside a string are rejected",
        arguments: [
            [0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xE2, 0x82],
        ] as [[UInt8]])
    func invalidUTF8(bad: [UInt8]) {
        let body = Array("{\"a\":\"".utf8) + bad + Array("\"}".utf8)
        #expect(throws: JSONParseError(reason: .invalidUTF8)) { try StrictJSONParser.parse(body, maxDepth: 8) }
    }

    @Test("nesting is bounded, even far past the limit, without exhausting the stack")
    func depthBounded() throws {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(throws: Never.self) { try parse(ok) }
        let over = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONParseError(reason: .tooDeep)) { try parse(over) }
        let huge = String(repeating: "{\"a\":", count: 200_000)
        #expect(throws: JSONParseError(reason: .tooDeep)) { try parse(huge) }
    }
}
