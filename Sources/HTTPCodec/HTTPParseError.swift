import PortalCore

/// Why a message was refused, with the status and `E93xx` code that answer it.
///
/// Messages are constant text: they never echo the offending bytes back.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        case badStartLine, badFieldLine, obsFold, badLineEnding, badHost, badContentLength
        case conflictingFraming, badTransferEncoding, badChunk, targetTooLong, headerTooLarge
        case bodyTooLarge, unsupportedCoding, unsupportedVersion, truncated, expectationFailed
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    /// The status that answers this error: 400, 413, 414, 417, 431, 501 or 505.
    public var status: Int {
        switch kind {
        case .targetTooLong: 414
        case .headerTooLarge: 431
        case .bodyTooLarge: 413
        case .expectationFailed: 417
        case .unsupportedCoding: 501
        case .unsupportedVersion: 505
        default: 400
        }
    }

    /// The wire error code, in the validation range `E93xx`.
    public var code: String {
        switch kind {
        case .badStartLine: "E9301"
        case .badFieldLine: "E9302"
        case .obsFold: "E9303"
        case .badLineEnding: "E9304"
        case .badHost: "E9305"
        case .badContentLength: "E9306"
        case .conflictingFraming: "E9307"
        case .badTransferEncoding: "E9308"
        case .badChunk: "E9309"
        case .targetTooLong: "E9310"
        case .headerTooLarge: "E9311"
        case .bodyTooLarge: "E9312"
        case .unsupportedCoding: "E9313"
        case .unsupportedVersion: "E9314"
        case .truncated: "E9315"
        case .expectationFailed: "E9317"
        }
    }

    /// A short constant message for the client and the log.
    public var message: String {
        switch kind {
        case .badStartLine: "malformed start line"
        case .badFieldLine: "malformed header field"
        case .obsFold: "folded header lines are not accepted"
        case .badLineEnding: "lines must end in CRLF"
        case .badHost: "exactly one valid Host header is required"
        case .badContentLength: "invalid Content-Length"
        case .conflictingFraming: "both Content-Length and Transfer-Encoding"
        case .badTransferEncoding: "invalid Transfer-Encoding"
        case .badChunk: "malformed chunked body"
        case .targetTooLong: "request target too long"
        case .headerTooLarge: "header section too large"
        case .bodyTooLarge: "body too large"
        case .unsupportedCoding: "transfer coding not implemented"
        case .unsupportedVersion: "HTTP version not supported"
        case .truncated: "message ended early"
        case .expectationFailed: "only the 100-continue expectation is supported"
        }
    }

    public var description: String { "HTTPParseError(\(status) \(code): \(message))" }

    /// The JSON error response for this error: `{"error":{"code":"E93xx","message":"..."}}`.
    public func response() -> HTTPResponse {
        var body: [UInt8] = []
        body.reserveCapacity(80)
        body.append(contentsOf: #"{"error":{"code":"#.utf8)
        JSONEscaping.appendQuoted(code, to: &body)
        body.append(contentsOf: #","message":"#.utf8)
        JSONEscaping.appendQuoted(message, to: &body)
        body.append(contentsOf: "}}".utf8)
        return .json(status: status, body: body)
    }
}
