import Foundation

/// One case of `http-framing.json`, for the parser's table test and the server's real-socket one.
public struct FramingVector: Sendable {
    public struct Expected: Sendable, Equatable {
        public var method: String
        public var target: String
        public var body: [UInt8]

        public init(method: String, target: String, body: [UInt8]) {
            self.method = method
            self.target = target
            self.body = body
        }
    }

    public var name: String
    public var raw: [UInt8]
    /// `accept`, `reject` or `either`.
    public var expect: String
    /// The statuses a rejection may answer with; empty when any 4xx will do.
    public var statuses: [Int]
    public var requests: [Expected]

    /// Every case of the corpus in `VectorFiles.directory`.
    public static func load() throws -> [FramingVector] {
        let root = try JSONSerialization.jsonObject(with: Data(VectorFiles.read("http-framing.json"))) as? [String: Any]
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
    public static func latin1(_ s: String) -> [UInt8] {
        s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
    }
}
