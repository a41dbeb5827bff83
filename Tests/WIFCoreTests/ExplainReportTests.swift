import Testing
import WIFCore
import WIFTesting

/// `wif explain`'s report: built from the real pipeline's outcome, every check and condition with its
/// actual value, hypothetical policy evaluation for a token that does not verify.
@Suite("Explain report")
struct ExplainReportTests {
    static let config = TrustConfig(
        issuers: [Fixtures.issuer(algorithms: [.es256, .rs256, .ps256]), Fixtures.issuer(name: "down", issuer: "https://down.test")],
        policies: [
            TrustPolicy(
                name: "demo-app",
                issuer: "cluster",
                conditions: [
                    ClaimCondition(claim: ClaimPath(["kubernetes.io", "namespace"]), matcher: .equals("demo")),
                    ClaimCondition(claim: ClaimPath(["kubernetes.io", "serviceaccount", "name"]), matcher: .equals("app")),
                ],
                grant: .init(
                    audiences: ["https://api.internal"],
                    scopes: ["read", "write"],
                    defaultScopes: ["read"],
                    maxLifetime: 300,
                    mappedClaims: ["namespace": ClaimPath(["kubernetes.io", "namespace"])],
                    clientID: "demo-app"
                )
            ),
            TrustPolicy(
                name: "demo-any",
                issuer: "cluster",
                conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .glob(GlobPattern("system:serviceaccount:demo:*")))],
                grant: .init(audiences: ["https://api.internal"], scopes: ["read"], clientID: "demo-any")
            ),
        ]
    )

    static func explain(
        _ token: String,
        request: TokenRequestParameters = TokenRequestParameters(),
        source: any IssuerKeySource = InMemoryKeySource(["cluster": Fixtures.keys]),
        now: Double = Fixtures.now
    ) async -> ExplainReport {
        await TokenExplainer(config: config, keySource: source, keysFrom: "test keys", issuerURL: "https://wif.test")
            .explain(token: token, request: request, now: now)
    }

    static func claims(serviceAccount: String) -> JSONValue {
        Fixtures.claims([
            "sub": .string("system:serviceaccount:demo:\(serviceAccount)"),
            "kubernetes.io": ["namespace": "demo", "serviceaccount": ["name": .string(serviceAccount)]],
        ])
    }

    @Test("a granted token: every check passes, the first policy grants, the next is not reached, the issued claims are shown")
    func granted() async throws {
        let report = await Self.explain("\n" + Fixtures.token() + "\n", request: TokenRequestParameters(scope: "read write"))
        #expect(report.tokenRefusal == nil)
        #expect(report.header?["kid"] == "ec-1")
        #expect(report.claims?["sub"] == .string(Fixtures.subject))
        #expect(report.issuer.name == "cluster")
        #expect(report.issuer.keySource == "jwks_url https://issuer.test/jwks")
        #expect(report.signature.map(\.check) == ["typ", "alg", "keys", "kid", "signature"])
        #expect(report.signature.allSatisfy { $0.result == .passed })
        #expect(report.claimChecks.map(\.check) == ["exp", "nbf", "iat", "lifetime", "aud", "sub"])
        #expect(report.claimChecks.allSatisfy { $0.result == .passed })
        #expect(report.verified)
        #expect(report.hypotheticalBecause == nil)
        let policies = try #require(report.policies)
        #expect(policies.policies.map(\.status) == [.granted, .notReached])
        #expect(policies.policies[1].conditions.map(\.passed) == [true])
        guard case .granted(let grant) = report.decision else {
            Issue.record("expected a grant, got \(report.decision)")
            return
        }
        #expect(grant.policy == "demo-app")
        #expect(grant.scopes == ["read", "write"])
        #expect(grant.lifetime == 300)
        #expect(report.issuedClaims?["iss"] == "https://wif.test")
        #expect(report.issuedClaims?["aud"] == "https://api.internal")
        #expect(report.issuedClaims?["namespace"] == "demo")
        #expect(report.issuedClaims?["scope"] == "read write")
        let text = report.text()
        #expect(text.contains("  1. demo-app: matched, GRANTED"))
        #expect(text.contains("  2. demo-any: not reached (an earlier policy granted)"))
        #expect(text.contains("  GRANTED by policy demo-app"))
        #expect(text.contains("Issued token claims (not signed)"))
    }

    @Test("no policy matched: each condition with actual and expected, and the closest policy")
    func noPolicyMatched() async throws {
        let token = Fixtures.token(
            Fixtures.claims([
                "sub": "system:serviceaccount:prod:app",
                "kubernetes.io": ["namespace": "prod", "serviceaccount": ["name": "app"]],
            ])
        )
        let report = await Self.explain(token)
        let policies = try #require(report.policies)
        #expect(policies.policies.map(\.status) == [.notMatched, .notMatched])
        let failed = policies.policies[0].failedConditions
        #expect(failed.count == 1)
        #expect(failed[0].claim == ClaimPath(["kubernetes.io", "namespace"]))
        #expect(failed[0].matcher == "equals")
        #expect(failed[0].expected == "demo")
        #expect(failed[0].actual == "prod")
        #expect(policies.closest?.name == "demo-app")
        #expect(report.decision.refusal?.code == .noPolicyMatched)
        #expect(report.decision.refusal?.oauthError == "invalid_request")
        #expect(report.decision.refusal?.status == 400)
        let text = report.text()
        #expect(text.contains(#"FAIL  [kubernetes.io][namespace]"#) && text.contains(#"equals "demo"  actual "prod""#))
        #expect(text.contains(#"  closest: demo-app, 1 of 2 conditions failed: claim [kubernetes.io][namespace] is "prod", expected equals "demo""#))
        #expect(
            text.contains(
                #"the client gets HTTP 400 {"error":"invalid_request","error_description":"subject token is not permitted by any trust policy"}"#
            )
        )
    }

    @Test("a matching policy whose grant cannot serve the request is shown with its refusal")
    func grantRefused() async throws {
        let report = await Self.explain(Fixtures.token(), request: TokenRequestParameters(scope: "admin"))
        let policies = try #require(report.policies)
        #expect(policies.policies.map(\.status) == [.refused, .refused])
        #expect(policies.policies[0].refusal?.code == .scopeNotAllowed)
        #expect(policies.closest?.name == "demo-app")
        #expect(report.decision.refusal?.code == .scopeNotAllowed)
        #expect(report.decision.refusal?.oauthError == "invalid_scope")
        #expect(report.text().contains("grant refused: scope_not_allowed: requested scope is not allowed"))
    }

    @Test("a bad signature: the signature step fails, and the policies are evaluated as if the token were valid")
    func badSignature() async throws {
        let token = Fixtures.token(key: Fixtures.attacker)
        let report = await Self.explain(token)
        #expect(report.signature.last?.check == "signature")
        #expect(report.signature.last?.result == .failed)
        #expect(report.signature.last?.code == .signatureInvalid)
        #expect(!report.verified)
        #expect(report.decision.refusal?.code == .signatureInvalid)
        #expect(report.hypotheticalBecause == "the token did not verify (signature_invalid)")
        #expect(report.policies?.verdict.isGranted == true)
        #expect(report.issuedClaims == nil)
        let text = report.text()
        #expect(text.contains("HYPOTHETICAL, as if the token and request were acceptable"))
        #expect(text.contains("  if the token were valid: granted by demo-app"))
        #expect(text.contains("  DENIED: signature_invalid (stage: signature)"))
    }

    @Test("an unknown kid lists the known ones")
    func unknownKeyID() async {
        let key = TestKey.p256(keyID: "rotated-away")
        let report = await Self.explain(Fixtures.token(key: key))
        let kid = report.signature.first { $0.check == "kid" }
        #expect(kid?.result == .failed)
        #expect(kid?.code == .keyNotFound)
        #expect(kid?.detail.hasPrefix(#"no key has kid "rotated-away" (known: "rsa-1", "rsa-pss", "rsa-any", "ec-1""#) == true)
        #expect(report.signature.last?.result == .skipped)
        #expect(report.decision.refusal?.code == .keyNotFound)
    }

    @Test("an algorithm the issuer does not allow is refused before any key is fetched")
    func algorithmRefusedBeforeFetch() async {
        let source = RecordingKeySource(["cluster": Fixtures.keys])
        let report = await Self.explain(Fixtures.token(key: Fixtures.ed25519), source: source)
        #expect(report.signature.map(\.result) == [.passed, .failed, .skipped, .skipped, .skipped])
        #expect(report.signature[1].code == .algorithmNotAllowed)
        #expect(source.requested.isEmpty)
        #expect(report.decision.refusal?.code == .algorithmNotAllowed)
        #expect(report.policies != nil)
    }

    @Test("the keys are fetched once, and the decision uses the same keys")
    func fetchedOnce() async {
        let source = RecordingKeySource(["cluster": Fixtures.keys])
        let report = await Self.explain(Fixtures.token(), source: source)
        #expect(source.requested == ["cluster ec-1"])
        #expect(report.decision.isGranted)
    }

    @Test("unavailable issuer keys: the server answers 503, the policies are still evaluated")
    func keysUnavailable() async {
        let report = await Self.explain(Fixtures.token(), source: InMemoryKeySource())
        #expect(report.signature.first { $0.check == "keys" }?.code == .issuerKeysUnavailable)
        #expect(report.decision.refusal?.code == .issuerKeysUnavailable)
        #expect(report.decision.refusal?.status == 503)
        #expect(report.decision.refusal?.oauthError == "temporarily_unavailable")
        #expect(report.hypotheticalBecause?.contains("issuer_keys_unavailable") == true)
        #expect(report.policies?.verdict.isGranted == true)
    }

    @Test("an iss that is not configured lists the configured ones and spots a near miss")
    func issuerNotConfigured() async {
        let report = await Self.explain(Fixtures.token(Fixtures.claims(["iss": "https://issuer.test/"])))
        #expect(report.issuer.name == nil)
        #expect(report.issuer.iss == "https://issuer.test/")
        #expect(report.issuer.configured == ["https://issuer.test", "https://down.test"])
        #expect(report.issuer.hint?.hasPrefix(#"issuer cluster is configured as "https://issuer.test", which differs only"#) == true)
        #expect(report.signature.isEmpty && report.claimChecks.isEmpty && report.policies == nil)
        #expect(report.decision.refusal?.code == .issuerNotTrusted)
        #expect(report.text().contains(#"  iss "https://issuer.test/" is not configured. Configured issuers:"#))
    }

    @Test("a malformed token is refused before anything else")
    func malformed() async {
        let report = await Self.explain("not-a-token")
        #expect(report.tokenRefusal?.code == .tokenMalformed)
        #expect(report.header == nil && report.claims == nil)
        #expect(report.decision.refusal?.code == .tokenMalformed)
        #expect(report.text().contains("REFUSED before anything else: token_malformed"))
    }

    @Test("a refusal names the token as the grant type calls it, and maps to that grant's OAuth error")
    func grantTypes() async {
        let token = Fixtures.token(key: Fixtures.attacker)
        let bearer = await Self.explain(token, request: TokenRequestParameters(grantType: GrantType.jwtBearer.rawValue))
        #expect(bearer.decision.refusal?.oauthError == "invalid_grant")
        #expect(bearer.decision.refusal?.description == "assertion signature is invalid")
        let client = await Self.explain(token, request: TokenRequestParameters(grantType: GrantType.clientCredentials.rawValue))
        #expect(client.decision.refusal?.oauthError == "invalid_client")
        #expect(client.decision.refusal?.status == 401)
    }

    @Test("a request the server refuses before any policy still shows the policies, hypothetically")
    func requestRefused() async {
        let report = await Self.explain(Fixtures.token(), request: TokenRequestParameters(scope: "read  write"))
        #expect(report.verified)
        #expect(report.decision.refusal?.code == .scopeMalformed)
        #expect(report.hypotheticalBecause == "the request is refused (scope_malformed) before any policy is evaluated")
        #expect(report.policies?.policies.first?.status == .granted)
    }

    @Test("at a later instant the token is expired, and the lifetime issued is never past its expiry")
    func atInstant() async {
        let expired = await Self.explain(Fixtures.token(), now: Fixtures.now + 3600)
        #expect(expired.claimChecks.first?.check == "exp")
        #expect(expired.claimChecks.first?.result == .failed)
        #expect(expired.decision.refusal?.code == .tokenExpired)
        #expect(expired.text().contains("  FAIL  exp"))
        let late = await Self.explain(Fixtures.token(), now: Fixtures.now + 500)
        guard case .granted(let grant) = late.decision else {
            Issue.record("expected a grant")
            return
        }
        #expect(grant.lifetime == 100)
    }

    /// Tokens that each fail one claim check, and the issuer they are checked against.
    static let claimFailures: [Case<(JSONValue, KubernetesIntake)>] = [
        Case("expired", (Fixtures.claims(["exp": .number(Fixtures.now - 120), "iat": .number(Fixtures.now - 600)]), KubernetesIntake())),
        Case("exp missing", (Fixtures.claims(["exp": nil]), KubernetesIntake())),
        Case("exp a string", (Fixtures.claims(["exp": "soon"]), KubernetesIntake())),
        Case("iat a string and exp past", (Fixtures.claims(["iat": "x", "exp": .number(Fixtures.now - 600)]), KubernetesIntake())),
        Case("nbf in the future", (Fixtures.claims(["nbf": .number(Fixtures.now + 600)]), KubernetesIntake())),
        Case("iat in the future", (Fixtures.claims(["iat": .number(Fixtures.now + 600), "nbf": nil]), KubernetesIntake())),
        Case("lifetime too long", (Fixtures.claims(["exp": .number(Fixtures.now + 200_000)]), KubernetesIntake())),
        Case("aud not accepted", (Fixtures.claims(["aud": "other"]), KubernetesIntake())),
        Case("aud missing", (Fixtures.claims(["aud": nil]), KubernetesIntake())),
        Case("aud a number", (Fixtures.claims(["aud": 7]), KubernetesIntake())),
        Case("sub missing", (Fixtures.claims(["sub": nil]), KubernetesIntake())),
        Case("sub a number", (Fixtures.claims(["sub": 7]), KubernetesIntake())),
        Case("jti a number", (Fixtures.claims(["jti": 7]), KubernetesIntake())),
        Case("too old", (Fixtures.claims(["iat": .number(Fixtures.now - 7200)]), KubernetesIntake(maxTokenAge: 3600))),
        Case("no iat with a maximum age", (Fixtures.claims(["iat": nil]), KubernetesIntake(maxTokenAge: 3600))),
        Case("no pod binding", (Fixtures.claims([:]), KubernetesIntake(requirePodBinding: true))),
        Case(
            "warnafter passed",
            (
                Fixtures.claims([
                    "kubernetes.io": ["namespace": "demo", "warnafter": .number(Fixtures.now - 300)]
                ]),
                KubernetesIntake()
            )
        ),
    ]

    @Test("the first failing claim check is the refusal the pipeline gives", arguments: claimFailures)
    func claimChecksAgreeWithThePipeline(_ example: Case<(JSONValue, KubernetesIntake)>) async throws {
        let issuer = Fixtures.issuer(kubernetes: example.value.1)
        let config = TrustConfig(issuers: [issuer], policies: Self.config.policies)
        let report = await TokenExplainer(
            config: config,
            keySource: InMemoryKeySource(["cluster": Fixtures.keys]),
            keysFrom: "test keys",
            issuerURL: "https://wif.test"
        ).explain(token: Fixtures.token(example.value.0), request: TokenRequestParameters(), now: Fixtures.now)
        #expect(report.signature.allSatisfy { $0.result == .passed })
        let firstFailure = try #require(report.claimChecks.first { $0.result == .failed }, "no failing check in \(report.claimChecks)")
        #expect(firstFailure.code == report.decision.refusal?.code, "\(report.claimChecks)")
        #expect(report.hypotheticalBecause != nil)
    }

    @Test("an extended Kubernetes token under warnafter_as_expiry: false passes every claim check, as in the pipeline")
    func warnAfterOptOut() async throws {
        let issuer = Fixtures.issuer(kubernetes: KubernetesIntake(warnAfterAsExpiry: false))
        let config = TrustConfig(issuers: [issuer], policies: Self.config.policies)
        // exp a year out, warnafter within the issuer's maximum lifetime: the lifetime is measured to warnafter.
        let claims = Fixtures.claims([
            "iat": .number(Fixtures.now - 60), "exp": .number(Fixtures.now + 365 * 86400),
            "kubernetes.io": ["namespace": "demo", "warnafter": .number(Fixtures.now + 3000)],
        ])
        let report = await TokenExplainer(
            config: config,
            keySource: InMemoryKeySource(["cluster": Fixtures.keys]),
            keysFrom: "test keys",
            issuerURL: "https://wif.test"
        ).explain(token: Fixtures.token(claims), request: TokenRequestParameters(), now: Fixtures.now)
        #expect(report.claimChecks.allSatisfy { $0.result != .failed }, "\(report.claimChecks)")
        #expect(report.hypotheticalBecause == nil)
    }

    @Test("the JSON report has stable keys and parses back")
    func json() async throws {
        let report = await Self.explain(Fixtures.token(), request: TokenRequestParameters(audiences: ["https://api.internal"]))
        let json = try JSONValue.parse(Array(report.json.prettyPrinted().utf8))
        #expect(
            Set(json.objectValue?.keys.map { $0 } ?? []) == [
                "at", "at_rfc3339", "request", "token", "issuer", "keys_from", "signature", "claim_checks", "verified", "policies",
                "hypothetical", "hypothetical_because", "decision", "issued_token",
            ]
        )
        #expect(json["at_rfc3339"] == "2027-01-15T08:00:00Z")
        #expect(json["token"]?["claims"]?["sub"] == .string(Fixtures.subject))
        #expect(json["issuer"]?["name"] == "cluster")
        #expect(json["signature"]?.arrayValue?.last == ["check": "signature", "result": "passed", "detail": "valid ES256 signature", "error": .null])
        #expect(json["verified"] == true)
        #expect(json["hypothetical"] == false)
        #expect(json["decision"]?["granted"] == true)
        #expect(json["decision"]?["policy"] == "demo-app")
        #expect(json["decision"]?["audience"] == ["https://api.internal"])
        let condition = json["policies"]?["evaluations"]?.arrayValue?.first?["conditions"]?.arrayValue?.first
        #expect(
            condition == [
                "claim": ["kubernetes.io", "namespace"], "matcher": "equals", "expected": "demo", "actual": "demo", "present": true, "passed": true,
                "reason": #"claim [kubernetes.io][namespace] equals "demo""#,
            ]
        )
        #expect(json["issued_token"]?["claims"]?["client_id"] == "demo-app")
    }

    @Test("a mode: audit policy is listed in its place with what it would have decided, and never grants")
    func auditMode() async throws {
        let shadowGrant = TrustPolicy.Grant(audiences: ["https://api.internal"], scopes: ["read"], clientID: "shadow")
        let config = TrustConfig(
            issuers: Self.config.issuers,
            policies: [
                TrustPolicy(
                    name: "shadow-prod",
                    issuer: "cluster",
                    conditions: [ClaimCondition(claim: ClaimPath(["kubernetes.io", "namespace"]), matcher: .equals("prod"))],
                    grant: shadowGrant,
                    mode: .audit
                ),
                Self.config.policies[0],
            ]
        )
        let token = Fixtures.token(Fixtures.claims(["kubernetes.io": ["namespace": "prod", "serviceaccount": ["name": "app"]]]))
        let report = await TokenExplainer(
            config: config,
            keySource: InMemoryKeySource(["cluster": Fixtures.keys]),
            keysFrom: "test keys",
            issuerURL: "https://wif.test"
        ).explain(token: token, request: TokenRequestParameters(), now: Fixtures.now)
        let policies = try #require(report.policies)
        #expect(policies.policies.map(\.name) == ["shadow-prod", "demo-app"])
        #expect(policies.policies.map(\.status) == [.auditWouldGrant, .notMatched])
        #expect(policies.policies[0].mode == .audit)
        #expect(policies.closest?.name == "demo-app")
        #expect(report.decision.refusal?.code == .noPolicyMatched)
        #expect(report.text().contains("  1. shadow-prod: mode audit: WOULD GRANT if enforced (audit policies never grant)"))
        #expect(policies.policies[0].json["status"] == "audit_would_grant")
    }

    @Test("a decision trace is built from any exchange outcome, as the audit log can")
    func traceFromOutcome() async throws {
        let exchanger = TokenExchanger(
            config: Self.config,
            keySource: InMemoryKeySource(["cluster": Fixtures.keys]),
            minter: AccessTokenMinter(issuerURL: "https://wif.test", signingKey: SigningKey.generate())
        )
        let token = Fixtures.token(Self.claims(serviceAccount: "worker"))
        let outcome = await exchanger.exchange(ExchangeRequest(subjectToken: token), now: Fixtures.now)
        let trace = DecisionTrace(outcome: outcome)
        #expect(trace.verdict.isGranted)
        #expect(trace.policies.map(\.name) == ["demo-app", "demo-any"])
        #expect(trace.policies.map(\.status) == [.notMatched, .granted])
        #expect(trace.json["decision"]?["policy"] == "demo-any")
        #expect(trace.json["closest_policy"] == .null)

        let refused = await exchanger.exchange(ExchangeRequest(subjectToken: Fixtures.token(key: Fixtures.attacker)), now: Fixtures.now)
        let refusal = DecisionTrace(outcome: refused)
        #expect(refusal.policies.isEmpty)
        #expect(refusal.verdict.refusal?.code == .signatureInvalid)
        #expect(refusal.verdict.refusal?.stage == "signature")
    }
}

/// Instants and durations as explain and test print and read them.
@Suite("Instant")
struct InstantTests {
    @Test(
        "RFC 3339 and unix seconds parse to the same instant",
        arguments: [
            Case("unix seconds", ("1800000000", 1_800_000_000.0)),
            Case("unix seconds with a fraction", ("1800000000.5", 1_800_000_000.5)),
            Case("UTC", ("2027-01-15T08:00:00Z", 1_800_000_000)),
            Case("lower case and a fraction", ("2027-01-15t08:00:00.250z", 1_800_000_000.25)),
            Case("a space instead of T", ("2027-01-15 08:00:00Z", 1_800_000_000)),
            Case("a positive offset", ("2027-01-15T09:30:00+01:30", 1_800_000_000)),
            Case("a negative offset", ("2027-01-15T03:00:00-05:00", 1_800_000_000)),
            Case("the epoch", ("1970-01-01T00:00:00Z", 0)),
            Case("a leap day", ("2024-02-29T00:00:00Z", 1_709_164_800)),
        ]
    )
    func parse(_ example: Case<(String, Double)>) {
        #expect(Instant.parse(example.value.0) == example.value.1)
    }

    @Test(
        "malformed instants are refused",
        arguments: ["", "now", "2027-01-15", "2027-01-15T08:00:00", "2027-13-01T00:00:00Z", "2027-02-29T00:00:00Z", "2027-01-15T24:00:00Z", "-5"]
    )
    func refused(_ text: String) {
        #expect(Instant.parse(text) == nil)
    }

    @Test("instants print as RFC 3339 in UTC, and round-trip")
    func format() {
        #expect(Instant.format(1_800_000_000) == "2027-01-15T08:00:00Z")
        #expect(Instant.format(0) == "1970-01-01T00:00:00Z")
        #expect(Instant.format(951_782_400) == "2000-02-29T00:00:00Z")
        for seconds in stride(from: 0.0, to: 4_000_000_000, by: 86_399 * 97) {
            #expect(Instant.parse(Instant.format(seconds)) == seconds)
        }
    }

    @Test("durations are short")
    func durations() {
        #expect(Instant.duration(0) == "0s")
        #expect(Instant.duration(45) == "45s")
        #expect(Instant.duration(598) == "9m58s")
        #expect(Instant.duration(3600) == "1h")
        #expect(Instant.duration(5400) == "1h30m")
        #expect(Instant.duration(86_400 * 3 + 7200) == "3d2h")
        #expect(Instant.duration(-90) == "-1m30s")
        #expect(Instant.describe(1_800_000_600, relativeTo: 1_800_000_000) == "2027-01-15T08:10:00Z (in 10m)")
        #expect(Instant.describe(1_799_999_700, relativeTo: 1_800_000_000) == "2027-01-15T07:55:00Z (5m ago)")
        #expect(Instant.describe(1_800_000_000, relativeTo: 1_800_000_000.5) == "2027-01-15T08:00:00Z (now)")
    }

    @Test("pretty-printed JSON parses back to the same value")
    func prettyJSON() throws {
        let value: JSONValue = [
            "a": [1, 2, "x,y"], "b": ["c": [], "d": [:], "e": .null], "long": .array((0..<40).map { .string("item-\($0)") }),
            "quote": "say \"hi\", ok",
        ]
        let text = value.prettyPrinted()
        #expect(try JSONValue.parse(Array(text.utf8)) == value)
        #expect(text.contains(#""a": [1, 2, "x,y"]"#))
    }
}
