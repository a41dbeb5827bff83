/// A complete, checked trust configuration: the issuers wif trusts and the policies that grant access.
///
/// Built only by ``TrustConfigLoader`` (or directly in tests) and immutable afterwards, so a request always
/// sees one whole snapshot.
public struct TrustConfig: Sendable {
    public let issuers: [TrustedIssuer]
    /// Policies in load order (files sorted by name, then order within each file); the first matching
    /// policy that can serve the request wins.
    public let policies: [TrustPolicy]
    /// A content hash of the files this config was loaded from (see ``version(of:)``); issued tokens and
    /// audit records name it so that every decision can be traced to the exact config that made it.
    public var version = "unversioned"
    private let issuersByIss: [String: Int]
    /// Each issuer's policies by issuer name, indexed once here rather than filtered per request.
    private let policiesByIssuer: [String: IssuerPolicies]

    public init(issuers: [TrustedIssuer], policies: [TrustPolicy]) {
        self.issuers = issuers
        self.policies = policies
        self.issuersByIss = Dictionary(issuers.enumerated().map { ($1.issuer, $0) }, uniquingKeysWith: { first, _ in first })
        self.policiesByIssuer = Dictionary(grouping: policies, by: \.issuer).mapValues(IssuerPolicies.init)
    }

    /// The issuer whose `issuer` equals `iss` exactly (no normalization of case, slashes or Unicode).
    public func issuer(forIss iss: String) -> TrustedIssuer? {
        // Swift's String == compares canonical equivalence; trust needs code-point equality.
        guard let index = issuersByIss[iss], issuers[index].issuer.isCodePointEqual(to: iss) else { return nil }
        return issuers[index]
    }

    /// The policies that apply to one issuer, in order.
    public func policies(for issuer: TrustedIssuer) -> [TrustPolicy] {
        issuerPolicies(for: issuer).all
    }

    /// The policies that apply to one issuer, indexed for evaluation.
    public func issuerPolicies(for issuer: TrustedIssuer) -> IssuerPolicies {
        policiesByIssuer[issuer.name] ?? IssuerPolicies([])
    }
}
