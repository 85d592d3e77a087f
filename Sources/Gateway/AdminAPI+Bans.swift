import Audit
import PortalCore

/// `GET /admin/bans`, `POST /admin/bans` and `DELETE /admin/bans/{address}` (the address percent-encoded, e.g.
/// `2001%3Adb8%3A%3A%2F64`). Locked accounts are listed too, with `"kind":"account"` and the key `account:<name>`
/// as their address, and unlocked the same way (`DELETE /admin/bans/account%3Aalice`). With Redis they act on the
/// bans every gateway shares; while Redis cannot answer, they fail with 503 E9410 (a ban made then still holds on
/// this gateway).
extension AdminAPI {
    static let sharedBansUnavailable = GatewayError(
        503, "E9410", "the shared ban store (Redis) cannot answer now; try again")
    static let badBan = GatewayError(
        400, "E9411",
        "a ban needs \"address\" (an IP address or an IPv6 /64) and \"seconds\" (1-31536000); \"reason\" at most 200 "
            + "of letters, digits, space . , _ -")

    static func isReasonByte(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte)
            || byte == 0x20 || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-")
    }
    static let bansFull = GatewayError(503, "E9412", "the ban list is full")

    func bans(_ call: AdminCall, _ rest: [Substring]) {
        guard let bruteForce = gateway.auth?.bruteForce else { return call.fail(Self.notFound) }
        switch (rest.count, call.request.method) {
        case (0, "GET"):
            guard case .success(let entries) = bruteForce.bans.list() else {
                return call.fail(Self.sharedBansUnavailable)
            }
            var body: [UInt8] = Array(#"{"bans":["#.utf8)
            for (index, entry) in entries.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                let isAccount = entry.key.hasPrefix(BruteForceGuard.accountPrefix)
                body += Array(#"{"kind":"\#(isAccount ? "account" : "address")","address":"#.utf8)
                JSONEscaping.appendQuoted(entry.key, to: &body)
                body += Array(#","reason":"#.utf8)
                JSONEscaping.appendQuoted(entry.reason, to: &body)
                body += Array(#","remaining_seconds":\#(entry.remainingSeconds)}"#.utf8)
            }
            call.json(200, body + Array("]}".utf8))
        case (0, "POST"):
            addBan(call, bruteForce)
        case (1, "DELETE"):
            guard let given = OAuthParameters.decode(ArraySlice(rest[0].utf8)), !given.isEmpty else {
                return call.fail(Self.notFound)
            }
            // Any spelling of a banned client's address lifts its ban; other keys (accounts) as given.
            let address = ClientKey.banKey(operatorText: given) ?? given
            switch bruteForce.bans.lift(address) {
            case .failure: return call.fail(Self.sharedBansUnavailable)
            case .success(false): return call.fail(Self.notFound)
            case .success(true): break
            }
            if address.hasPrefix(BruteForceGuard.accountPrefix) {
                bruteForce.forgetFailures(account: String(address.dropFirst(BruteForceGuard.accountPrefix.count)))
            } else {
                bruteForce.forgetFailures(address: address)
            }
            record(.banLifted, call, reason: address)
            call.json(200, Array(#"{"lifted":\#(JSONEscaping.quoted(address))}"#.utf8))
        case (0, _), (1, _):
            call.fail(Self.methodNotAllowed)
        default:
            call.fail(Self.notFound)
        }
    }

    /// `POST /admin/bans`: bans an address (an IPv4 or IPv6 address in any spelling, an IPv6 one as its /64, or
    /// a /64 key) for `seconds`, audited as `ban.added` with the reason `admin:<reason>`. The reason is plain
    /// words (letters, digits, space, `.`, `,`, `_`, `-`), so it cannot forge fields of the audit reason.
    private func addBan(_ call: AdminCall, _ bruteForce: BruteForceGuard) {
        guard let body = call.object() else { return }
        let reason = body["reason"]?.stringValue ?? "manual"
        guard let given = body["address"]?.stringValue, (1...256).contains(given.utf8.count),
            let address = ClientKey.banKey(operatorText: given),
            let seconds = body["seconds"]?.numberValue?.int64, (1...31_536_000).contains(seconds),
            reason.utf8.count <= 200, reason.utf8.allSatisfy(Self.isReasonByte)
        else { return call.fail(Self.badBan) }
        guard bruteForce.bans.ban(address, forSeconds: Int(seconds), reason: "admin:" + reason) else {
            return call.fail(Self.bansFull)
        }
        bruteForce.added?.increment()
        record(.banAdded, call, reason: "address:\(address);seconds:\(seconds);admin:\(reason)")
        var out: [UInt8] = Array(#"{"banned":"#.utf8)
        JSONEscaping.appendQuoted(address, to: &out)
        out += Array(#","seconds":\#(seconds)}"#.utf8)
        call.json(201, out)
    }
}
