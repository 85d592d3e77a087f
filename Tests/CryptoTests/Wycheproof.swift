import Crypto
import PortalCore
import Testing
import VectorTestSupport

/// Loads a Project Wycheproof file from the shared vectors and walks its groups and tests.
struct Wycheproof {
    struct Case {
        let group: JSONValue
        let test: JSONValue
        var id: String { test["tcId"]?.numberValue?.text ?? "?" }
        var result: String { test["result"]?.stringValue ?? "" }

        func hex(_ name: String) throws -> [UInt8] {
            try Wycheproof.hex(try #require(test[name]?.stringValue, "field \(name)"))
        }

        /// Checks a verdict against `result`: `valid` must pass, `invalid` must fail, `acceptable` either.
        func expect(_ accepted: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
            switch result {
            case "valid": #expect(accepted, "tcId \(id) is valid", sourceLocation: sourceLocation)
            case "invalid": #expect(!accepted, "tcId \(id) is invalid", sourceLocation: sourceLocation)
            case "acceptable": break
            default: Issue.record("tcId \(id): unknown result \(result)", sourceLocation: sourceLocation)
            }
        }
    }

    let root: JSONValue
    let groups: [JSONValue]

    init(_ file: String) throws {
        let bytes = try VectorFile.read("wycheproof/" + file)
        root = try JSONParser().parse(bytes)
        groups = try #require(root["testGroups"]?.arrayValue)
        #expect(!groups.isEmpty)
    }

    /// Every test of every group, with the number of tests, so callers can check that all ran.
    var cases: [Case] {
        groups.flatMap { group in (group["tests"]?.arrayValue ?? []).map { Case(group: group, test: $0) } }
    }

    /// `numberOfTests` as the file declares it.
    var declaredCount: Int? { root["numberOfTests"]?.numberValue?.int64.map(Int.init) }

    static func hex(_ text: String) throws -> [UInt8] {
        let digits = Array(text.utf8)
        try #require(digits.count % 2 == 0, "odd hex length")
        var out = [UInt8]()
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            let high = try nibble(digits[index]), low = try nibble(digits[index + 1])
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ digit: UInt8) throws -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: throw VectorFile.Failure(message: "bad hex digit")
        }
    }
}

/// Reads files from the vectors folder (`VectorFiles`).
enum VectorFile {
    struct Failure: Error { let message: String }

    static func read(_ relativePath: String) throws -> [UInt8] { try VectorFiles.read(relativePath) }
}
