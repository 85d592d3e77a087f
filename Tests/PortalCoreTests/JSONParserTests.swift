import PortalCore
import Testing

@Suite("JSONParser")
struct JSONParserTests {
    let parser = JSONParser()

    @Test("parses every kind of value and keeps member order")
    func parsesValues() throws {
        let text = #" {"b": [1, -0.5e+3, true, false, null], "a": "x\"\u00e9\ud83d\ude00", "c": {}} "#
        let value = try parser.parse(text)
        let object = try #require(value.objectValue)
        #expect(object.members.map(\.name) == ["b", "a", "c"])
        #expect(value["a"]?.stringValue == "x\"é😀")
        let array = try #require(value["b"]?.arrayValue)
        #expect(array.count == 5)
        #expect(array[0].numberValue?.int64 == 1)
        #expect(array[1].numberValue?.text == "-0.5e+3")
        #expect(array[1].numberValue?.double == -500)
        #expect(array[1].numberValue?.int64 == nil)
        #expect(array[2] == .bool(true) && array[3] == .bool(false) && array[4] == .null)
        #expect(value["c"] == .object(JSONObject(members: [])))
    }

    @Test("numbers keep their text; out-of-range values give no Int64 and no Double")
    func numbers() throws {
        #expect(try parser.parse("9223372036854775807").numberValue?.int64 == Int64.max)
        #expect(try parser.parse("9223372036854775808").numberValue?.int64 == nil)
        #expect(try parser.parse("1e400").numberValue?.double == nil)
        #expect(try parser.parse("1e400").numberValue?.text == "1e400")
    }

    @Test(
        "refuses hostile or invalid documents with the right reason",
        arguments: [
            ("", "unexpected_end"), ("{", "unexpected_end"), ("[1,]", "unexpected_byte"),
            ("{\"a\":1,}", "unexpected_byte"),
            ("{\"a\":1,\"a\":2}", "duplicate_member"), ("{\"a\":1} x", "trailing_content"), ("1 2", "trailing_content"),
            ("\u{FEFF}{}", "unexpected_byte"), ("01", "invalid_number"), ("-", "invalid_number"),
            ("1.", "invalid_number"),
            ("1e", "invalid_number"), (".5", "unexpected_byte"), ("+1", "unexpected_byte"), ("NaN", "unexpected_byte"),
            ("\"\\ud800\"", "lone_surrogate"), ("\"\\udc00\"", "lone_surrogate"),
            ("\"\\ud800\\u0041\"", "lone_surrogate"),
            ("\"\\ud800x\"", "lone_surrogate"), ("\"\\x\"", "invalid_escape"), ("\"\\u12g4\"", "invalid_escape"),
            ("\"a\tb\"", "control_character"), ("\"a\nb\"", "control_character"), ("\"abc", "unexpected_end"),
            ("tru", "unexpected_end"), ("nul1", "unexpected_byte"), ("{'a':1}", "unexpected_byte"),
            ("{a:1}", "unexpected_byte"),
            ("[1]]", "trailing_content"), ("\"a\" \u{0}", "trailing_content"),
        ])
    func refuses(input: String, reason: String) {
        #expect {
            _ = try parser.parse(input)
        } throws: { error in
            (error as? JSONParseError)?.reason == reason
        }
    }

    @Test("refuses invalid UTF-8: stray continuation, overlong, encoded surrogate, truncated sequence")
    func refusesInvalidUTF8() {
        let hostile: [[UInt8]] = [
            [0x22, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xE2, 0x82, 0x22], [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], [0x22, 0x5C, 0x6E, 0xFF, 0x22],
        ]
        for bytes in hostile {
            #expect(throws: JSONParseError.self) { _ = try parser.parse(bytes) }
        }
    }

    @Test("allows 64 levels of nesting and refuses 65, without deep recursion on bombs")
    func nestingLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try parser.parse(ok)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect { _ = try parser.parse(deep) } throws: { ($0 as? JSONParseError)?.reason == "too_deep" }
        let bomb = String(repeating: "{\"a\":", count: 100_000)
        #expect { _ = try parser.parse(bomb) } throws: { ($0 as? JSONParseError)?.reason == "too_deep" }
    }

    @Test("finds duplicates in large objects too")
    func duplicatesInLargeObjects() {
        var text = "{"
        for index in 0..<100 { text += "\"k\(index)\":\(index)," }
        text += "\"k3\":0}"
        #expect { _ = try parser.parse(text) } throws: { ($0 as? JSONParseError)?.reason == "duplicate_member" }
    }

    @Test("serializes back to compact JSON that parses to the same value")
    func serializerRoundTrip() throws {
        let input = #"{"z":[1,2.50,{"q":null}],"s":"tab\tquote\"nl\n\u0001é","t":true}"#
        let value = try parser.parse(input)
        let bytes = value.serialized()
        #expect(try parser.parse(bytes) == value)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"z":[1,2.50,{"q":null}],"s":"tab\t"#))
    }

    @Test(
        "serialises compactly, keeping member order and each number's literal text",
        arguments: [
            (" { \"a\" : [1, -0.5e+10, true, false, null] } ", "{\"a\":[1,-0.5e+10,true,false,null]}"),
            ("{\"big\":123456789012345678901234567890}", "{\"big\":123456789012345678901234567890}"),
            ("{\"s\":\"\\u00e9\\ud83d\\ude00\\n\\/\"}", "{\"s\":\"é😀\\n/\"}"),
            ("{\"b\":1,\"a\":2}", "{\"b\":1,\"a\":2}"),
            ("[\"x\",{}]", "[\"x\",{}]"),
        ])
    func serialisesVerbatim(input: String, expected: String) throws {
        #expect(try parser.parse(input).serialized() == Array(expected.utf8))
    }

    @Test("booleans and numbers stay distinct: 1 is not true, 0 is not false")
    func boolsAreNotNumbers() throws {
        let expected: JSONValue = .array([
            .number(JSONNumber(text: "1")), .bool(true), .number(JSONNumber(text: "0")), .bool(false),
        ])
        #expect(try parser.parse("[1,true,0,false]") == expected)
    }

    @Test("a configured maximumDepth of 32 allows 32 levels and refuses 33")
    func configuredDepth() throws {
        let parser = JSONParser(maximumDepth: 32)
        _ = try parser.parse(String(repeating: "[", count: 32) + String(repeating: "]", count: 32))
        let over = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect { _ = try parser.parse(over) } throws: { ($0 as? JSONParseError)?.reason == "too_deep" }
    }

    @Test(
        "invalid UTF-8 inside a string is refused as invalid_utf8",
        arguments: [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xE2, 0x82]] as [[UInt8]])
    func invalidUTF8Reason(bad: [UInt8]) {
        let body = Array("{\"a\":\"".utf8) + bad + Array("\"}".utf8)
        #expect { _ = try parser.parse(body) } throws: { ($0 as? JSONParseError)?.reason == "invalid_utf8" }
    }

    @Test("member names that are canonically equivalent (NFC and NFD) count as duplicates")
    func canonicallyEquivalentNames() {
        let text = "{\"\u{E9}\":1,\"e\u{301}\":2}"
        #expect { _ = try parser.parse(text) } throws: { ($0 as? JSONParseError)?.reason == "duplicate_member" }
    }
}
