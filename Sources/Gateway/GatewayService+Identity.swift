import Auth
import HTTPCodec
import Net

/// Tells an upstream who called in a way it can check: `X-Consumer-ID` and `X-Consumer-Scopes` (set by the proxy
/// step; client copies never pass), plus, for upstreams with an identity key, `X-Consumer-Timestamp` and
/// `X-Consumer-Signature` over them and the request (see `ConsumerSignature`). Anonymous calls on public routes
/// are signed too, with an empty consumer, so an upstream can refuse anything the gateway did not vouch for.
extension GatewayService {
    func signIdentity(
        _ headers: inout HTTPHeaders, _ identity: ConsumerIdentity?, method: String, target: String,
        address: UpstreamAddress, _ exchange: Exchange
    ) {
        guard let signature = settings.identitySignature(for: address) else { return }
        // One nonce per forwarded request: a retry on a fresh connection resends this same head, so it is the
        // same request to the upstream (sent again only when the first connection carried no answer at all).
        let fields = ConsumerSignature.Fields(
            timestamp: clock.unixSeconds(), nonce: identityNonces.next(), requestID: exchange.requestID,
            method: method, target: target, consumerID: identity?.subject ?? "", scopes: identity?.scopeHeader ?? "")
        headers.add(ConsumerSignature.timestampHeader, String(fields.timestamp))
        headers.add(ConsumerSignature.nonceHeader, fields.nonce)
        headers.add(ConsumerSignature.signatureHeader, signature.sign(fields))
    }
}
