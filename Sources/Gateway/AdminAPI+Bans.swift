import Audit
import PortalCore

/// `GET /admin/bans` and `DELETE /admin/bans/{address}` (the address percent-encoded, e.g. `2001%3Adb8%3A%3A%2F64`).
extension AdminAPI {
    func bans(_ call: AdminCall, _ rest: [Substring]) {
        guard let bruteForce = gateway.auth?.bruteForce else { return call.fail(Self.notFound) }
        switch (rest.count, call.request.method) {
        case (0, "GET"):
            var body: [UInt8] = Array(#"{"bans":["#.utf8)
            for (index, entry) in bruteForce.bans.list().enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                body += Array(#"{"address":"#.utf8)
                JSONEscaping.appendQuoted(entry.key, to: &body)
                body += Array(#","reason":"#.utf8)
                JSONEscaping.appendQuoted(entry.reason, to: &body)
                body += Array(#","remaining_seconds":\#(entry.remainingSeconds)}"#.utf8)
            }
            call.json(200, body + Array("]}".utf8))
        case (1, "DELETE"):
            guard let address = OAuthParameters.decode(ArraySlice(rest[0].utf8)), !address.isEmpty,
                bruteForce.bans.lift(address)
            else { return call.fail(Self.notFound) }
            bruteForce.tracker.forgetFailures(address: address)
            record(.banLifted, call, reason: address)
            call.json(200, Array(#"{"lifted":\#(JSONEscaping.quoted(address))}"#.utf8))
        case (0, _), (1, _):
            call.fail(Self.methodNotAllowed)
        default:
            call.fail(Self.notFound)
        }
    }
}
