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

    @Test("refuses hostile or invalid documents with the right reason", arguments: [
        ("", "unexpected_end"), ("{", "unexpected_end"), ("[1,]", "unexpected_byte"), ("{\"a\":1,}", "unexpected_byte"),
        ("{\"a\":1,\"a\":2}", "duplicate_member"), ("{\"a\":1} x", "trailing_content"), ("1 2", "trailing_content"),
        ("\u{FEFF}{}", "unexpected_byte"), ("01", "invalid_number"), ("-", "invalid_number"), ("1.", "invalid_number"),
        ("1e", "invalid_number"), (".5", "unexpected_byte"), ("+1", "unexpected_byte"), ("NaN", "unexpected_byte"),
        ("\"\\ud800\"", "lone_surrogate"), ("\"\\udc00\"", "lone_surrogate"), ("\"\\ud800\\u0041\"", "lone_surrogate"),
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
}
