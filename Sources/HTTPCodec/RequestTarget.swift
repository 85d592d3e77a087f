/// An origin-form request-target split into one normalised path and the raw query.
///
/// Every decision about a request (routing, authorization, audit, forwarding) reads `path`, so a path
/// cannot route one way and be authorized another. Normalisation happens once, on bytes:
///
/// - escapes of unreserved characters (`ALPHA DIGIT - . _ ~`) are decoded; every other escape is kept with
///   upper-case hex (`%c3%a9` becomes `%C3%A9`);
/// - `.` and `..` segments are resolved (RFC 3986 §5.2.4); a `..` that would climb above `/` is refused;
/// - repeated slashes collapse to one (`//a///b` is `/a/b`); a trailing slash is kept;
/// - the case of the path is preserved: route matching is exact about case.
///
/// Refused with `RequestTargetError` (400, `E9321`…`E9330`), never normalised, because no well-behaved client
/// sends them and upstreams disagree on what they mean: absolute-form and asterisk-form targets, encoded slash
/// or backslash (`%2F`, `%5C`), a raw backslash, `;` path parameters, a `#` fragment, invalid or truncated
/// escapes, raw bytes outside visible ASCII, encoded controls (`%00`…`%1F`, `%7F`), encoded bytes that are
/// not valid UTF-8 (overlong `%C0%AF`, surrogates), and dot segments written with an encoded dot (`%2e`,
/// `.%2E`, `%2e%2e`). The query is kept byte for byte; it may hold any visible ASCII except `#`.
public struct RequestTarget: Sendable, Equatable {
    /// The normalised path: starts with `/`, holds no `//`, `.` or `..` segment, `%2F` or `%5C`.
    public let path: String
    /// The query after the first `?`, unchanged, or nil when the target has no `?`.
    public let query: String?

    /// Parses and normalises `target`, an origin-form request-target such as `/a/./b?x=1`.
    /// - Throws: `RequestTargetError` naming the kind of refusal; its message never echoes the target.
    public init(parsing target: String) throws(RequestTargetError) {
        var target = target
        // `withUTF8` only rethrows untyped errors: carry the typed one out in a Result.
        let result = target.withUTF8 { bytes in
            Result { () throws(RequestTargetError) in try Self.normalise(UnsafeRawBufferPointer(bytes)) }
        }
        let parts = try result.get()
        self.path = parts.0
        self.query = parts.1
    }

    /// The target to forward: `path`, then `?` and the query when there was one.
    public var normalised: String {
        guard let query else { return path }
        return path + "?" + query
    }

    /// Splits at the first `?`, normalises the path and checks the query.
    private static func normalise(
        _ bytes: UnsafeRawBufferPointer
    ) throws(RequestTargetError) -> (String, String?) {
        guard let first = bytes.first else { throw RequestTargetError(.notOriginForm) }
        // `*` and `http://…` are the other request-target forms: this gateway routes origin-form only.
        guard first == UInt8(ascii: "/") else { throw RequestTargetError(.notOriginForm) }
        var end = bytes.count
        if let question = bytes.firstIndex(of: UInt8(ascii: "?")) { end = question }
        let path = try PathNormaliser.normalise(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        guard end < bytes.count else { return (path, nil) }
        let query = UnsafeRawBufferPointer(rebasing: bytes[(end + 1)...])
        for byte in query {
            guard byte >= 0x21 && byte <= 0x7E else { throw RequestTargetError(.forbiddenByte) }
            guard byte != UInt8(ascii: "#") else { throw RequestTargetError(.fragment) }
        }
        return (path, String(decoding: query, as: UTF8.self))
    }
}

/// Why a request-target was refused: a 400 with a stable `E93xx` code and a constant message.
public struct RequestTargetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of refusal, one code each.
    public enum Kind: Sendable, Equatable, CaseIterable {
        case notOriginForm, badEscape, encodedSeparator, backslash, forbiddenByte, pathParameter, fragment
        case climbsAboveRoot, encodedDotSegment, invalidUTF8
    }

    /// What was wrong with the target.
    public let kind: Kind

    /// An error of `kind`.
    public init(_ kind: Kind) { self.kind = kind }

    /// Always 400.
    public var status: Int { 400 }

    /// The wire error code, `E9321` to `E9330`.
    public var code: String {
        switch kind {
        case .notOriginForm: "E9321"
        case .badEscape: "E9322"
        case .encodedSeparator: "E9323"
        case .backslash: "E9324"
        case .forbiddenByte: "E9325"
        case .pathParameter: "E9326"
        case .fragment: "E9327"
        case .climbsAboveRoot: "E9328"
        case .encodedDotSegment: "E9329"
        case .invalidUTF8: "E9330"
        }
    }

    /// A short constant message; it never holds bytes of the target.
    public var message: String {
        switch kind {
        case .notOriginForm: "request target must be a path starting with /"
        case .badEscape: "invalid percent-escape in path"
        case .encodedSeparator: "encoded slash or backslash in path"
        case .backslash: "backslash in path"
        case .forbiddenByte: "control or non-ASCII byte in target"
        case .pathParameter: "path parameters (;) are not accepted"
        case .fragment: "fragment (#) in request target"
        case .climbsAboveRoot: "path climbs above the root"
        case .encodedDotSegment: "dot segment written with an encoded dot"
        case .invalidUTF8: "percent-encoded bytes are not valid UTF-8"
        }
    }

    public var description: String { "RequestTargetError(\(status) \(code): \(message))" }
}

/// The path half of `RequestTarget`: one pass over the bytes, writing the normalised path as it goes.
private enum PathNormaliser {
    /// The normalised form of `path`, which starts with `/` and holds no `?`.
    static func normalise(_ path: UnsafeRawBufferPointer) throws(RequestTargetError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(path.count)
        out.append(UInt8(ascii: "/"))
        // Where each kept segment starts in `out`, so that `..` can drop the last one.
        var starts: [Int] = []
        // Consecutive escapes of bytes 0x80 and above: checked as UTF-8 when the run ends.
        var highRun: [UInt8] = []
        var i = 1
        while true {
            let segmentStart = out.count
            var encodedDot = false
            var dots = 0
            var length = 0
            while i < path.count, path[i] != UInt8(ascii: "/") {
                let byte = path[i]
                if byte == UInt8(ascii: "%") {
                    let value = try escape(path, at: i)
                    i += 3
                    if value >= 0x80 {
                        highRun.append(value)
                        appendEscape(value, to: &out)
                    } else {
                        try endRun(&highRun)
                        try appendEscaped(value, to: &out)
                        if value == UInt8(ascii: ".") {
                            encodedDot = true
                            dots += 1
                        }
                    }
                } else {
                    try endRun(&highRun)
                    try check(byte)
                    out.append(byte)
                    if byte == UInt8(ascii: ".") { dots += 1 }
                    i += 1
                }
                length += 1
            }
            try endRun(&highRun)
            let last = i >= path.count
            i += 1

            // A segment of one or two dots is a step, not a name.
            if length > 0 && dots == length && dots <= 2 {
                guard !encodedDot else { throw RequestTargetError(.encodedDotSegment) }
                out.removeLast(out.count - segmentStart)
                if dots == 2 {
                    guard let previous = starts.popLast() else { throw RequestTargetError(.climbsAboveRoot) }
                    out.removeLast(out.count - previous)
                }
            } else if length > 0 {
                starts.append(segmentStart)
                if !last { out.append(UInt8(ascii: "/")) }
            }
            // An empty segment adds nothing: repeated slashes collapse, a trailing slash stays.
            if last { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The byte that the escape at `index` stands for.
    private static func escape(_ path: UnsafeRawBufferPointer, at index: Int) throws(RequestTargetError) -> UInt8 {
        guard index + 2 < path.count, let high = hex(path[index + 1]), let low = hex(path[index + 2]) else {
            throw RequestTargetError(.badEscape)
        }
        return high << 4 | low
    }

    /// Writes an escaped byte below 0x80: decoded when unreserved, refused when it is a separator or control,
    /// else kept as an escape with upper-case hex.
    private static func appendEscaped(_ value: UInt8, to out: inout [UInt8]) throws(RequestTargetError) {
        if isUnreserved(value) { return out.append(value) }
        if value == UInt8(ascii: "/") || value == UInt8(ascii: "\\") {
            throw RequestTargetError(.encodedSeparator)
        }
        if value < 0x20 || value == 0x7F { throw RequestTargetError(.forbiddenByte) }
        appendEscape(value, to: &out)
    }

    /// Refuses a literal path byte that some upstream would read differently from this gateway.
    private static func check(_ byte: UInt8) throws(RequestTargetError) {
        switch byte {
        case UInt8(ascii: "\\"): throw RequestTargetError(.backslash)
        case UInt8(ascii: ";"): throw RequestTargetError(.pathParameter)
        case UInt8(ascii: "#"): throw RequestTargetError(.fragment)
        case 0x21...0x7E: return
        default: throw RequestTargetError(.forbiddenByte)
        }
    }

    /// Ends a run of high escapes: it must be whole, strict UTF-8 (no overlong forms, no surrogates).
    private static func endRun(_ run: inout [UInt8]) throws(RequestTargetError) {
        guard !run.isEmpty else { return }
        defer { run.removeAll(keepingCapacity: true) }
        guard String(validating: run, as: UTF8.self) != nil else { throw RequestTargetError(.invalidUTF8) }
    }

    private static func appendEscape(_ value: UInt8, to out: inout [UInt8]) {
        let digits: StaticString = "0123456789ABCDEF"
        let base = digits.utf8Start
        out.append(UInt8(ascii: "%"))
        out.append(base[Int(value >> 4)])
        out.append(base[Int(value & 0x0F)])
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
