import RESP
import Testing

@Suite("RESP command writer")
struct RESPCommandTests {
    @Test("a command is an array of bulk strings with exact lengths, binary-safe")
    func encoding() {
        var command = RESPCommand(argumentCount: 4)
        command.append("SET")
        command.append([0, 13, 10, 255])
        command.append(Int64(-120))
        command.append("é")
        let expected =
            Array("*4\r\n$3\r\nSET\r\n$4\r\n".utf8) + [0, 13, 10, 255]
            + Array("\r\n$4\r\n-120\r\n$2\r\n".utf8) + Array("é".utf8) + [13, 10]
        #expect(command.bytes == expected)
        #expect(command.isComplete)
    }

    @Test("what the writer writes, the parser reads back as the same arguments")
    func roundTrip() throws {
        let arguments = ["EVALSHA", "", String(repeating: "x", count: 300), "0", "12345678901"]
        var parser = RESPParser()
        parser.feed(RESPCommand(arguments).bytes)
        let parsed = try #require(try parser.next())
        #expect(parsed == .array(arguments.map { .bulkString(Array($0.utf8)) }))
    }

    @Test("printing a command shows its argument count, never an argument")
    func redacted() {
        let command = RESPCommand(["AUTH", "user", "hunter2"])
        #expect("\(command)" == "RESPCommand(3 arguments)")
    }
}
