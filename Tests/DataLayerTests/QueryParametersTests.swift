import Testing

@testable import DataLayer

@Suite("QueryParameters")
struct QueryParametersTests {
    @Test(
        "pairs are split and percent-decoded",
        arguments: [
            ("a=1&b=2", [("a", "1"), ("b", "2")]),
            ("aggregate_id=story%2D1&x=a+b", [("aggregate_id", "story-1"), ("x", "a b")]),
            ("e=%C3%A9&&f=", [("e", "é"), ("f", "")]),
            ("flag", [("flag", "")]),
        ])
    func decodes(query: String, expected: [(String, String)]) throws {
        let parameters = try QueryParameters(query[...])
        #expect(parameters.pairs.map(\.name) == expected.map(\.0))
        #expect(parameters.pairs.map(\.value) == expected.map(\.1))
    }

    @Test(
        "malformed escapes, invalid UTF-8, empty names and repeats are refused",
        arguments: [
            "a=%", "a=%4", "a=%zz", "a=%FF", "=1", "%=1", "a=1&a=2", "a=%C3",
        ])
    func refuses(query: String) {
        #expect(throws: DataLayerError.self) { try QueryParameters(query[...]) }
    }
}
