/// Parses the text of a `.env` file: `KEY=VALUE` lines, `#` comments, an optional `export ` prefix, and
/// single- or double-quoted values. No variable expansion, no multi-line values.
///
/// A malformed line throws a `ConfigError` naming the file and the line number, never the line's text.
enum DotEnvParser {
    /// Returns the variables in `text`; `fileName` only labels errors.
    static func parse(_ text: String, fileName: String) throws(ConfigError) -> [String: String] {
        var values: [String: String] = [:]
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.last == "\r" { line = line.dropLast() }
            line = trimmed(line)
            if line.isEmpty || line.first == "#" { continue }
            let number = lineNumber
            let fail = { (reason: String) in ConfigError.malformedDotEnv(file: fileName, line: number, reason: reason) }
            // `export KEY=VALUE` is accepted so that the file can also be sourced by a shell.
            if line.hasPrefix("export ") || line.hasPrefix("export\t") { line = trimmed(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else { throw fail("expected KEY=VALUE") }
            let key = String(trimmed(line[..<equals]))
            guard isValidName(key) else { throw fail("expected a variable name of letters, digits and _") }
            guard values[key] == nil else { throw fail("\(key) is set twice") }
            guard let value = parseValue(trimmed(line[line.index(after: equals)...])) else {
                throw fail("\(key): malformed value (unterminated quote or text after the closing quote)")
            }
            values[key] = value
        }
        return values
    }

    /// Whether `name` is a portable environment variable name.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || (0x30...0x39).contains($0) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// The value after `=`, with quotes removed; nil when malformed.
    private static func parseValue(_ text: Substring) -> String? {
        guard let quote = text.first, quote == "\"" || quote == "'" else {
            // Unquoted: a `#` after whitespace starts a comment.
            var end = text.endIndex
            var index = text.startIndex
            while index < text.endIndex {
                if text[index] == "#", index > text.startIndex, text[text.index(before: index)].isWhitespace {
                    end = index
                    break
                }
                index = text.index(after: index)
            }
            return String(trimmed(text[..<end]))
        }
        var value = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if character == quote {
                // Only whitespace or a comment may follow the closing quote.
                let rest = trimmed(text[text.index(after: index)...])
                return rest.isEmpty || rest.first == "#" ? value : nil
            }
            if quote == "\"", character == "\\", text.index(after: index) < text.endIndex {
                index = text.index(after: index)
                switch text[index] {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "r": value.append("\r")
                case "\"", "\\": value.append(text[index])
                default: value.append("\\"); value.append(text[index])
                }
            } else {
                value.append(character)
            }
            index = text.index(after: index)
        }
        return nil
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var result = text
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
