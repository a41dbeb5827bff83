/// Runs policy test cases through the real exchange pipeline, with no network.
///
/// For each case the runner completes the claims (`iss` the issuer's URL, `aud` its first accepted
/// audience, `iat` now, `exp` an hour later or the issuer's `max_token_lifetime` if shorter), signs them with
/// an ephemeral key of an algorithm the issuer allows, and serves that key as the issuer's only key from an
/// ``InMemoryKeySource``. The request is written as the `/token` form the server would receive and parsed
/// by the server's parser; then ``TokenExchanger/exchange(_:now:)`` decides: header and algorithm checks,
/// key by `kid`, signature, time claims, lifetime, audience, every policy and the grant all apply exactly as
/// in the server. Only the issuer's key source is replaced.
///
/// ```swift
/// let cases = try PolicyTestSuite.load(files, config: config)
/// let report = try await PolicyTestRunner(config: config).run(cases, now: 1_767_225_600)
/// print(report.table())
/// ```
public struct PolicyTestRunner: Sendable {
    public let config: TrustConfig
    /// `iss` of the tokens the exchange issues (what `expect.granted.claims.iss` compares with).
    public let issuerURL: String

    public init(config: TrustConfig, issuerURL: String = "http://127.0.0.1:8080") {
        self.config = config
        self.issuerURL = issuerURL
    }

    /// Runs `cases` at the instant `now` (seconds since 1970).
    public func run(_ cases: [PolicyTestCase], now: Double) async throws -> PolicyTestReport {
        var keysByAlgorithm: [JWSAlgorithm: EphemeralIssuerKey] = [:]
        var keysByIssuer: [String: EphemeralIssuerKey] = [:]
        for issuer in config.issuers {
            guard let algorithm = EphemeralIssuerKey.algorithm(for: issuer), cases.contains(where: { $0.issuer == issuer.name }) else { continue }
            if keysByAlgorithm[algorithm] == nil { keysByAlgorithm[algorithm] = try EphemeralIssuerKey(algorithm: algorithm) }
            keysByIssuer[issuer.name] = keysByAlgorithm[algorithm]
        }
        let exchanger = TokenExchanger(
            config: config,
            keySource: InMemoryKeySource(keysByIssuer.mapValues { JWKSet(keys: [$0.verificationKey]) }),
            minter: AccessTokenMinter(issuerURL: issuerURL, signingKey: SigningKey.generate())
        )
        var results: [PolicyTestResult] = []
        for testCase in cases {
            results.append(try await run(testCase, exchanger: exchanger, keys: keysByIssuer, now: now))
        }
        return PolicyTestReport(results: results)
    }

    private func run(
        _ testCase: PolicyTestCase,
        exchanger: TokenExchanger,
        keys: [String: EphemeralIssuerKey],
        now: Double
    ) async throws -> PolicyTestResult {
        guard let issuer = config.issuers.first(where: { $0.name == testCase.issuer }), let key = keys[issuer.name] else {
            return PolicyTestResult(
                testCase: testCase,
                claims: .object(testCase.claims),
                decision: nil,
                issuedClaims: nil,
                mismatches: [
                    "issuer \(testCase.issuer) is not configured"
                ]
            )
        }
        let claims = Self.completeClaims(testCase.claims, issuer: issuer, now: now)
        let token = try key.token(claims: claims)
        let decision: DecisionTrace
        var issuedClaims: JSONValue?
        switch testCase.request.request(token: token) {
        case .failure(let refusal):
            decision = DecisionTrace(
                evaluations: [],
                result: .failure(refusal),
                grant: testCase.request.grantType.flatMap(GrantType.init(rawValue:))
            )
        case .success(let request):
            let outcome = await exchanger.exchange(request, now: now)
            decision = DecisionTrace(outcome: outcome, policies: config.policies(for: issuer), claims: claims)
            if case .success(let issued) = outcome.result {
                issuedClaims = exchanger.minter.claims(for: issued.grant, tokenID: issued.tokenID, configVersion: outcome.configVersion)
            }
        }
        return PolicyTestResult(
            testCase: testCase,
            claims: claims,
            decision: decision,
            issuedClaims: issuedClaims,
            mismatches: Self.mismatches(testCase.expectation, decision.verdict, issuedClaims: issuedClaims)
        )
    }

    /// The case's claims with the defaults filled in.
    static func completeClaims(_ given: [String: JSONValue], issuer: TrustedIssuer, now: Double) -> JSONValue {
        var claims = given
        let issuedAt = now.rounded(.down)
        claims["iss"] = claims["iss"] ?? .string(issuer.issuer)
        claims["aud"] = claims["aud"] ?? .string(issuer.audiences[0])
        claims["iat"] = claims["iat"] ?? .number(issuedAt)
        if claims["exp"] == nil {
            let start = claims["iat"]?.numberValue ?? issuedAt
            claims["exp"] = .number(start + Double(min(3600, issuer.maxTokenLifetime)))
        }
        return .object(claims)
    }

    /// How the actual decision differs from the expected one; empty when the case passes.
    static func mismatches(_ expected: PolicyTestCase.Expectation, _ actual: DecisionTrace.Verdict, issuedClaims: JSONValue?) -> [String] {
        switch (expected, actual) {
        case (.granted(let want), .granted(let got)):
            var problems: [String] = []
            if want.policy != got.policy { problems.append("granted by policy \(got.policy), expected \(want.policy)") }
            if let audiences = want.audiences, Set(audiences) != Set(got.audiences) {
                problems.append("audience is \(list(got.audiences)), expected \(list(audiences))")
            }
            if let scopes = want.scopes, Set(scopes) != Set(got.scopes) {
                problems.append("scope is \(list(got.scopes)), expected \(list(scopes))")
            }
            if let lifetime = want.lifetime, lifetime != got.lifetime {
                problems.append("lifetime is \(got.lifetime) s, expected \(lifetime) s")
            }
            for (name, value) in (want.claims ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let issued = issuedClaims?[name] else {
                    problems.append("issued token has no claim \(name), expected \(value.displayText)")
                    continue
                }
                if issued != value { problems.append("issued claim \(name) is \(issued.displayText), expected \(value.displayText)") }
            }
            return problems
        case (.granted(let want), .denied(let got)):
            return ["denied with \(got.code.rawValue) (\(got.oauthError) \"\(got.description)\"), expected a grant by \(want.policy)"]
        case (.denied(let want), .granted(let got)):
            return ["granted by policy \(got.policy), expected denial with \(want.error.rawValue)"]
        case (.denied(let want), .denied(let got)):
            var problems: [String] = []
            if want.error != got.code { problems.append("denied with \(got.code.rawValue), expected \(want.error.rawValue)") }
            if let oauthError = want.oauthError, oauthError != got.oauthError {
                problems.append("OAuth error is \(got.oauthError), expected \(oauthError)")
            }
            return problems
        }
    }

    private static func list(_ values: [String]) -> String {
        values.isEmpty ? "[]" : "[" + values.joined(separator: ", ") + "]"
    }
}

/// One case's result.
public struct PolicyTestResult: Sendable {
    public let testCase: PolicyTestCase
    /// The subject token's claims as signed, defaults included.
    public let claims: JSONValue
    /// The pipeline's decision with every policy's reasons.
    public let decision: DecisionTrace?
    /// The claims of the token the exchange issued, when it granted.
    public let issuedClaims: JSONValue?
    /// How the actual decision differs from the expected one; empty when the case passes.
    public let mismatches: [String]

    public var passed: Bool { mismatches.isEmpty }

    /// `granted demo-app` or `denied no_policy_matched (invalid_request)`.
    public var actualSummary: String {
        switch decision?.verdict {
        case .granted(let grant)?: "granted \(grant.policy)"
        case .denied(let refusal)?: "denied \(refusal.code.rawValue) (\(refusal.oauthError))"
        case nil: "not run"
        }
    }
}
