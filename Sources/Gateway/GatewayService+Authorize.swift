import Audit
import Config

/// The authorization step: the route's rule for the method, deny by default.
///
/// A method that names neither scopes nor roles (and is not on a public route) is denied to everyone, so a
/// forgotten rule never opens a route. Scopes are all required; of the roles, one suffices. A denial is 403
/// (the caller is known but lacks the right), counted in `unauthorized_access_total` and audited.
extension GatewayService {
    /// nil when `identity` may use `method` on `route`, else the error to answer.
    func authorize(_ identity: ConsumerIdentity, route: Route, method: String, _ exchange: Exchange) -> GatewayError? {
        let denial: (GatewayError, String)?
        if !route.hasRule(for: method) {
            denial = (.noRule, "no_rule")
        } else if let missing = (route.requiredScopes(for: method) ?? []).first(where: { !identity.holds(scope: $0) }) {
            denial = (.insufficientScope, "missing_scope:\(missing)")
        } else if !identity.holdsAny(of: route.requiredRoles(for: method)) {
            denial = (.missingRole, "missing_role")
        } else {
            denial = nil
        }
        guard let (error, reason) = denial else {
            record(.authSuccess, outcome: .success, exchange, reason: identity.method.rawValue)
            return nil
        }
        metrics.unauthorizedAccess.increment()
        record(.authzDenied, outcome: .denied, exchange, reason: reason)
        return error
    }
}
