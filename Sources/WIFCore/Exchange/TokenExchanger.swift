/// Where the exchange pipeline gets an issuer's public keys: from that issuer's configured source only.
public protocol IssuerKeySource: Sendable {
    /// The current keys of `issuer`. `keyID` is the token's `kid`, so that a source may refresh (within its
    /// own limits) when it does not know it. Throws ``ExchangeError/Code/issuerKeysUnavailable`` when no
    /// usable keys can be had.
    func keys(for issuer: TrustedIssuer, keyID: String?) async throws(ExchangeError) -> JWKSet

    /// The state of each issuer's keys, for `/readyz` and metrics.
    func status(of issuers: [TrustedIssuer]) async -> [IssuerKeyStatus]
}

extension IssuerKeySource {
    /// A source that keeps no state reports nothing.
    public func status(of issuers: [TrustedIssuer]) async -> [IssuerKeyStatus] { [] }
}

/// How one issuer's keys stand.
public struct IssuerKeyStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// No fetch has been tried yet.
        case pending
        /// The last fetch succeeded.
        case fresh
        /// Refreshes fail; the last good keys (or pinned keys) keep serving.
        case stale
        /// No usable keys: tokens of this issuer are answered 503.
        case unavailable
    }

    public let issuer: String
    public let state: State
    /// Usable keys now (pinned and fetched).
    public let keyCount: Int
    /// Seconds since the last successful fetch, if any.
    public let ageSeconds: Double?
    /// Consecutive failed fetches.
    public let failures: Int

    public init(issuer: String, state: State, keyCount: Int, ageSeconds: Double?, failures: Int) {
        self.issuer = issuer
        self.state = state
        self.keyCount = keyCount
        self.ageSeconds = ageSeconds
        self.failures = failures
    }

    /// Whether tokens of this issuer can be verified now (or may be, once the first fetch runs).
    public var isUsable: Bool { state != .unavailable }

    /// The readiness rule: ready when there is no issuer to fetch keys for, or when at least one issuer has
    /// keys now. One issuer's outage answers its own tokens with 503 without taking the service out.
    public static func isReady(_ statuses: [IssuerKeyStatus]) -> Bool {
        statuses.isEmpty || statuses.contains { $0.state == .fresh || $0.state == .stale }
    }
}

/// A token wif issued, ready for the response body.
public struct IssuedToken: Sendable {
    public let accessToken: String
    public let issuedTokenType: String
    public let expiresIn: Int
    public let grant: IssuedGrant
    public let tokenID: String

    /// The RFC 8693 §2.2.1 response body.
    public var responseBody: [UInt8] {
        var body = JSONObjectWriter(capacity: accessToken.utf8.count + 160)
        body.member("access_token", accessToken)
        body.member("expires_in", Double(expiresIn))
        body.member("issued_token_type", issuedTokenType)
        body.member("scope", grant.scopes.isEmpty ? nil : grant.scopes.joined(separator: " "))
        body.member("token_type", "Bearer")
        return body.finish()
    }
}

/// Everything one decision produced: the result and what the audit log records about it.
public struct ExchangeOutcome: Sendable {
    public let request: ExchangeRequest?
    public let result: Result<IssuedToken, ExchangeError>
    /// The issuer selected by `iss`, once the signature verified.
    public let issuer: String?
    /// The subject token's `sub`, once the signature verified.
    public let subject: String?
    /// The subject token's `jti`, once the signature verified.
    public let subjectTokenID: String?
    /// Each policy's evaluation, once the token verified.
    public let evaluations: [PolicyEvaluation]
    /// The actor token's issuer name and `sub`, once it verified (delegation requests).
    public let actor: (issuer: String, subject: String)?
    /// The version of the trust-config that decided.
    public var configVersion: String?
    /// What the issuer's `mode: audit` policies would have decided.
    public var shadow: [ShadowDecision] = []

    public init(
        request: ExchangeRequest?,
        result: Result<IssuedToken, ExchangeError>,
        issuer: String? = nil,
        subject: String? = nil,
        subjectTokenID: String? = nil,
        evaluations: [PolicyEvaluation] = [],
        actor: (issuer: String, subject: String)? = nil,
        configVersion: String? = nil,
        shadow: [ShadowDecision] = []
    ) {
        self.request = request
        self.result = result
        self.issuer = issuer
        self.subject = subject
        self.subjectTokenID = subjectTokenID
        self.evaluations = evaluations
        self.actor = actor
        self.configVersion = configVersion
        self.shadow = shadow
    }
}

/// The one pipeline every grant shape runs through: parse the token, select the issuer by exact `iss`,
/// fetch that issuer's keys, verify, evaluate the policies, mint.
public struct TokenExchanger: Sendable {
    public let config: TrustConfig
    public let keySource: any IssuerKeySource
    public let minter: AccessTokenMinter

    public init(config: TrustConfig, keySource: any IssuerKeySource, minter: AccessTokenMinter) {
        self.config = config
        self.keySource = keySource
        self.minter = minter
    }

    /// Runs one exchange at the instant `now` (seconds since 1970).
    ///
    /// `admit` is asked once the subject token has verified, before anything else is done for it: the
    /// server's per-identity rate limit. An error it returns is the outcome.
    public func exchange(
        _ request: ExchangeRequest,
        now: Double,
        admit: (@Sendable (VerifiedToken) -> ExchangeError?)? = nil
    ) async -> ExchangeOutcome {
        let token: VerifiedToken
        switch await verify(request.subjectToken, now: now) {
        case .success(let verified): token = verified
        case .failure(let error): return ExchangeOutcome(request: request, result: .failure(error.naming(request.grantType.tokenRole)))
        }
        if let refusal = admit?(token) {
            return ExchangeOutcome(
                request: request,
                result: .failure(refusal),
                issuer: token.issuer.name,
                subject: token.subject,
                subjectTokenID: token.tokenID
            )
        }
        var actor: VerifiedToken?
        if let actorToken = request.actorToken {
            switch await verify(actorToken, now: now) {
            case .success(let verified): actor = verified
            case .failure(let error):
                return ExchangeOutcome(
                    request: request,
                    result: .failure(error.naming(.actorToken)),
                    issuer: token.issuer.name,
                    subject: token.subject,
                    subjectTokenID: token.tokenID
                )
            }
        }
        let decision = PolicyEvaluator.decide(
            token: token,
            actor: actor,
            request: request,
            policies: config.issuerPolicies(for: token.issuer),
            now: now
        )
        let result: Result<IssuedToken, ExchangeError> = decision.result.flatMap { grant in
            let tokenID = AccessTokenMinter.newTokenID()
            do {
                let jwt = try minter.mint(grant, tokenID: tokenID, configVersion: config.version)
                return .success(
                    IssuedToken(
                        accessToken: jwt,
                        issuedTokenType: request.requestedTokenType,
                        expiresIn: grant.lifetime,
                        grant: grant,
                        tokenID: tokenID
                    )
                )
            } catch {
                return .failure(ExchangeError(.signingKeyUnavailable, "signing is temporarily unavailable", detail: "signing failed: \(error)"))
            }
        }.mapError { $0.naming(request.grantType.tokenRole) }
        return ExchangeOutcome(
            request: request,
            result: result,
            issuer: token.issuer.name,
            subject: token.subject,
            subjectTokenID: token.tokenID,
            evaluations: decision.evaluations,
            actor: actor.map { ($0.issuer.name, $0.subject) },
            configVersion: config.version,
            shadow: decision.shadow
        )
    }

    /// Parses a token, selects its issuer by exact `iss`, fetches that issuer's keys and verifies it: the
    /// same for subject and actor tokens, and for the server's dry run.
    public func verify(_ raw: String, now: Double) async -> Result<VerifiedToken, ExchangeError> {
        do {
            let unverified = try UnverifiedToken(parsing: raw)
            guard let issuer = config.issuer(forIss: unverified.issuer) else {
                throw ExchangeError(
                    .issuerNotTrusted,
                    "subject token issuer is not trusted",
                    detail: "iss \(unverified.issuer.debugDescription) is not configured"
                )
            }
            try unverified.checkHeader(for: issuer)
            let keys = try await keySource.keys(for: issuer, keyID: unverified.keyID)
            return .success(try unverified.verify(issuer: issuer, keys: keys, now: now))
        } catch {
            // Every step throws ExchangeError; the cast only satisfies the untyped `catch`.
            return .failure(error as? ExchangeError ?? ExchangeError(.internalError, "internal server error"))
        }
    }
}
