import Testing
import WIFCore

/// `wif test`'s runner: cases go through the real exchange pipeline, and every expectation kind passes
/// when it should and fails with a precise mismatch when it should not.
@Suite("Policy test runner")
struct PolicyTestRunnerTests {
    static let config = PolicyTestSuiteTests.config
    static let now: Double = 1_800_000_000

    /// Runs the cases of one YAML text at ``now``.
    static func run(_ text: String, config: TrustConfig = config) async throws -> PolicyTestReport {
        let cases = try PolicyTestSuite.load([TrustConfigLoader.File(name: "tests/cases.yaml", contents: text)], config: config)
        return try await PolicyTestRunner(config: config, issuerURL: "https://wif.test").run(cases, now: now)
    }

    static let app = "    issuer: cluster\n    claims:\n      sub: system:serviceaccount:demo:app\n      kubernetes.io: {namespace: demo}\n"

    @Test("a granted case passes with every field checked, and the issued claims are the minted ones")
    func grantedPasses() async throws {
        let report = try await Self.run(
            """
            cases:
              - name: app
            \(Self.app)
                request: {scope: read write}
                expect:
                  granted:
                    policy: app
                    audience: [https://api.test]
                    scope: [write, read]
                    lifetime: 15m
                    claims: {namespace: demo, iss: https://wif.test, sub: "system:serviceaccount:demo:app", client_id: app, scope: read write}
            """
        )
        let result = try #require(report.results.first)
        #expect(result.mismatches == [])
        #expect(report.allPassed)
        #expect(result.actualSummary == "granted app")
        #expect(result.issuedClaims?["exp"] == .number(Self.now + 900))
        #expect(result.issuedClaims?["wif_policy"] == "app")
    }

    @Test("missing claims get defaults: the issuer's URL and first audience, now, and at most an hour")
    func claimDefaults() async throws {
        let report = try await Self.run(
            """
            cases:
              - name: app
            \(Self.app)
                expect: {granted: {policy: app}}
              - name: ci
                issuer: ci
                claims: {sub: repo, repository_id: "42"}
                expect: {granted: {policy: deploy}}
            """
        )
        #expect(report.allPassed, "\(report.table())")
        let claims = report.results[0].claims
        #expect(claims["iss"] == "https://cluster.test")
        #expect(claims["aud"] == "wif")
        #expect(claims["iat"] == .number(Self.now))
        #expect(claims["exp"] == .number(Self.now + 3600))
        // The ci issuer accepts at most 30 minutes, so the default token lives 30 minutes, signed RS256.
        #expect(report.results[1].claims["exp"] == .number(Self.now + 1800))
        #expect(report.results[1].claims["aud"] == "https://wif.test")
    }

    @Test(
        "the token is signed with an algorithm its issuer allows",
        arguments: [JWSAlgorithm.es256, .es384, .edDSA, .rs256, .ps384]
    )
    func algorithms(_ algorithm: JWSAlgorithm) async throws {
        let config = try TrustConfigLoader.load([
            TrustConfigLoader.File(
                name: "config.yaml",
                contents: """
                    issuers:
                      - name: only
                        issuer: https://only.test
                        keys: {jwks_url: https://only.test/jwks}
                        audiences: [wif]
                        algorithms: [\(algorithm.rawValue)]
                    policies:
                      - name: p
                        issuer: only
                        conditions: [{claim: sub, equals: me}]
                        grant: {audiences: [https://api.test], scopes: []}
                    """
            )
        ])
        let report = try await Self.run(
            "cases:\n  - name: me\n    issuer: only\n    claims: {sub: me}\n    expect: {granted: {policy: p, scope: []}}\n",
            config: config
        )
        #expect(report.allPassed, "\(report.table())")
    }

    @Test(
        "a granted expectation that differs fails with what differs",
        arguments: [
            Case("another policy", ("policy: readers", "granted by policy app, expected readers")),
            Case(
                "another audience",
                ("policy: app\n        audience: https://other.test", "audience is [https://api.test], expected [https://other.test]")
            ),
            Case("another scope", ("policy: app\n        scope: [write]", "scope is [read], expected [write]")),
            Case("no scope", ("policy: app\n        scope: []", "scope is [read], expected []")),
            Case("another lifetime", ("policy: app\n        lifetime: 1h", "lifetime is 900 s, expected 3600 s")),
            Case("another claim value", ("policy: app\n        claims: {namespace: prod}", #"issued claim namespace is "demo", expected "prod""#)),
            Case("a claim not issued", ("policy: app\n        claims: {team: x}", #"issued token has no claim team, expected "x""#)),
        ]
    )
    func grantedMismatch(_ example: Case<(String, String)>) async throws {
        let report = try await Self.run("cases:\n  - name: app\n\(Self.app)    expect:\n      granted:\n        \(example.value.0)\n")
        #expect(report.results[0].mismatches == [example.value.1])
        #expect(!report.allPassed)
    }

    @Test("a denial passes on its error code and OAuth error, and fails on another")
    func denied() async throws {
        let report = try await Self.run(
            """
            cases:
              - name: right code and OAuth error
            \(Self.app)
                request: {scope: admin}
                expect: {denied: {error: scope_not_allowed, oauth_error: invalid_scope}}
              - name: another code
            \(Self.app)
                request: {audience: https://elsewhere.test}
                expect: {denied: {error: scope_not_allowed}}
              - name: another OAuth error
            \(Self.app)
                request: {scope: admin, grant_type: client_credentials}
                expect: {denied: {error: scope_not_allowed, oauth_error: invalid_client}}
              - name: expected a denial, got a grant
            \(Self.app)
                expect: {denied: {error: no_policy_matched}}
              - name: expected a grant, got a denial
                issuer: cluster
                claims: {sub: "system:serviceaccount:prod:app", kubernetes.io: {namespace: prod}}
                expect: {granted: {policy: app}}
            """
        )
        #expect(
            report.results.map(\.mismatches) == [
                [],
                ["denied with target_not_allowed, expected scope_not_allowed"],
                ["OAuth error is invalid_scope, expected invalid_client"],
                ["granted by policy app, expected denial with no_policy_matched"],
                [#"denied with no_policy_matched (invalid_request "subject token is not permitted by any trust policy"), expected a grant by app"#],
            ]
        )
        #expect(report.summary == "5 cases: 1 passed, 4 failed")
    }

    @Test(
        "the token and request go through the whole pipeline",
        arguments: [
            Case("an expired token", ("iat: 1700000000\n      exp: 1700003600", "", ExchangeError.Code.tokenExpired)),
            Case("a token from the future", ("iat: 1900000000\n      exp: 1900003600", "", .tokenNotYetValid)),
            Case("a token living too long", ("iat: 1799990000\n      exp: 1900000000", "", .tokenLifetimeTooLong)),
            Case("another audience", ("aud: [kube-apiserver]", "", .audienceNotAccepted)),
            Case("another iss", ("iss: https://evil.test", "", .issuerNotTrusted)),
            Case("a malformed scope", ("", "request: {scope: \"read  write\"}", .scopeMalformed)),
            Case("a malformed resource", ("", "request: {resource: not-a-uri}", .resourceMalformed)),
            Case("an unknown grant type", ("", "request: {grant_type: password}", .unsupportedGrantType)),
            Case("another client id", ("", "request: {client_id: other}", .clientIDMismatch)),
            Case("an unsupported requested token type", ("", "request: {requested_token_type: saml}", .unsupportedRequestedTokenType)),
        ]
    )
    func pipeline(_ example: Case<(String, String, ExchangeError.Code)>) async throws {
        let (claims, request, code) = example.value
        let report = try await Self.run(
            """
            cases:
              - name: case
                issuer: cluster
                claims:
                  sub: system:serviceaccount:demo:app
                  kubernetes.io: {namespace: demo}
                  \(claims)
                \(request)
                expect: {denied: {error: \(code.rawValue)}}
            """
        )
        #expect(report.results[0].mismatches == [], "\(report.table())")
    }

    @Test("the table lists every case, explains each failure with every policy's reasons, and ends with the summary")
    func table() async throws {
        let report = try await Self.run(
            """
            cases:
              - name: app reads
            \(Self.app)
                expect: {granted: {policy: app}}
              - name: prod is refused
                issuer: cluster
                claims: {sub: "system:serviceaccount:prod:app", kubernetes.io: {namespace: prod}}
                expect: {granted: {policy: app}}
            """
        )
        let lines = report.table().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("CASE "))
        #expect(lines[0].contains("FILE") && lines[0].contains("EXPECTED") && lines[0].contains("ACTUAL") && lines[0].hasSuffix("RESULT"))
        #expect(lines[1].hasPrefix("app reads ") && lines[1].contains("tests/cases.yaml:2") && lines[1].hasSuffix("pass"))
        #expect(lines[2].contains("granted app") && lines[2].contains("denied no_policy_matched (invalid_request)") && lines[2].hasSuffix("FAIL"))
        let text = report.table()
        #expect(text.contains("Failures:"))
        #expect(text.contains("  prod is refused (tests/cases.yaml:9)"))
        #expect(text.contains(#"      app: not matched: claim [kubernetes.io][namespace] is "prod", expected equals "demo""#))
        #expect(
            text.contains(
                #"      readers: not matched: claim sub is "system:serviceaccount:prod:app", expected glob "system:serviceaccount:readers:*""#
            )
        )
        #expect(lines.last == "2 cases: 1 passed, 1 failed")
    }

    @Test("the JSON report has stable keys")
    func json() async throws {
        let report = try await Self.run("cases:\n  - name: app\n\(Self.app)    expect: {granted: {policy: app, scope: [read]}}\n")
        let json = try JSONValue.parse(Array(report.json.prettyPrinted().utf8))
        #expect(json["summary"] == ["total": 1, "passed": 1, "failed": 0])
        let result = try #require(json["cases"]?.arrayValue?.first?.objectValue)
        #expect(Set(result.keys) == ["name", "file", "line", "issuer", "passed", "expected", "actual", "mismatches", "policies", "issued_claims"])
        #expect(result["line"] == 2)
        #expect(result["expected"]?["policy"] == "app")
        #expect(result["expected"]?["scope"] == ["read"])
        #expect(result["actual"]?["granted"] == true)
        #expect(result["actual"]?["policy"] == "app")
        #expect(result["policies"]?.arrayValue?.map { $0["status"] } == ["granted", "not_reached"])
        #expect(result["issued_claims"]?["namespace"] == "demo")
    }
}
