/// Builds an ``ExplainReport``: runs one token and request through the real exchange pipeline
/// (``TokenExchanger``) for the decision, and around it shows each step the pipeline takes, so that a person
/// sees not only *that* a token is refused but which check or condition refused it.
///
/// - The decision and the issued claims always come from ``TokenExchanger/exchange(_:now:)``.
/// - The signature steps and claim checks list every check with its actual values. The claim checks mirror
///   ``UnverifiedToken/verify(issuer:keys:now:acceptedTypes:)`` step by step for display; the verdict on the
///   token is still the one `verify` returns.
/// - A token that does not verify still gets its issuer's policies evaluated *as if it had*, clearly marked
///   as hypothetical, so the signature and the policies can be fixed in one pass.
///
/// ```swift
/// let explainer = TokenExplainer(config: config, keySource: keyStore, keysFrom: "the issuer's key source")
/// let report = await explainer.explain(token: token, request: TokenRequestParameters(scope: "read"), now: now)
/// print(report.text())
/// ```
public struct TokenExplainer: Sendable {
    public let config: TrustConfig
    public let keySource: any IssuerKeySource
    /// Where ``keySource`` takes keys from, for the report.
    public let keysFrom: String
    /// Mints (with a throwaway key) what the server would issue; only its claims are reported.
    let minter: AccessTokenMinter

    /// - Parameter issuerURL: wif's issuer URL, the `iss` of the token it would issue.
    public init(config: TrustConfig, keySource: any IssuerKeySource, keysFrom: String, issuerURL: String) {
        self.config = config
        self.keySource = keySource
        self.keysFrom = keysFrom
        self.minter = AccessTokenMinter(issuerURL: issuerURL, signingKey: SigningKey.generate())
    }

    /// Explains `token` (a compact JWS; surrounding whitespace is ignored) sent with `request` at `now`.
    public func explain(token: String, request parameters: TokenRequestParameters, now: Double) async -> ExplainReport {
        let raw = token.trimmingSpaces
        let grantType = GrantType(rawValue: parameters.grantType ?? GrantType.tokenExchange.rawValue)
        let role = grantType?.tokenRole ?? .subjectToken
        let (header, claims) = Self.decode(raw)

        var unverified: UnverifiedToken?
        var tokenRefusal: RefusalTrace?
        do {
            unverified = try UnverifiedToken(parsing: raw)
        } catch {
            tokenRefusal = RefusalTrace(error.naming(role), grant: grantType)
        }
        let issuer = unverified.flatMap { config.issuer(forIss: $0.issuer) }
        let match = issuerMatch(iss: unverified?.issuer ?? claims?["iss"]?.stringValue, issuer: issuer)

        // The header, key and signature steps, with the keys fetched once (as the server would).
        var signature: [VerificationStep] = []
        var fetched: Result<JWKSet, ExchangeError>?
        var verification: Result<VerifiedToken, ExchangeError>?
        if let unverified, let issuer {
            (signature, fetched) = await signatureSteps(unverified, issuer: issuer)
            if case .success(let keys) = fetched {
                do {
                    verification = .success(try unverified.verify(issuer: issuer, keys: keys, now: now))
                } catch {
                    verification = .failure(error.naming(role))
                }
            }
        }
        let claimChecks = issuer.flatMap { issuer in claims.map { Self.claimChecks($0, issuer: issuer, now: now) } } ?? []

        // The decision: the real pipeline, given the keys already fetched.
        let requestResult = parameters.request(token: raw)
        var decision: DecisionTrace.Verdict
        var issuedClaims: JSONValue?
        var outcome: ExchangeOutcome?
        switch requestResult {
        case .failure(let refusal):
            decision = .denied(RefusalTrace(refusal, grant: grantType))
        case .success(let request):
            let exchanger = TokenExchanger(
                config: config,
                keySource: FetchedKeySource(issuer: issuer?.name, fetched: fetched, fallback: keySource),
                minter: minter
            )
            let result = await exchanger.exchange(request, now: now)
            outcome = result
            switch result.result {
            case .success(let issued):
                decision = .granted(GrantTrace(issued.grant))
                issuedClaims = minter.claims(for: issued.grant, tokenID: issued.tokenID, configVersion: result.configVersion)
            case .failure(let refusal):
                decision = .denied(RefusalTrace(refusal, grant: request.grantType))
            }
        }

        // Every policy of the issuer: the pipeline's own evaluation when the token verified, else as if it had.
        var policies: DecisionTrace?
        var hypotheticalBecause: String?
        if let issuer, let unverified {
            let issuerPolicies = config.policies(for: issuer)
            if let outcome, outcome.issuer != nil {
                policies = DecisionTrace(outcome: outcome, policies: issuerPolicies, claims: unverified.claims)
            } else {
                if case .failure(let refusal) = requestResult {
                    hypotheticalBecause = "the request is refused (\(refusal.code.rawValue)) before any policy is evaluated"
                } else if case .failure(let refusal) = verification {
                    hypotheticalBecause = "the token did not verify (\(refusal.code.rawValue))"
                } else if case .failure(let refusal)? = fetched {
                    hypotheticalBecause = "the issuer's keys could not be had (\(refusal.code.rawValue)), so the signature was not checked"
                } else {
                    hypotheticalBecause = "the token did not verify (\(decision.refusal?.code.rawValue ?? "header refused"))"
                }
                let request = (try? requestResult.get()) ?? Self.lenientRequest(parameters, token: raw, grantType: grantType)
                let token = Self.hypotheticalToken(unverified, issuer: issuer, now: now)
                let evaluated = PolicyEvaluator.decide(token: token, request: request, policies: issuerPolicies, now: now)
                policies = DecisionTrace(
                    evaluations: evaluated.evaluations,
                    shadow: evaluated.shadow,
                    result: evaluated.result.mapError { $0.naming(role) },
                    grant: grantType,
                    policies: issuerPolicies,
                    claims: unverified.claims
                )
            }
        }

        return ExplainReport(
            at: now,
            request: parameters,
            header: header,
            claims: claims,
            tokenRefusal: tokenRefusal,
            issuer: match,
            keysFrom: keysFrom,
            signature: signature,
            claimChecks: claimChecks,
            verified: (try? verification?.get()) != nil,
            policies: policies,
            hypotheticalBecause: hypotheticalBecause,
            decision: decision,
            issuedClaims: issuedClaims
        )
    }

    // MARK: - Steps

    /// The header, key and signature checks in pipeline order, and the keys fetched for them.
    private func signatureSteps(_ token: UnverifiedToken, issuer: TrustedIssuer) async -> ([VerificationStep], Result<JWKSet, ExchangeError>?) {
        var steps: [VerificationStep] = []
        let typeAccepted = token.type.map { UnverifiedToken.subjectTokenTypes.contains($0.lowercased()) } ?? true
        steps.append(
            .check(
                "typ",
                typeAccepted,
                token.type.map {
                    "\($0.debugDescription) " + (typeAccepted ? "is accepted" : "is not a subject token type (JWT, JOSE, application/jwt)")
                }
                    ?? "absent (accepted)",
                code: .tokenTypeNotAccepted
            )
        )
        let allowed = issuer.algorithms.sorted().map(\.rawValue).joined(separator: ", ")
        let algorithmAllowed = issuer.algorithms.contains(token.algorithm)
        steps.append(
            .check(
                "alg",
                algorithmAllowed,
                "\(token.algorithm.rawValue) is \(algorithmAllowed ? "" : "not ")allowed for \(issuer.name) (allowed: \(allowed))",
                code: .algorithmNotAllowed
            )
        )
        guard typeAccepted, algorithmAllowed else {
            for check in ["keys", "kid", "signature"] {
                steps.append(VerificationStep(check, .skipped, "not checked: the server refuses the header before fetching keys"))
            }
            return (steps, nil)
        }
        let keys: JWKSet
        do {
            keys = try await keySource.keys(for: issuer, keyID: token.keyID)
        } catch {
            steps.append(VerificationStep("keys", .failed, "no usable keys from \(keysFrom): \(error.detail ?? error.description)", code: error.code))
            steps.append(VerificationStep("kid", .skipped, "not checked: no keys"))
            steps.append(VerificationStep("signature", .skipped, "not checked: no keys"))
            return (steps, .failure(error))
        }
        let skipped = keys.skipped.isEmpty ? "" : "; skipped: " + keys.skipped.map(\.description).joined(separator: "; ")
        let kids = keys.keys.map { $0.keyID?.debugDescription ?? "(no kid)" }.joined(separator: ", ")
        steps.append(VerificationStep("keys", .passed, "\(keys.keys.count) usable key\(keys.keys.count == 1 ? "" : "s"): \(kids)\(skipped)"))
        guard let key = keys.key(for: token.keyID) else {
            let known = keys.keys.compactMap(\.keyID).map(\.debugDescription).joined(separator: ", ")
            let detail =
                token.keyID.map { "no key has kid \($0.debugDescription) (known: \(known.isEmpty ? "none" : known))" }
                ?? "the token has no kid and the issuer has \(keys.keys.count) keys"
            steps.append(VerificationStep("kid", .failed, detail, code: .keyNotFound))
            steps.append(VerificationStep("signature", .skipped, "not checked: no key"))
            return (steps, .success(keys))
        }
        let pinned = key.pinnedAlgorithm.map { ", pinned to \($0.rawValue)" } ?? ""
        let keyName = token.keyID.map { "kid \($0.debugDescription)" } ?? "the issuer's only key (the token has no kid)"
        guard key.accepts(token.algorithm) else {
            steps.append(
                VerificationStep(
                    "kid",
                    .failed,
                    "\(keyName): \(key.family.rawValue) key\(pinned) does not verify \(token.algorithm.rawValue)",
                    code: .algorithmNotAllowed
                )
            )
            steps.append(VerificationStep("signature", .skipped, "not checked: the key does not fit the algorithm"))
            return (steps, .success(keys))
        }
        steps.append(VerificationStep("kid", .passed, "\(keyName): \(key.family.rawValue) key\(pinned)"))
        let valid = key.isValidSignature(token.signature, over: Array(token.signingInput), algorithm: token.algorithm)
        steps.append(
            .check(
                "signature",
                valid,
                valid ? "valid \(token.algorithm.rawValue) signature" : "does not verify with this key (forged, altered, or signed by another key)",
                code: .signatureInvalid
            )
        )
        return (steps, .success(keys))
    }

    /// The claim checks of ``UnverifiedToken/verify(issuer:keys:now:acceptedTypes:)``, in its order, each
    /// with the actual values, so that every failing one is shown (not only the first).
    static func claimChecks(_ claims: JSONValue, issuer: TrustedIssuer, now: Double) -> [VerificationStep] {
        var steps: [VerificationStep] = []
        let leeway = Double(issuer.leeway)
        let leewayText = "leeway \(Instant.duration(leeway))"
        if claims["exp"] == nil { steps.append(VerificationStep("exp", .failed, "missing: an expiry is required", code: .tokenClaimsInvalid)) }
        var dates: [String: Double] = [:]
        let warnAfter = claims.value(at: ClaimPath(["kubernetes.io", "warnafter"]))
        for (name, value) in [("exp", claims["exp"]), ("iat", claims["iat"]), ("nbf", claims["nbf"]), ("warnafter", warnAfter)] {
            guard let value else { continue }
            if case .number(let seconds) = value, seconds > 0, seconds < 32_503_680_000 {
                dates[name] = seconds
            } else {
                steps.append(
                    VerificationStep(name, .failed, "\(value.displayText) is not a NumericDate (a number of seconds)", code: .tokenClaimsInvalid)
                )
            }
        }
        var lifetimeEnd: Double?
        if let exp = dates["exp"] {
            let (expiry, end) = issuer.kubernetes.expiry(exp: exp, warnAfter: dates["warnafter"])
            let note = expiry < exp ? " (kubernetes.io warnafter, before exp \(Instant.format(exp)))" : ""
            lifetimeEnd = end
            let live = expiry > now - leeway
            steps.append(
                .check(
                    "exp",
                    live,
                    (live ? "expires " : "expired: ") + Instant.describe(expiry, relativeTo: now) + note + (live ? "" : ", beyond the \(leewayText)"),
                    code: .tokenExpired
                )
            )
        }
        if let nbf = dates["nbf"] {
            let valid = nbf <= now + leeway
            steps.append(
                .check(
                    "nbf",
                    valid,
                    (valid ? "valid from " : "not valid until ") + Instant.describe(nbf, relativeTo: now)
                        + (valid ? "" : ", beyond the \(leewayText)"),
                    code: .tokenNotYetValid
                )
            )
        }
        if let iat = dates["iat"] {
            let past = iat <= now + leeway
            steps.append(
                .check(
                    "iat",
                    past,
                    "issued " + Instant.describe(iat, relativeTo: now) + (past ? "" : ": in the future, beyond the \(leewayText)"),
                    code: .tokenNotYetValid
                )
            )
        }
        if let maxAge = issuer.kubernetes.maxTokenAge {
            if let iat = dates["iat"] {
                let age = now - iat
                steps.append(
                    .check(
                        "max_token_age",
                        age <= Double(maxAge) + leeway,
                        "issued \(Instant.duration(age)) ago; \(issuer.name) accepts at most \(Instant.duration(Double(maxAge))) (plus the \(leewayText))",
                        code: .tokenExpired
                    )
                )
            } else if claims["iat"] == nil {
                steps.append(
                    VerificationStep("max_token_age", .failed, "iat is missing, and \(issuer.name) limits the token age", code: .tokenClaimsInvalid)
                )
            }
        }
        if issuer.kubernetes.requirePodBinding {
            let pod = claims.value(at: ClaimPath(["kubernetes.io", "pod", "name"]))
            steps.append(
                .check(
                    "pod_binding",
                    pod?.stringValue != nil,
                    pod?.stringValue.map { "bound to pod \($0.debugDescription)" }
                        ?? "no [kubernetes.io][pod][name]: \(issuer.name) requires pod-bound tokens",
                    code: .tokenClaimsInvalid
                )
            )
        }
        if let end = lifetimeEnd {
            let start = dates["iat"].map { ($0, "iat") } ?? dates["nbf"].map { ($0, "nbf") } ?? (now, "now")
            let lifetime = end - start.0
            steps.append(
                .check(
                    "lifetime",
                    lifetime <= Double(issuer.maxTokenLifetime),
                    "\(Instant.duration(lifetime)) from \(start.1) to expiry; \(issuer.name) accepts at most \(Instant.duration(Double(issuer.maxTokenLifetime)))",
                    code: .tokenLifetimeTooLong
                )
            )
        }
        let accepted = issuer.audiences.map(\.debugDescription).joined(separator: ", ")
        switch claims["aud"] {
        case nil:
            steps.append(VerificationStep("aud", .failed, "missing; \(issuer.name) accepts \(accepted)", code: .audienceNotAccepted))
        case .string(let single)?:
            let ok = issuer.audiences.contains { $0.isCodePointEqual(to: single) }
            steps.append(.check("aud", ok, "\(single.debugDescription); \(issuer.name) accepts \(accepted)", code: .audienceNotAccepted))
        case .array(let list)? where !list.isEmpty && list.allSatisfy({ $0.stringValue != nil }):
            let values = list.compactMap(\.stringValue)
            let ok = values.contains { aud in issuer.audiences.contains { $0.isCodePointEqual(to: aud) } }
            steps.append(
                .check("aud", ok, "\(JSONValue.array(list).displayText); \(issuer.name) accepts \(accepted)", code: .audienceNotAccepted)
            )
        case let other?:
            steps.append(
                VerificationStep("aud", .failed, "\(other.displayText) is not a string or a non-empty list of strings", code: .tokenClaimsInvalid)
            )
        }
        let sub = claims["sub"]
        let usable = sub?.stringValue.map(TokenLimits.isUsableSubject) ?? false
        steps.append(
            .check(
                "sub",
                usable,
                sub.map { usable ? $0.displayText : "\($0.displayText) is not a non-empty string of at most 1024 bytes without control characters" }
                    ?? "missing: a subject is required",
                code: .tokenClaimsInvalid
            )
        )
        if let jti = claims["jti"], jti.stringValue == nil {
            steps.append(VerificationStep("jti", .failed, "\(jti.displayText) is not a string", code: .tokenClaimsInvalid))
        }
        return steps
    }

    // MARK: - Helpers

    /// The header and claims of a token, decoded for display without any of the parser's strictness; nil
    /// for a part that is not base64url JSON.
    public static func decode(_ token: String) -> (header: JSONValue?, claims: JSONValue?) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        func part(_ index: Int) -> JSONValue? {
            guard parts.count > index, parts[index].utf8.count <= TokenLimits.maxTokenLength,
                let bytes = Base64URL.decode(String(parts[index]))
            else { return nil }
            return try? JSONValue.parse(bytes)
        }
        return (part(0), part(1))
    }

    private func issuerMatch(iss: String?, issuer: TrustedIssuer?) -> IssuerMatch {
        guard let issuer else {
            let configured = config.issuers.map(\.issuer)
            var hint: String?
            if let iss {
                let normalized = Self.normalized(iss)
                if let near = config.issuers.first(where: { Self.normalized($0.issuer) == normalized }) {
                    hint =
                        "issuer \(near.name) is configured as \(near.issuer.debugDescription), which differs only in case, spaces or a trailing '/': "
                        + "iss is compared exactly, so fix the issuer value (or the token's issuer)"
                }
            }
            return IssuerMatch(iss: iss, name: nil, keySource: nil, configured: configured, hint: hint)
        }
        let source: String
        switch issuer.keySource {
        case .discovery: source = "discovery"
        case .jwksURL(let url): source = "jwks_url \(url)"
        case .jwksFile(let file): source = "jwks_file \(file)"
        case .development: source = "development"
        }
        return IssuerMatch(
            iss: iss,
            name: issuer.name,
            keySource: source + (issuer.pinnedKeysFile.map { " (pinned: jwks_file \($0))" } ?? ""),
            configured: [],
            hint: nil
        )
    }

    private static func normalized(_ iss: String) -> String {
        var text = iss.trimmingSpaces.lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// The token as if it had verified: its own claims, expiry and subject, for the hypothetical evaluation.
    private static func hypotheticalToken(_ token: UnverifiedToken, issuer: TrustedIssuer, now: Double) -> VerifiedToken {
        let warnAfter = token.claims.value(at: ClaimPath(["kubernetes.io", "warnafter"]))?.numberValue
        let expiry = issuer.kubernetes.expiry(exp: token.claims["exp"]?.numberValue ?? now, warnAfter: warnAfter).expiresAt
        return VerifiedToken(
            issuer: issuer,
            subject: token.claims["sub"]?.stringValue ?? "",
            claims: token.claims,
            expiresAt: expiry,
            tokenID: token.claims["jti"]?.stringValue,
            keyID: token.keyID,
            algorithm: token.algorithm
        )
    }

    /// The request as asked for, without the form checks, for evaluating policies when the server would
    /// refuse the request itself.
    private static func lenientRequest(_ parameters: TokenRequestParameters, token: String, grantType: GrantType?) -> ExchangeRequest {
        ExchangeRequest(
            grantType: grantType ?? .tokenExchange,
            subjectToken: token,
            audiences: parameters.audiences,
            resources: parameters.resources,
            scopes: parameters.scope.map { $0.split(separator: " ").map(String.init) },
            clientID: parameters.clientID
        )
    }
}

extension DecisionTrace.Verdict {
    /// The refusal, when denied.
    public var refusal: RefusalTrace? {
        if case .denied(let refusal) = self { return refusal }
        return nil
    }
}

/// The keys the explainer already fetched for the token's issuer, so that the pipeline run for the decision
/// sees exactly the same keys without fetching again; any other issuer's keys come from the real source.
private struct FetchedKeySource: IssuerKeySource {
    let issuer: String?
    let fetched: Result<JWKSet, ExchangeError>?
    let fallback: any IssuerKeySource

    func keys(for issuer: TrustedIssuer, keyID: String?) async throws(ExchangeError) -> JWKSet {
        if issuer.name == self.issuer, let fetched { return try fetched.get() }
        return try await fallback.keys(for: issuer, keyID: keyID)
    }
}
