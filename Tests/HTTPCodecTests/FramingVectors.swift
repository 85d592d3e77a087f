import Foundation

/// One case of `shared/vectors/http-framing.json`.
struct FramingVector: Sendable {
    struct Expected: Sendable, Equatable {
        var method: String
        var target: String
        var body: [UInt8]
    }

    var name: String
    var raw: [UInt8]
    var expect: String
    var statuses: [Int]
    var requests: [Expected]

    /// Every case of the shared corpus (copied into `Tests/Vectors`), found by walking up from this file to the package root.
    static func load(from file: String = #filePath) throws -> [FramingVector] {
        var dir = URL(fileURLWithPath: file).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            let parent = dir.deletingLastPathComponent()
            guard parent.path != dir.path else { throw CocoaError(.fileNoSuchFile) }
            dir = parent
        }
        let url = dir.appendingPathComponent("Tests/Vectors/http-framing.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let cases = root?["cases"] as? [[String: Any]] ?? []
        return cases.map { c in
            FramingVector(
                name: c["name"] as? String ?? "?",
                raw: latin1(c["raw"] as? String ?? ""),
                expect: c["expect"] as? String ?? "?",
                statuses: c["status"] as? [Int] ?? [],
                requests: (c["requests"] as? [[String: Any]] ?? []).map { r in
                    Expected(
                        method: r["method"] as? String ?? "", target: r["target"] as? String ?? "",
                        body: latin1(r["body"] as? String ?? ""))
                })
        }
    }

    /// The vectors' strings hold one character per byte (ISO-8859-1).
    static func latin1(_ s: String) -> [UInt8] { s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }
}
