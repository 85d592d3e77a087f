import Auth
import HTTPCodec
import PortalCore

/// An error answer of the L01 API: status, stable code, fixed message, and the offending field.
///
/// Messages are fixed text chosen here; input is never echoed except a field or parameter
/// name, which is cut to 64 bytes.
public struct DataLayerError: Error, Sendable, Equatable {
    /// The HTTP status, for example 400.
    public let status: Int
    /// The stable error code, for example `E9302`.
    public let code: String
    public let message: String
    /// The body field or query parameter at fault, when there is one.
    public let field: String?

    init(status: Int, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field.map { String($0.utf8.prefix(64)) ?? "" }
    }

    static let notFound = DataLayerError(status: 404, code: "E9001", message: "no such resource")
    static let unauthorized = DataLayerError(status: 401, code: "E9101", message: "a valid X-Service-Key is required")
    static let identityRefused = DataLayerError(
        status: 401, code: "E9109", message: "the caller's identity is not signed by the gateway, or is stale")
    static let unsupportedMediaType = DataLayerError(
        status: 415, code: "E9315", message: "Content-Type must be application/json")
    static let bodyTooLarge = DataLayerError(status: 413, code: "E9305", message: "request body is too large")
    static let auditScopeRequired = DataLayerError(
        status: 403, code: "E9360", message: "reading the audit trail needs scope audit:read")
    static let auditIdentityRequired = DataLayerError(
        status: 403, code: "E9361",
        message: "reading the audit trail needs identities signed by the gateway (L01_IDENTITY_KEY)")
    static let storeFailed = DataLayerError(status: 500, code: "E9901", message: "the event store failed")
    static let notReady = DataLayerError(status: 503, code: "E9902", message: "the event store is not ready")
    static let unavailable = DataLayerError(
        status: 503, code: "E9903", message: "the store is unavailable or too slow; retry later")
    static let nulInText = DataLayerError(
        status: 400, code: "E9353", message: "a text value holds a NUL character, which the store cannot keep")
    static let auditGap = DataLayerError(
        status: 409, code: "E9351",
        message: "the records do not continue the stored chain: earlier records are missing",
        field: "records")
    static let auditConflict = DataLayerError(
        status: 409, code: "E9352",
        message: "the records contradict the stored chain (another hash for a stored sequence, or a broken link)",
        field: "records")

    static func methodNotAllowed(_ allow: String) -> DataLayerError {
        DataLayerError(status: 405, code: "E9002", message: "method not allowed; allowed: \(allow)")
    }

    static func invalidBody(_ message: String) -> DataLayerError {
        DataLayerError(status: 400, code: "E9301", message: message)
    }

    static func missing(_ field: String) -> DataLayerError {
        DataLayerError(status: 400, code: "E9302", message: "a required field is missing", field: field)
    }

    static func wrongType(_ field: String, expected: String) -> DataLayerError {
        DataLayerError(status: 400, code: "E9303", message: "the field must be \(expected)", field: field)
    }

    static func invalidValue(_ field: String, _ message: String) -> DataLayerError {
        DataLayerError(status: 400, code: "E9304", message: message, field: field)
    }

    static func tooLarge(_ field: String, limit: Int) -> DataLayerError {
        DataLayerError(status: 400, code: "E9305", message: "the field is larger than \(limit) bytes", field: field)
    }

    static func tooDeep(limit: Int) -> DataLayerError {
        DataLayerError(status: 400, code: "E9306", message: "the body nests deeper than \(limit) levels")
    }

    static func unknownField(_ field: String) -> DataLayerError {
        DataLayerError(status: 400, code: "E9307", message: "unknown field", field: echoable(field))
    }

    static func invalidParameter(_ name: String, _ message: String) -> DataLayerError {
        DataLayerError(status: 400, code: "E9308", message: message, field: name)
    }

    static func unknownParameter(_ name: String) -> DataLayerError {
        DataLayerError(status: 400, code: "E9309", message: "unknown query parameter", field: echoable(name))
    }

    /// A request id worth echoing: one of `ClientRequestID`'s shapes (the gateway's ids are 32 hex digits).
    static func echoableRequestID(_ id: String) -> String? {
        ClientRequestID.isSafe(id) ? id : nil
    }

    /// A client-chosen name, echoed only when it is a plain identifier (1–32 of `a-z A-Z 0-9 _ . -`):
    /// anything else might be a credential pasted in the wrong place, and errors never echo those.
    static func echoable(_ name: String) -> String? {
        isPlain(name, maxBytes: 32) ? name : nil
    }

    private static func isPlain(_ text: String, maxBytes: Int) -> Bool {
        let utf8 = text.utf8
        guard (1...maxBytes).contains(utf8.count) else { return false }
        return utf8.allSatisfy { b in
            (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
        }
    }

    static let erasureForbidden = DataLayerError(
        status: 403, code: "E9371", message: "erasing a subject needs the scope subjects:erase")
    static let invalidSubject = DataLayerError(
        status: 400, code: "E9372",
        message: "the subject id must be 1-128 of [A-Za-z0-9._:-], not starting with erased: or subject:", field: "id")
    static let erasureIdentityRequired = DataLayerError(
        status: 403, code: "E9375",
        message: "erasing a subject needs identities signed by the gateway (L01_IDENTITY_KEY)")
    static let erasureUnavailable = DataLayerError(
        status: 501, code: "E9373", message: "this data layer has no master key: nothing is encrypted to erase")
    static let undecryptable = DataLayerError(
        status: 500, code: "E9374",
        message: "a stored event could not be decrypted: its row or key was altered, or the master key differs")

    static let invalidID = DataLayerError(
        status: 400, code: "E9310", message: "the event id must be a UUID", field: "id")

    /// The JSON response: `{"error":{"code","message","field"?}}`, plus `Allow` for a 405.
    func response(allow: String? = nil, requestID: String? = nil) -> HTTPResponse {
        var body: [UInt8] = Array("{\"error\":{\"code\":".utf8)
        JSONEscaping.appendQuoted(code, to: &body)
        body.append(contentsOf: Array(",\"message\":".utf8))
        JSONEscaping.appendQuoted(message, to: &body)
        if let field {
            body.append(contentsOf: Array(",\"field\":".utf8))
            JSONEscaping.appendQuoted(field, to: &body)
        }
        if let requestID {
            body.append(contentsOf: Array(",\"request_id\":".utf8))
            JSONEscaping.appendQuoted(requestID, to: &body)
        }
        body.append(contentsOf: Array("}}".utf8))
        var headers = HTTPHeaders()
        if let allow { headers.add("Allow", allow) }
        return .json(status: status, body: body, headers: headers)
    }
}
