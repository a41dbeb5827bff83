import Testing
import WIFCore

/// Reading `tests/*.yaml` policy test files: every field, and every problem with its file, line and field.
@Suite("Policy test files")
struct PolicyTestSuiteTests {
    /// The trust-config the cases refer to: two issuers, three policies.
    static let config: TrustConfig = try! TrustConfigLoader.load([
        TrustConfigLoader.File(
            name: "config.yaml",
            contents: """
                issuers:
                  - name: cluster
                    issuer: https://cluster.test
                    keys: {jwks_url: https://cluster.test/jwks}
                    audiences: [wif]
                    algorithms: [ES256]
                  - name: ci
                    issuer: https://ci.test
                    keys: {jwks_url: https://ci.test/jwks}
                    audiences: [https://wif.test]
                    algorithms: [RS256]
                    max_token_lifetime: 30m
                policies:
                  - name: app
                    issuer: cluster
                    conditions:
                      - claim: [kubernetes.io, namespace]
                        equals: demo
                    grant:
                      audiences: [https://api.test, https://other.test]
                      scopes: [read, write]
                      default_scopes: [read]
                      max_lifetime: 15m
                      claims:
                        namespace: [kubernetes.io, namespace]
                  - name: readers
                    issuer: cluster
                    conditions:
                      - claim: sub
                        glob: "system:serviceaccount:readers:*"
                    grant:
                      audiences: [https://api.test]
                      scopes: [read]
                      max_lifetime: 5m
                  - name: deploy
                    issuer: ci
                    conditions:
                      - claim: repository_id
                        equals: "42"
                    grant:
                      audiences: [https://deploy.test]
                      scopes: [deploy]
                """
        )
    ])

    static func load(_ text: String, file: String = "tests/cases.yaml") throws(PolicyTestFileError) -> [PolicyTestCase] {
        try PolicyTestSuite.load([TrustConfigLoader.File(name: file, contents: text)], config: config)
    }

    static func problems(_ text: String) -> [String] {
        do {
            _ = try load(text)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test("a case with every field is read exactly")
    func everyField() throws {
        let cases = try Self.load(
            """
            cases:
              - name: app writes
                issuer: cluster
                claims:
                  sub: system:serviceaccount:demo:app
                  repository_id: "42"
                  count: 42
                  enabled: true
                  nothing: null
                  groups: [a, b]
                  kubernetes.io: {namespace: demo, serviceaccount: {name: app}}
                request:
                  grant_type: urn:ietf:params:oauth:grant-type:jwt-bearer
                  audience: [https://api.test, https://other.test]
                  resource: https://api.test
                  scope: [read, write]
                  client_id: app
                  requested_token_type: urn:ietf:params:oauth:token-type:jwt
                  subject_token_type: urn:ietf:params:oauth:token-type:id_token
                expect:
                  granted:
                    policy: app
                    audience: https://api.test
                    scope: read write
                    claims: {namespace: demo, n: 1}
                    lifetime: 15m
              - name: readers may not write
                issuer: cluster
                claims: {sub: "system:serviceaccount:readers:x"}
                expect:
                  denied: {error: scope_not_allowed, oauth_error: invalid_scope}
            """
        )
        #expect(cases.count == 2)
        let first = cases[0]
        #expect(first.name == "app writes")
        #expect(first.file == "tests/cases.yaml")
        #expect(first.line == 2)
        #expect(first.location == "tests/cases.yaml:2")
        #expect(first.issuer == "cluster")
        #expect(first.claims["repository_id"] == .string("42"))
        #expect(first.claims["count"] == .number(42))
        #expect(first.claims["enabled"] == .bool(true))
        #expect(first.claims["nothing"] == .null)
        #expect(first.claims["groups"] == ["a", "b"])
        #expect(first.claims["kubernetes.io"] == ["namespace": "demo", "serviceaccount": ["name": "app"]])
        #expect(
            first.request
                == TokenRequestParameters(
                    grantType: GrantType.jwtBearer.rawValue,
                    audiences: ["https://api.test", "https://other.test"],
                    resources: ["https://api.test"],
                    scope: "read write",
                    clientID: "app",
                    requestedTokenType: TokenTypeURI.jwt,
                    subjectTokenType: TokenTypeURI.idToken
                )
        )
        #expect(
            first.expectation
                == .granted(
                    .init(
                        policy: "app",
                        audiences: ["https://api.test"],
                        scopes: ["read", "write"],
                        claims: ["namespace": "demo", "n": 1],
                        lifetime: 900
                    )
                )
        )
        #expect(cases[1].request == TokenRequestParameters())
        #expect(cases[1].expectation == .denied(.init(error: .scopeNotAllowed, oauthError: "invalid_scope")))
    }

    @Test("a file with only comments, or an empty case list, has no cases")
    func emptyFiles() throws {
        #expect(try Self.load("# nothing yet\n").isEmpty)
        #expect(try Self.load("cases: []\n").isEmpty)
    }

    @Test(
        "every problem names its file, line and field",
        arguments: [
            Case("an unknown top-level key", ("case:\n  - name: x\n", "tests/cases.yaml:1: case: unknown key (allowed: cases)")),
            Case(
                "an unknown key in a case",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    nmae: y\n    claims: {sub: a}\n    expect: {denied: {error: no_policy_matched}}\n",
                    "tests/cases.yaml:4: cases[0].nmae: unknown key (allowed: claims, expect, issuer, name, request)"
                )
            ),
            Case(
                "an unknown key in a request",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    claims: {sub: a}\n    request:\n      scopes: read\n    expect: {denied: {error: no_policy_matched}}\n",
                    "tests/cases.yaml:6: cases[0].request.scopes: unknown key"
                )
            ),
            Case(
                "an unknown key in an expected grant",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    claims: {sub: a}\n    expect:\n      granted:\n        policy: app\n        polcy: app\n",
                    "tests/cases.yaml:8: cases[0].expect.granted.polcy: unknown key (allowed: audience, claims, lifetime, policy, scope)"
                )
            ),
            Case(
                "a missing expect",
                ("cases:\n  - name: x\n    issuer: cluster\n    claims: {sub: a}\n", "tests/cases.yaml:2: cases[0].expect: is required")
            ),
            Case(
                "a missing sub",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    claims:\n      iss: https://cluster.test\n    expect: {denied: {error: no_policy_matched}}\n",
                    "tests/cases.yaml:5: cases[0].claims.sub: is required"
                )
            ),
            Case(
                "claims that are not a mapping",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    claims: [sub]\n    expect: {denied: {error: no_policy_matched}}\n",
                    "tests/cases.yaml:4: cases[0].claims: expected a mapping of claim names to values"
                )
            ),
            Case(
                "both granted and denied",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    claims: {sub: a}\n    expect:\n      granted: {policy: app}\n      denied: {error: no_policy_matched}\n",
                    "tests/cases.yaml:6: cases[0].expect: name exactly one of granted or denied"
                )
            ),
            Case(
                "an unknown error code",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    claims: {sub: a}\n    expect:\n      denied: {error: invalid_scope}\n",
                    "tests/cases.yaml:6: cases[0].expect.denied.error: \"invalid_scope\" is not a wif error code"
                )
            ),
            Case(
                "an unknown OAuth error",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    claims: {sub: a}\n    expect:\n      denied: {error: scope_not_allowed, oauth_error: bad_scope}\n",
                    "tests/cases.yaml:6: cases[0].expect.denied.oauth_error: \"bad_scope\" is not an OAuth error wif answers with"
                )
            ),
            Case(
                "an unknown issuer",
                (
                    "cases:\n  - name: x\n    issuer: clustr\n    claims: {sub: a}\n    expect: {denied: {error: no_policy_matched}}\n",
                    "tests/cases.yaml:3: cases[0].issuer: no issuer is named \"clustr\" (configured: cluster, ci)"
                )
            ),
            Case(
                "a policy of another issuer",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    claims: {sub: a}\n    expect:\n      granted: {policy: deploy}\n",
                    "tests/cases.yaml:6: cases[0].expect.granted.policy: issuer cluster has no policy named \"deploy\" (it is a policy of issuer ci); its policies: app, readers"
                )
            ),
            Case(
                "a lifetime that is not a duration",
                (
                    "cases:\n  - name: x\n    issuer: cluster\n    claims: {sub: a}\n    expect:\n      granted:\n        policy: app\n        lifetime: 15 minutes\n",
                    "tests/cases.yaml:8: cases[0].expect.granted.lifetime: expected a duration such as 60s, 15m or 1h"
                )
            ),
            Case("a YAML syntax error", ("cases:\n  - name: [x\n", "tests/cases.yaml:3: YAML syntax error")),
        ]
    )
    func problem(_ example: Case<(String, String)>) {
        let problems = Self.problems(example.value.0)
        #expect(problems.contains { $0.hasPrefix(example.value.1) }, "\(problems)")
    }

    @Test("every problem of a file is reported, not just the first")
    func allProblems() {
        let problems = Self.problems(
            """
            cases:
              - name: one
                issuer: nope
                claims: {sub: a}
                expect: {denied: {error: nope}}
              - name: two
                issuer: cluster
                claims: {sub: a}
                expect: {granted: {policy: nope}}
            """
        )
        #expect(problems.count == 3, "\(problems)")
    }

    @Test("case names are unique across files")
    func duplicateNames() {
        let text = "cases:\n  - name: same\n    issuer: cluster\n    claims: {sub: a}\n    expect: {denied: {error: no_policy_matched}}\n"
        do {
            _ = try PolicyTestSuite.load(
                [TrustConfigLoader.File(name: "tests/a.yaml", contents: text), TrustConfigLoader.File(name: "tests/b.yaml", contents: text)],
                config: Self.config
            )
            Issue.record("duplicate names were accepted")
        } catch {
            #expect(error.problems.map(\.description) == ["tests/b.yaml:2: name: duplicate case name \"same\" (first at tests/a.yaml:2)"])
            #expect(error.description.hasPrefix("policy tests have 1 problem:"))
        }
    }
}
