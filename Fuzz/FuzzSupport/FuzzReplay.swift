import Foundation

/// Replays fuzz inputs outside libFuzzer, so that every harness also builds and runs as a plain executable.
///
/// Each argument names a file (one input) or a directory (each regular file in it is one input, in name
/// order). A crash reproduces exactly as under libFuzzer, without the sanitizer build.
public enum FuzzReplay {
    /// Runs `body` once per input named in `arguments` (default: the process arguments minus the program name).
    /// - Returns: the number of inputs run.
    @discardableResult
    public static func run(
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        _ body: (UnsafeRawBufferPointer) -> Void
    ) -> Int {
        var count = 0
        for path in inputPaths(arguments) {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                continue
            }
            data.withUnsafeBytes { body($0) }
            count += 1
        }
        print("replayed \(count) input(s)")
        return count
    }

    /// The files named by `arguments`, directories expanded one level, in a stable order.
    static func inputPaths(_ arguments: [String]) -> [String] {
        var paths: [String] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else { continue }
            guard isDirectory.boolValue else {
                paths.append(argument)
                continue
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
            paths += names.sorted().map { argument + "/" + $0 }
        }
        return paths
    }
}
