/// Issuer keys held in memory: `wif test`'s ephemeral keys, or the key set `wif explain --offline` reads
/// from a file. Nothing is fetched.
public struct InMemoryKeySource: IssuerKeySource {
    /// Keys per ``TrustedIssuer/name``.
    public let keysByIssuer: [String: JWKSet]
    /// The keys of every issuer not in ``keysByIssuer``, if any.
    public let fallback: JWKSet?

    public init(_ keysByIssuer: [String: JWKSet] = [:], fallback: JWKSet? = nil) {
        self.keysByIssuer = keysByIssuer
        self.fallback = fallback
    }

    public func keys(for issuer: TrustedIssuer, keyID: String?) async throws(ExchangeError) -> JWKSet {
        guard let keys = keysByIssuer[issuer.name] ?? fallback else {
            throw ExchangeError(
                .issuerKeysUnavailable,
                "issuer keys are temporarily unavailable",
                detail: "no keys in memory for issuer \(issuer.name)"
            )
        }
        return keys
    }
}
