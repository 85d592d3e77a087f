import Audit
import Auth
import PortalCore
import Store

/// `/admin/keys` and `/admin/revocations`; runs on a worker.
extension AdminAPI {
    func keys(_ call: AdminCall, _ rest: [Substring]) {
        let now = credentials.clock.unixSeconds()
        do {
            switch (rest.count, call.request.method) {
            case (0, "GET"):
                var body: [UInt8] = Array(#"{"keys":["#.utf8)
                for (index, key) in try credentials.store.apiKeys().enumerated() {
                    if index > 0 { body.append(UInt8(ascii: ",")) }
                    Self.append(key, now: now, to: &body)
                }
                call.json(200, body + Array("]}".utf8))
            case (0, "POST"):
                try create(call, now: now)
            case (2, "POST") where rest[1] == "rotate":
                try rotate(call, id: String(rest[0]), now: now)
            case (1, "DELETE"):
                let id = String(rest[0])
                guard APIKeyFormat.isKeyID(id), try credentials.store.revokeAPIKey(id: id, at: now) else {
                    return call.fail(Self.notFound)
                }
                credentials.forgetKey(id: id)
                record(.keyRevoked, call, reason: id)
                call.json(200, Array(#"{"revoked":\#(JSONEscaping.quoted(id))}"#.utf8))
            case (0, _), (1, _):
                call.fail(Self.methodNotAllowed)
            case (2, _) where rest[1] == "rotate":
                call.fail(Self.methodNotAllowed)
            default:
                call.fail(Self.notFound)
            }
        } catch {
            call.fail(Self.storeFailed)
        }
    }

    private func create(_ call: AdminCall, now: Int64) throws {
        guard let body = call.object() else { return }
        guard let name = body["name"]?.stringValue, let scopes = Self.strings(body["scopes"]),
            let roles = Self.strings(body["roles"])
        else { return call.fail(Self.badBody) }
        var lifetime: Int?
        if let value = body["expires_in"] {
            guard let seconds = value.numberValue?.int64, let fits = Int(exactly: seconds) else {
                return call.fail(Self.badBody)
            }
            lifetime = fits
        }
        let issued: APIKeyIssuer.Issued
        do {
            issued = try APIKeyIssuer.create(
                name: name, scopes: body["scopes"] == nil ? nil : scopes, roles: body["roles"] == nil ? nil : roles,
                lifetimeSeconds: lifetime, policy: gateway.auth?.policy ?? .defaultPolicy,
                hasher: credentials.hasher, now: now)
        } catch {
            return call.fail(GatewayError(400, "E9342", "the key cannot be granted: " + error.description))
        }
        // One consumer, one key: a second would be a credential nobody rotates (a rotation keeps the name).
        let inserted = try keyCreation.withLock { _ -> Bool in
            guard try !credentials.store.apiKeys().contains(where: { $0.name == name && $0.isUsable(at: now) })
            else { return false }
            try credentials.store.insertAPIKey(issued.record)
            return true
        }
        guard inserted else { return call.fail(Self.duplicateKeyName) }
        credentials.remember(issued.record)
        record(.keyCreated, call, reason: issued.record.id)
        call.json(201, Self.issuedBody(issued, extra: ""))
    }

    private func rotate(_ call: AdminCall, id: String, now: Int64) throws {
        guard let body = call.object(allowEmpty: true) else { return }
        var grace = rotationGraceSeconds
        if let value = body["grace_seconds"] {
            guard let seconds = value.numberValue?.int64, (0...31_536_000).contains(seconds) else {
                return call.fail(Self.badBody)
            }
            grace = Int(seconds)
        }
        guard APIKeyFormat.isKeyID(id), let previous = try credentials.store.apiKey(id: id), previous.isUsable(at: now)
        else { return call.fail(Self.notFound) }
        let issued = APIKeyIssuer.replacement(for: previous, hasher: credentials.hasher, now: now)
        let until = now + Int64(grace)
        guard try credentials.store.rotateAPIKey(id: id, replacement: issued.record, graceUntil: until, at: now),
            let old = try credentials.store.apiKey(id: id)
        else { return call.fail(Self.notFound) }
        credentials.remember(issued.record)
        credentials.remember(old)
        record(.keyRotated, call, reason: "\(id)->\(issued.record.id)")
        let extra = #","previous_id":\#(JSONEscaping.quoted(id)),"previous_valid_until":\#(old.graceUntil ?? until)"#
        call.json(201, Self.issuedBody(issued, extra: extra))
    }

    func revokeToken(_ call: AdminCall) {
        guard let body = call.object() else { return }
        guard let jti = body["jti"]?.stringValue, (1...256).contains(jti.utf8.count),
            let until = body["expires_at"]?.numberValue?.int64
        else { return call.fail(Self.badBody) }
        credentials.revoke(tokenID: jti, untilUnixSeconds: until, reason: "admin")
        record(.tokenRevoked, call, reason: "admin")
        call.json(201, Array(#"{"revoked":true}"#.utf8))
    }

    /// A key as listed: never its secret or hash.
    static func append(_ key: APIKeyRecord, now: Int64, to out: inout [UInt8]) {
        out += Array(#"{"id":"#.utf8)
        JSONEscaping.appendQuoted(key.id, to: &out)
        out += Array(#","name":"#.utf8)
        JSONEscaping.appendQuoted(key.name, to: &out)
        out += Array(#","scopes":"#.utf8)
        appendList(key.scopes, to: &out)
        out += Array(#","roles":"#.utf8)
        appendList(key.roles, to: &out)
        let optional = { (value: Int64?) in value.map(String.init) ?? "null" }
        out += Array(
            (#","created_at":\#(key.createdAt),"expires_at":\#(optional(key.expiresAt)),"#
                + #""revoked_at":\#(optional(key.revokedAt)),"grace_until":\#(optional(key.graceUntil)),"#
                + #""usable":\#(key.isUsable(at: now))}"#).utf8)
    }

    private static func issuedBody(_ issued: APIKeyIssuer.Issued, extra: String) -> [UInt8] {
        var out: [UInt8] = Array(#"{"key":"#.utf8)
        JSONEscaping.appendQuoted(issued.key, to: &out)
        out += Array(#","api_key":"#.utf8)
        append(issued.record, now: issued.record.createdAt, to: &out)
        return out + Array((extra + "}").utf8)
    }

    static func appendList(_ list: [String], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, item) in list.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONEscaping.appendQuoted(item, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// An optional array of strings: [] when absent, nil when present but not strings.
    static func strings(_ value: JSONValue?) -> [String]? {
        guard let value else { return [] }
        guard let list = value.arrayValue else { return nil }
        var out: [String] = []
        for item in list {
            guard let text = item.stringValue else { return nil }
            out.append(text)
        }
        return out
    }
}
