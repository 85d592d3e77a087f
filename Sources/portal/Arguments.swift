/// A command's arguments: `--name value` options, `--flag` switches and positionals.
struct Arguments {
    private(set) var options: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positionals: [String] = []

    /// Parses `raw` against the option names that take a value and the switches `flags` the command knows;
    /// any other `--name` is refused, and so is an option with a value given twice.
    init(_ raw: [String], valued: Set<String>, flags known: Set<String> = []) throws(UsageError) {
        var i = 0
        while i < raw.count {
            let arg = raw[i]
            if arg == "-h" {
                flags.insert("help")
            } else if arg.hasPrefix("--") {
                var name = String(arg.dropFirst(2))
                var inline: String?
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                if valued.contains(name) {
                    // The last of two would win unseen: a script that sets a value twice gets an error instead.
                    guard options[name] == nil else { throw UsageError("--\(name) is given more than once") }
                    if let inline {
                        options[name] = inline
                    } else {
                        guard i + 1 < raw.count else { throw UsageError("--\(name) needs a value") }
                        i += 1
                        options[name] = raw[i]
                    }
                } else if name == "help" || known.contains(name) {
                    flags.insert(name)
                } else {
                    throw UsageError("unknown option --\(name)")
                }
            } else {
                positionals.append(arg)
            }
            i += 1
        }
    }

    var wantsHelp: Bool { flags.contains("help") }
}

/// A mistake in how a command was called; printed in one line with a pointer to `--help`.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
