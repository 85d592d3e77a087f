import HTTPCodec
import PortalCore

/// The parameters of a token or revocation request: from an `application/x-www-form-urlencoded` body (what
/// RFC 6749 prescribes) or, as an extension, a JSON object of strings.
///
/// Parameters sent without a value count as absent (RFC 6749 §3.1); a parameter given twice is an error, and
/// so is one in the URL's query: credentials never travel in URLs, which end up in logs.
struct OAuthParameters: Sendable {
    private(set) var values: [String: String] = [:]

    subscript(name: String) -> String? { values[name] }

    /// Reads the body of `request` as its `Content-Type` says.
    static func parse(_ request: HTTPRequest) -> Result<OAuthParameters, OAuthError> {
        if let query = request.query, !query.isEmpty { return .failure(.parametersInQuery) }
        let types = request.headers.all("Content-Type")
        guard types.count == 1 else { return .failure(.unsupportedMediaType) }
        let mediaType = types[0].split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces().lowercased() }
        switch mediaType {
        case "application/x-www-form-urlencoded"?: return form(request.body)
        case "application/json"?: return json(request.body)
        default: return .failure(.unsupportedMediaType)
        }
    }

    /// `name=value&…` with `+` for space and `%XX` escapes of UTF-8.
    static func form(_ body: [UInt8]) -> Result<OAuthParameters, OAuthError> {
        var parameters = OAuthParameters()
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), !name.isEmpty,
                let value = parts.count == 2 ? decode(parts[1]) : ""
            else { return .failure(.invalidRequest) }
            guard parameters.add(name, value) else { return .failure(.invalidRequest) }
        }
        return .success(parameters)
    }

    /// A JSON object whose members are strings.
    static func json(_ body: [UInt8]) -> Result<OAuthParameters, OAuthError> {
        guard let object = (try? JSONParser().parse(body))?.objectValue else { return .failure(.invalidRequest) }
        var parameters = OAuthParameters()
        for member in object.members {
            guard let value = member.value.stringValue, parameters.add(member.name, value) else {
                return .failure(.invalidRequest)
            }
        }
        return .success(parameters)
    }

    /// Adds a parameter; false when it was there already. Empty values count as absent.
    private mutating func add(_ name: String, _ value: String) -> Bool {
        guard values[name] == nil else { return false }
        if !value.isEmpty { values[name] = value }
        return true
    }

    /// Percent-decodes one form component; nil for a bad escape, a control byte or invalid UTF-8.
    static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        guard !out.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        return String(validating: out, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The client's id and secret: from HTTP Basic (RFC 6749 §2.3.1, each part form-encoded) or from the body's
    /// `client_id` and `client_secret`; both at once is an error. nil when neither is present.
    func clientCredentials(_ headers: HTTPHeaders) -> Result<(id: String, secret: String)?, OAuthError> {
        let authorizations = headers.all("Authorization")
        guard authorizations.count <= 1 else { return .failure(.invalidRequest) }
        let fromBody = self["client_secret"].map { (self["client_id"] ?? "", $0) }
        guard let header = authorizations.first else { return .success(fromBody.map { (id: $0.0, secret: $0.1) }) }
        guard fromBody == nil, header.count > 6, HTTPHeaders.namesEqual(String(header.prefix(6)), "basic "),
            let decoded = Base64Standard.decode(header.dropFirst(6).trimmingSpaces())
        else { return .failure(.invalidClient) }
        let parts = decoded.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let id = Self.decode(parts[0]), let secret = Self.decode(parts[1]) else {
            return .failure(.invalidClient)
        }
        return .success((id, secret))
    }
}

/// Standard base64 with padding, for HTTP Basic.
enum Base64Standard {
    static func decode(_ text: Substring) -> [UInt8]? {
        var trimmed = Substring(text)
        while trimmed.hasSuffix("=") { trimmed = trimmed.dropLast() }
        guard text.count % 4 == 0, text.count - trimmed.count <= 2 else { return nil }
        guard !trimmed.contains("-"), !trimmed.contains("_") else { return nil }
        return Base64URL.decode(String(trimmed.map { $0 == "+" ? "-" : ($0 == "/" ? "_" : $0) }))
    }
}
