import PortalCore

extension JWTVerifier {
    /// Checks the registered claims against the configuration and the clock, and collects the result.
    func checkClaims(_ claims: JSONObject, algorithm: JWTAlgorithm, keyID: String?) throws(JWTError) -> VerifiedToken {
        let now = clock.unixSeconds()
        let leeway = configuration.leewaySeconds
        guard let expiresAt = try numericDate(claims, "exp") else { throw JWTError(.missingClaim, "exp") }
        // Compare as now - leeway < exp, so that a huge exp cannot overflow.
        guard now - leeway < expiresAt else { throw JWTError(.expired) }
        if let notBefore = try numericDate(claims, "nbf"), notBefore > now + leeway {
            throw JWTError(.notYetValid, "nbf")
        }
        let issuedAt = try numericDate(claims, "iat")
        if let issuedAt, issuedAt > now + leeway { throw JWTError(.notYetValid, "iat") }

        let issuer = try optionalString(claims, "iss", missing: .invalidClaim)
        if let expected = configuration.issuer {
            guard let issuer else { throw JWTError(.missingClaim, "iss") }
            guard issuer == expected else { throw JWTError(.badIssuer) }
        }
        if let expected = configuration.audience { try checkAudience(claims["aud"], expected: expected) }

        var scopes: [String] = []
        if let scope = try optionalString(claims, "scope", missing: .invalidClaim) {
            scopes = scope.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        for entry in try stringArray(claims, "scp") where !scopes.contains(entry) { scopes.append(entry) }
        return VerifiedToken(
            subject: try optionalString(claims, "sub", missing: .invalidClaim), scopes: scopes,
            roles: try stringArray(claims, "roles"), jwtID: try optionalString(claims, "jti", missing: .invalidClaim),
            expiresAt: expiresAt, issuedAt: issuedAt, issuer: issuer, keyID: keyID, algorithm: algorithm,
            claims: claims)
    }

    /// A NumericDate claim: an integer number of seconds. Fractions, strings and values beyond Int64 are refused.
    private func numericDate(_ claims: JSONObject, _ name: StaticString) throws(JWTError) -> Int64? {
        guard let value = claims[name.description] else { return nil }
        guard let seconds = value.numberValue?.int64 else { throw JWTError(.invalidClaim, name) }
        return seconds
    }

    private func checkAudience(_ claim: JSONValue?, expected: String) throws(JWTError) {
        switch claim {
        case nil: throw JWTError(.missingClaim, "aud")
        case .string(let audience)?:
            guard audience == expected else { throw JWTError(.badAudience) }
        case .array(let entries)?:
            var found = false
            for entry in entries {
                guard let audience = entry.stringValue else { throw JWTError(.invalidClaim, "aud") }
                if audience == expected { found = true }
            }
            guard found else { throw JWTError(.badAudience) }
        default: throw JWTError(.invalidClaim, "aud")
        }
    }

    /// An optional array-of-strings claim (or a single string); other shapes are refused.
    private func stringArray(_ claims: JSONObject, _ name: StaticString) throws(JWTError) -> [String] {
        switch claims[name.description] {
        case nil: return []
        case .string(let single)?: return [single]
        case .array(let entries)?:
            var out: [String] = []
            for entry in entries {
                guard let text = entry.stringValue else { throw JWTError(.invalidClaim, name) }
                out.append(text)
            }
            return out
        default: throw JWTError(.invalidClaim, name)
        }
    }

    /// An optional string member; any other type throws `wrongType`.
    func optionalString(_ object: JSONObject, _ name: StaticString, missing wrongType: JWTError.Code) throws(JWTError)
        -> String?
    {
        guard let value = object[name.description] else { return nil }
        guard let text = value.stringValue else { throw JWTError(wrongType, name) }
        return text
    }
}
