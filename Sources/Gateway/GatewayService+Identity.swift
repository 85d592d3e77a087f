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
        let fields = ConsumerSignature.Fields(
            timestamp: clock.unixSeconds(), requestID: exchange.requestID, method: method, target: target,
            consumerID: identity?.subject ?? "", scopes: identity?.scopeHeader ?? "")
        headers.add(ConsumerSignature.timestampHeader, String(fields.timestamp))
        headers.add(ConsumerSignature.signatureHeader, signature.sign(fields))
    }
}
