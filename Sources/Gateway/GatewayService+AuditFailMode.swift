import Audit
import HTTPCodec

extension GatewayService {
    /// 503 while `AUDIT_FAIL_MODE=closed` and no audit sink can write durably.
    public static let auditUnavailable = GatewayError(
        503, "E9960", "the audit trail cannot record durably; try again later")

    /// The refusal of every request while `AUDIT_FAIL_MODE=closed` and neither the audit file nor the store
    /// can write durably; nil when serving. Two atomic loads per request; the gateway serves again by itself
    /// as soon as the writer or the shipper sees a sink work again.
    func auditFailClosedResponse(_ exchange: Exchange) -> HTTPResponse? {
        guard settings.auditFailClosed, let audit, !audit.acceptsDurably else { return nil }
        var response = Self.auditUnavailable.response(requestID: exchange.requestID)
        response.headers.add("Retry-After", "1")
        return response
    }
}
