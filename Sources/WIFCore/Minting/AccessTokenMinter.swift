/// Builds and signs RFC 9068 access tokens.
public struct AccessTokenMinter: Sendable {
    /// wif's own issuer identifier (`iss` of every issued token).
    public let issuerURL: String
    public let signingKey: SigningKey
    /// The JOSE header of every token, `{"alg":"ES256","kid":…,"typ":"at+jwt"}`, encoded once.
    private let encodedHeader: String

    public init(issuerURL: String, signingKey: SigningKey) {
        self.issuerURL = issuerURL
        self.signingKey = signingKey
        let header: JSONValue = ["alg": "ES256", "typ": "at+jwt", "kid": .string(signingKey.keyID)]
        self.encodedHeader = Base64URL.encode(header.serialized())
    }

    /// The claims of the token for `grant` with token id `tokenID`. `wif_policy` names the admitting policy and
    /// `wif_config` the trust-config version, so that a resource server's log leads back to the decision.
    public func claims(for grant: IssuedGrant, tokenID: String, configVersion: String? = nil) -> JSONValue {
        var claims = grant.mappedClaims
        claims.reserveCapacity(claims.count + 12)
        claims["iss"] = .string(issuerURL)
        claims["sub"] = .string(grant.subject)
        claims["aud"] = grant.audiences.count == 1 ? .string(grant.audiences[0]) : .array(grant.audiences.map(JSONValue.string))
        claims["iat"] = .number(Double(grant.issuedAt))
        claims["nbf"] = .number(Double(grant.issuedAt))
        claims["exp"] = .number(Double(grant.expiresAt))
        claims["jti"] = .string(tokenID)
        claims["client_id"] = .string(grant.clientID)
        if !grant.scopes.isEmpty { claims["scope"] = .string(grant.scopes.joined(separator: " ")) }
        claims["act"] = grant.actor
        claims["wif_policy"] = .string(grant.policy.name)
        claims["wif_config"] = configVersion.map(JSONValue.string)
        return .object(claims)
    }

    /// Signs the token for `grant`: header `{"alg":"ES256","kid":…,"typ":"at+jwt"}`.
    public func mint(_ grant: IssuedGrant, tokenID: String = AccessTokenMinter.newTokenID(), configVersion: String? = nil) throws -> String {
        try signingKey.sign(encodedHeader: encodedHeader, claims: claims(for: grant, tokenID: tokenID, configVersion: configVersion))
    }

    /// A random 128-bit token id: two draws from the system's generator (each a `getrandom` call; drawing
    /// byte by byte took 16 of them per token).
    public static func newTokenID() -> String {
        var generator = SystemRandomNumberGenerator()
        var words = (generator.next(), generator.next())
        return withUnsafeBytes(of: &words) { Base64URL.encode($0) }
    }
}
