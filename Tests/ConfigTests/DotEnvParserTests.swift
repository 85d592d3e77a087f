import Testing

@testable import Config

@Suite("DotEnvParser")
struct DotEnvParserTests {
    @Test(
        "reads KEY=VALUE lines with quotes, comments and export",
        arguments: [
            ("A=1", "A", "1"),
            ("export A=1", "A", "1"),
            ("  A = spaced  ", "A", "spaced"),
            ("A=", "A", ""),
            ("A=value # comment", "A", "value"),
            ("A=val#ue", "A", "val#ue"),
            ("A='single # kept'", "A", "single # kept"),
            ("A='$HOME and \\n stay'", "A", "$HOME and \\n stay"),
            ("A=\"double \\\"q\\\" \\n\"", "A", "double \"q\" \n"),
            ("A=\"x\" # trailing comment", "A", "x"),
            ("A=${OTHER}", "A", "${OTHER}"),
            ("A=a=b=c", "A", "a=b=c"),
            ("_a1=x", "_a1", "x"),
        ])
    func parsesLine(line: String, key: String, value: String) throws {
        let values = try DotEnvParser.parse(line, fileName: ".env")
        #expect(values == [key: value])
    }

    @Test("skips blank lines and comments, and accepts CRLF line ends")
    func skipsCommentsAndCRLF() throws {
        let text = "# heading\r\n\r\nA=1\r\n   # indented comment\nB='two'\r\n"
        let values = try DotEnvParser.parse(text, fileName: ".env")
        #expect(values == ["A": "1", "B": "two"])
    }

    @Test(
        "refuses a malformed line naming the file and line, never the value",
        arguments: [
            "NOEQUALS_hunter2",
            "1A=hunter2",
            "A B=hunter2",
            "A-B=hunter2",
            "=hunter2",
            "A='hunter2",
            "A=\"hunter2",
            "A='hunter2' extra",
            "export =hunter2",
        ])
    func refusesMalformed(line: String) {
        let text = "OK=1\n# comment\n\(line)\n"
        #expect {
            try DotEnvParser.parse(text, fileName: "/app/.env")
        } throws: { error in
            let description = String(describing: error)
            return description.hasPrefix("/app/.env:3: ") && !description.contains("hunter2")
                && !description.contains("\n")
        }
    }

    @Test("refuses a variable set twice in the file")
    func refusesDuplicate() {
        #expect(throws: ConfigError.self) { try DotEnvParser.parse("A=1\nA=2", fileName: ".env") }
    }
}
