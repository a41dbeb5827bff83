/// A subject token whose signature, issuer, audience and time claims have been checked.
public struct VerifiedToken: Sendable {
    public let issuer: TrustedIssuer
    public let subject: String
    public let claims: JSONValue
    /// The effective expiry: `exp`, or an earlier Kubernetes `warnafter` (security-cases.md D2).
    public let expiresAt: Double
    public let tokenID: String?
    public let keyID: String?
    public let algorithm: JWSAlgorithm
}

extension UnverifiedToken {
    /// Header `typ` values accepted on a subject token (RFC 8725 §3.11, SPIFFE JWT-SVID §2.3); anything
    /// else, notably wif's own `at+jwt`, is another kind of token.
    public static let subjectTokenTypes: Set<String> = ["jwt", "jose", "application/jwt", "application/jose"]

    /// Verifies this token as one of `issuer`'s, with that issuer's keys, at the instant `now` (seconds
    /// since 1970), in the order of STYLE.md habit 6: type and algorithm, key by `kid`, signature, time
    /// claims, audience, subject.
    ///
    /// The caller has selected `issuer` by exact `iss` (``issuer``) and fetched `keys` from that issuer's
    /// configured source only. `acceptedTypes` are the lowercased header `typ` values allowed besides none
    /// (wif's own clients pass `at+jwt` to check wif's access tokens).
    public func verify(
        issuer: TrustedIssuer,
        keys: JWKSet,
        now: Double,
        acceptedTypes: Set<String> = subjectTokenTypes
    ) throws(ExchangeError) -> VerifiedToken {
        try checkHeader(for: issuer, acceptedTypes: acceptedTypes)
        guard let key = keys.key(for: keyID) else {
            throw ExchangeError(
                .keyNotFound,
                "subject token signing key is not known",
                detail: keyID.map { "no key with kid \($0.debugDescription) for issuer \(issuer.name)" }
                    ?? "token has no kid and the issuer has \(keys.keys.count) keys"
            )
        }
        guard key.accepts(algorithm) else {
            throw ExchangeError(
                .algorithmNotAllowed,
                "subject token algorithm is not allowed",
                detail: "alg \(algorithm.rawValue) does not fit the \(key.family.rawValue) key"
            )
        }
        guard key.isValidSignature(signature, over: Array(signingInput), algorithm: algorithm) else {
            throw ExchangeError(.signatureInvalid, "subject token signature is invalid")
        }
        return try checkClaims(issuer: issuer, key: key, now: now)
    }

    /// The checks that need no key: `iss` is the issuer's (code point for code point), the header `typ` is
    /// accepted and `alg` is in the issuer's allow-list. Run before any key lookup, so a token refused here
    /// never causes a key fetch.
    public func checkHeader(for issuer: TrustedIssuer, acceptedTypes: Set<String> = subjectTokenTypes) throws(ExchangeError) {
        guard issuer.issuer.isCodePointEqual(to: self.issuer) else {
            throw ExchangeError(.issuerNotTrusted, "subject token issuer is not trusted", detail: "iss does not belong to issuer \(issuer.name)")
        }
        if let type, !acceptedTypes.contains(type.lowercased()) {
            throw ExchangeError(.tokenTypeNotAccepted, "subject token type is not accepted", detail: "typ \(type.debugDescription)")
        }
        guard issuer.algorithms.contains(algorithm) else {
            throw ExchangeError(
                .algorithmNotAllowed,
                "subject token algorithm is not allowed",
                detail: "alg \(algorithm.rawValue) not allowed for issuer \(issuer.name)"
            )
        }
    }

    private func checkClaims(issuer: TrustedIssuer, key: VerificationKey, now: Double) throws(ExchangeError) -> VerifiedToken {
        let leeway = Double(issuer.leeway)
        guard let expClaim = claims["exp"] else { throw ExchangeError(.tokenClaimsInvalid, "subject token has no expiry") }
        let exp = try Self.numericDate(expClaim, "exp")
        let iat = try claims["iat"].map { (v) throws(ExchangeError) in try Self.numericDate(v, "iat") }
        let nbf = try claims["nbf"].map { (v) throws(ExchangeError) in try Self.numericDate(v, "nbf") }
        // An extended Kubernetes token (exp = iat + 1 year) names its real lifetime in warnafter: the
        // lifetime is always measured to it; it is also the expiry unless the issuer opts out (D2).
        let warnAfter = try claims.value(at: ClaimPath(["kubernetes.io", "warnafter"])).map { (v) throws(ExchangeError) in
            try Self.numericDate(v, "kubernetes.io warnafter")
        }
        let (effectiveExpiry, lifetimeEnd) = issuer.kubernetes.expiry(exp: exp, warnAfter: warnAfter)
        guard effectiveExpiry > now - leeway else {
            throw ExchangeError(.tokenExpired, "subject token expired", detail: "exp \(effectiveExpiry), now \(now)")
        }
        if let nbf, nbf > now + leeway {
            throw ExchangeError(.tokenNotYetValid, "subject token is not yet valid", detail: "nbf \(nbf), now \(now)")
        }
        if let iat, iat > now + leeway {
            throw ExchangeError(.tokenNotYetValid, "subject token is not yet valid", detail: "iat \(iat) is in the future, now \(now)")
        }
        if let maxAge = issuer.kubernetes.maxTokenAge {
            guard let iat else { throw .badClaims("iat missing; issuer \(issuer.name) limits the token age") }
            guard now - iat <= Double(maxAge) + leeway else {
                throw ExchangeError(.tokenExpired, "subject token is too old", detail: "issued \(now - iat) s ago; at most \(maxAge) s")
            }
        }
        if issuer.kubernetes.requirePodBinding, claims.value(at: ClaimPath(["kubernetes.io", "pod", "name"]))?.stringValue == nil {
            throw .badClaims("no pod binding (kubernetes.io.pod.name); issuer \(issuer.name) requires pod-bound tokens")
        }
        // The lifetime is measured to the effective expiry: an extended Kubernetes token (exp = iat + 1 year,
        // warnafter = iat + 3607) lives until warnafter (security-cases.md case 56, D2).
        let start = iat ?? nbf
        if let start, lifetimeEnd - start > Double(issuer.maxTokenLifetime) {
            throw ExchangeError(.tokenLifetimeTooLong, "subject token lifetime is too long", detail: "expiry - iat = \(lifetimeEnd - start) s")
        } else if start == nil, lifetimeEnd - now > Double(issuer.maxTokenLifetime) {
            throw ExchangeError(
                .tokenLifetimeTooLong,
                "subject token lifetime is too long",
                detail: "expires \(lifetimeEnd - now) s from now, no iat"
            )
        }

        let audiences: [String]
        switch claims["aud"] {
        case .string(let single)?: audiences = [single]
        case .array(let list)? where !list.isEmpty:
            let strings = list.compactMap(\.stringValue)
            guard strings.count == list.count else { throw .badClaims("aud has a non-string element") }
            audiences = strings
        case nil: throw ExchangeError(.audienceNotAccepted, "subject token audience is not accepted", detail: "aud missing")
        default: throw .badClaims("aud is not a string or a non-empty array of strings")
        }
        guard audiences.contains(where: { aud in issuer.audiences.contains { $0.isCodePointEqual(to: aud) } }) else {
            throw ExchangeError(
                .audienceNotAccepted,
                "subject token audience is not accepted",
                detail: "aud \(audiences) not accepted by issuer \(issuer.name)"
            )
        }

        guard let subClaim = claims["sub"] else { throw .badClaims("sub missing") }
        guard let subject = subClaim.stringValue, TokenLimits.isUsableSubject(subject) else { throw .badClaims("sub is not a usable string") }

        var tokenID: String?
        if let jti = claims["jti"] {
            guard let s = jti.stringValue else { throw .badClaims("jti is not a string") }
            tokenID = s
        }
        return VerifiedToken(
            issuer: issuer,
            subject: subject,
            claims: claims,
            expiresAt: effectiveExpiry,
            tokenID: tokenID,
            keyID: keyID,
            algorithm: algorithm
        )
    }

    /// A NumericDate (RFC 7519 §2): a JSON number, fractions allowed, within a sane range so that no later
    /// arithmetic or integer conversion can trap (security-cases.md cases 52–54).
    private static func numericDate(_ value: JSONValue, _ name: String) throws(ExchangeError) -> Double {
        guard case .number(let seconds) = value else { throw .badClaims("\(name) is not a number") }
        guard seconds > 0, seconds < 32_503_680_000 else { throw .badClaims("\(name) is out of range") }
        return seconds
    }
}
