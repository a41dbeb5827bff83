import AsyncHTTPClient
import FoundationEssentials
import JWTKit
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import WIFCore
import WIFSources
import WIFTesting

/// What a resource server would decode from a wif access token, checked by jwt-kit (an independent JOSE
/// implementation) against wif's served JWKS.
struct IssuedClaims: JWTPayload {
    let iss: IssuerClaim
    let sub: SubjectClaim
    let aud: AudienceClaim
    let exp: ExpirationClaim
    let iat: IssuedAtClaim
    let nbf: NotBeforeClaim
    let jti: IDClaim
    let client_id: String
    let scope: String
    let namespace: String
    let service_account: String

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

@Suite("POST /token over real HTTP")
struct TokenEndpointTests {
    @Test("a valid Kubernetes token is exchanged for an at+jwt that jwt-kit verifies against the served JWKS")
    func happyPath() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(
                try harness.validToken(),
                [("audience", "https://ledger.internal"), ("scope", "ledger.read ledger.write")]
            )
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.headers["Cache-Control"].first == "no-store")
            #expect(answer.headers["Pragma"].first == "no-cache")
            #expect(answer.body["token_type"] == "Bearer")
            #expect(answer.body["issued_token_type"]?.stringValue == TokenTypeURI.accessToken)
            #expect(answer.body["expires_in"] == 900)
            #expect(answer.body["scope"] == "ledger.read ledger.write")
            let accessToken = try #require(answer.body["access_token"]?.stringValue)

            let jwks = try await harness.send(method: .GET, path: "/.well-known/jwks.json", contentType: nil, body: "")
            let keys = try await JWTKeyCollection().add(jwksJSON: jwks.text)
            let claims = try await keys.verify(accessToken, as: IssuedClaims.self)
            #expect(claims.iss.value == harness.wifIssuerURL)
            #expect(claims.sub.value == "system:serviceaccount:payments:api")
            #expect(claims.aud.value == ["https://ledger.internal"])
            #expect(claims.scope == "ledger.read ledger.write")
            #expect(claims.client_id == "payments-api")
            #expect(claims.namespace == "payments")
            #expect(claims.service_account == "api")
            #expect(claims.exp.value.timeIntervalSince1970 == ExchangeHarness.now + 900)
            #expect(claims.iat.value.timeIntervalSince1970 == ExchangeHarness.now)

            let header = try JSONValue.parse(try #require(Base64URL.decode(String(accessToken.split(separator: ".")[0]))))
            #expect(header["typ"] == "at+jwt")
            #expect(header["alg"] == "ES256")
            #expect(header["kid"] != nil)

            let record = try #require(harness.audit.last)
            #expect(harness.audit.count == 1)
            #expect(record["outcome"] == "granted")
            #expect(record["policy"] == "payments-api")
            #expect(record["subject"] == "system:serviceaccount:payments:api")
            #expect(record["issuer"] == "cluster")
            #expect(!record.displayText.contains(accessToken.prefix(30)))
        }
    }

    @Test("omitted audience and scope get the policy's first audience and default scopes; lifetime never outlives the subject token")
    func defaultsAndLifetime() async throws {
        try await ExchangeHarness.with { harness in
            let shortLived = try harness.validToken(["exp": .number(ExchangeHarness.now + 120)])
            let answer = try await harness.exchange(shortLived)
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.body["scope"] == "ledger.read")
            #expect(answer.body["expires_in"] == 120)
            let token = try #require(answer.body["access_token"]?.stringValue)
            let claims = try JSONValue.parse(try #require(Base64URL.decode(String(token.split(separator: ".")[1]))))
            #expect(claims["aud"] == "https://ledger.internal")
        }
    }

    @Test("a Kubernetes token extended to a year is accepted as the hour it is warned after, and the issued token ends there")
    func extendedKubernetesToken() async throws {
        try await ExchangeHarness.with { harness in
            var claims = harness.claims().objectValue!
            claims["exp"] = .number(ExchangeHarness.now + 365 * 86400)
            var kubernetes = claims["kubernetes.io"]!.objectValue!
            kubernetes["warnafter"] = .number(ExchangeHarness.now + 300)
            claims["kubernetes.io"] = .object(kubernetes)
            let answer = try await harness.exchange(try TokenFactory.token(claims: .object(claims), key: SharedKeys.issuerRSA))
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.body["expires_in"] == 300)
        }
    }

    @Test("an ES256 subject token verifies too, and the issuer's keys are fetched once for many requests")
    func keysFetchedOnce() async throws {
        try await ExchangeHarness.with { harness in
            for key in [SharedKeys.issuerEC, SharedKeys.issuerRSA, SharedKeys.issuerEC] {
                let answer = try await harness.exchange(try harness.validToken(key: key))
                #expect(answer.status == 200, "\(answer.text)")
            }
            #expect(harness.issuer.hits == ["/.well-known/openid-configuration", "/jwks"])
        }
    }

    @Test("discovery metadata at both well-known paths, the JWKS, healthz and readyz")
    func metadata() async throws {
        try await ExchangeHarness.with { harness in
            for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
                let answer = try await harness.send(method: .GET, path: path, contentType: nil, body: "")
                #expect(answer.status == 200)
                #expect(answer.body["issuer"]?.stringValue == harness.wifIssuerURL)
                #expect(answer.body["token_endpoint"]?.stringValue == harness.wifIssuerURL + "/token")
                #expect(answer.body["jwks_uri"]?.stringValue == harness.wifIssuerURL + "/.well-known/jwks.json")
            }
            let jwks = try await harness.send(method: .GET, path: "/.well-known/jwks.json", contentType: nil, body: "")
            let key = try #require(jwks.body["keys"]?.arrayValue?.first)
            #expect(key["kty"] == "EC")
            #expect(key["alg"] == "ES256")
            #expect(key["d"] == nil)
            #expect(try await harness.send(method: .GET, path: "/healthz", contentType: nil, body: "").status == 200)
            // Not ready until an issuer has keys (the refresher fetches them at start; here, the first exchange).
            #expect(try await harness.send(method: .GET, path: "/readyz", contentType: nil, body: "").status == 503)
            _ = try await harness.exchange(try harness.validToken())
            #expect(try await harness.send(method: .GET, path: "/readyz", contentType: nil, body: "").status == 200)
        }
    }
}

/// One test per rejection reason: exact status, OAuth error, description, the shared invariants, and the audit reason.
@Suite("POST /token refusals")
struct TokenRefusalTests {
    static let exchange = GrantType.tokenExchange.rawValue
    static let jwt = TokenTypeURI.jwt

    @Test("when the issuer publishes no usable key: 503 temporarily_unavailable with Retry-After, and no fetch per request")
    func issuerKeysUnavailable() async throws {
        try await ExchangeHarness.with { harness in
            harness.issuer.publish([])
            let token = try harness.validToken()
            let answer = try await harness.exchange(token)
            harness.expectRefusal(
                answer,
                status: 503,
                error: "temporarily_unavailable",
                description: "issuer keys are temporarily unavailable",
                reason: "issuer_keys_unavailable"
            )
            #expect(answer.headers["Retry-After"].first == "30")
            _ = try await harness.exchange(token)
            #expect(harness.issuer.hits == ["/.well-known/openid-configuration", "/jwks"])
        }
    }

    @Test("a JWKS that trickles its body is cut off by the fetch deadline: 503, not a hung request")
    func tricklingKeySource() async throws {
        var limits = IssuerKeyStore.Limits()
        limits.timeout = .milliseconds(500)
        try await ExchangeHarness.with(keyLimits: limits) { harness in
            harness.issuer.trickleJWKS(true)
            let started = ContinuousClock.now
            let answer = try await harness.exchange(try harness.validToken())
            // The deadline is 500 ms and the trickle would take minutes; the margin is for a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(15))
            harness.expectRefusal(
                answer,
                status: 503,
                error: "temporarily_unavailable",
                description: "issuer keys are temporarily unavailable",
                reason: "issuer_keys_unavailable"
            )
        }
    }

    @Test("a tampered payload fails the signature check")
    func badSignature() async throws {
        try await ExchangeHarness.with { harness in
            let valid = try harness.validToken()
            let parts = valid.split(separator: ".").map(String.init)
            let forged = Base64URL.encode(harness.claims(namespace: "payments", serviceAccount: "worker").serialized())
            let answer = try await harness.exchange([parts[0], forged, parts[2]].joined(separator: "."))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token signature is invalid",
                reason: "signature_invalid"
            )
        }
    }

    @Test("a token signed by a key the issuer does not publish (unknown kid) is refused")
    func unknownKid() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(key: SharedKeys.otherRSA))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token signing key is not known",
                reason: "key_not_found"
            )
        }
    }

    @Test("a token from an unconfigured issuer is refused and its discovery is never fetched")
    func wrongIssuer() async throws {
        try await ExchangeHarness.with { harness in
            let attacker = try await TestIssuer.start(keys: [SharedKeys.otherRSA])
            let token = try TokenFactory.token(claims: harness.claims(["iss": .string(attacker.issuerURL)]), key: SharedKeys.otherRSA)
            let answer = try await harness.exchange(token)
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token issuer is not trusted",
                reason: "issuer_not_trusted"
            )
            #expect(attacker.hits.isEmpty)
            await attacker.stop()
        }
    }

    @Test("an issuer URL with a trailing slash is another issuer")
    func issuerNearMiss() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(["iss": .string(harness.issuer.issuerURL + "/")]))
            harness.expectRefusal(answer, status: 400, error: "invalid_request", reason: "issuer_not_trusted")
        }
    }

    @Test("a token for another audience is refused")
    func wrongAudience() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(["aud": ["https://kubernetes.default.svc"]]))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token audience is not accepted",
                reason: "audience_not_accepted"
            )
        }
    }

    @Test("an expired token is refused (beyond the 60 s leeway)")
    func expired() async throws {
        try await ExchangeHarness.with { harness in
            let token = try harness.validToken([
                "iat": .number(ExchangeHarness.now - 4000), "nbf": .number(ExchangeHarness.now - 4000), "exp": .number(ExchangeHarness.now - 61),
            ])
            let answer = try await harness.exchange(token)
            harness.expectRefusal(answer, status: 400, error: "invalid_request", description: "subject token expired", reason: "token_expired")
        }
    }

    @Test("a token not yet valid is refused (beyond the 60 s leeway)")
    func notYetValid() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(["nbf": .number(ExchangeHarness.now + 120)]))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token is not yet valid",
                reason: "token_not_yet_valid"
            )
        }
    }

    @Test("alg none is refused whatever the signature segment holds")
    func algNone() async throws {
        try await ExchangeHarness.with { harness in
            let header = JSONValue.object(["alg": "none", "kid": "cluster-rsa-1"]).serialized()
            let token = try TokenFactory.raw(header: header, payload: harness.claims().serialized(), key: nil) + "c2ln"
            let answer = try await harness.exchange(token)
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token algorithm is not allowed",
                reason: "algorithm_not_allowed"
            )
        }
    }

    @Test("an algorithm outside the issuer's allow-list is refused before any key lookup, even with an unknown kid")
    func algorithmOutsideAllowList() async throws {
        try await ExchangeHarness.with { harness in
            let key = SharedKeys.issuerRSA.with(keyID: "never-published")
            let header = JSONValue.object(["alg": "PS256", "kid": "never-published", "typ": "JWT"]).serialized()
            let token = try TokenFactory.raw(header: header, payload: harness.claims().serialized(), key: key, algorithm: .ps256)
            let answer = try await harness.exchange(token)
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token algorithm is not allowed",
                reason: "algorithm_not_allowed"
            )
            #expect(harness.issuer.hits.isEmpty)
        }
    }

    @Test("HS256 keyed with the issuer's public key is refused")
    func hmacWithPublicKey() async throws {
        try await ExchangeHarness.with { harness in
            let header = JSONValue.object(["alg": "HS256", "kid": "cluster-rsa-1", "typ": "JWT"]).serialized()
            let input = Base64URL.encode(header) + "." + Base64URL.encode(harness.claims().serialized())
            let mac = HMACProbe.sha256(key: SharedKeys.issuerRSA.publicJWK.serialized(), message: Array(input.utf8))
            let answer = try await harness.exchange(input + "." + Base64URL.encode(mac))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token algorithm is not allowed",
                reason: "algorithm_not_allowed"
            )
        }
    }

    @Test("wif's own access token replayed as a subject token is refused")
    func ownTokenReplayed() async throws {
        try await ExchangeHarness.with { harness in
            let first = try await harness.exchange(try harness.validToken())
            let issued = try #require(first.body["access_token"]?.stringValue)
            harness.auditBox.lines.withLock { $0.removeAll() }
            let answer = try await harness.exchange(issued)
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token issuer is not trusted",
                reason: "issuer_not_trusted"
            )
        }
    }

    @Test("a regex policy does not match a longer subject: patterns are anchored")
    func anchoredRegex() async throws {
        try await ExchangeHarness.with { harness in
            let allowed = try harness.validToken(["sub": "system:serviceaccount:ci:release", "kubernetes.io": ["namespace": "ci"]])
            #expect(try await harness.exchange(allowed).status == 200)
            harness.auditBox.lines.withLock { $0.removeAll() }
            let longer = try harness.validToken(["sub": "system:serviceaccount:ci:release-evil", "kubernetes.io": ["namespace": "ci"]])
            let answer = try await harness.exchange(longer)
            let record = harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "subject token is not permitted by any trust policy",
                reason: "no_policy_matched"
            )
            #expect(record?["stage"] == "policy")
            #expect(answer.text.contains("release-evil") == false)
        }
    }

    @Test("a scope beyond the policy's is invalid_scope")
    func scopeNotAllowed() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(), [("scope", "ledger.read admin")])
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_scope",
                description: "requested scope is not allowed",
                reason: "scope_not_allowed"
            )
        }
    }

    @Test("an audience the policy does not grant is invalid_target, even when another requested one is granted")
    func audienceNotAllowed() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(
                try harness.validToken(),
                [("audience", "https://ledger.internal"), ("audience", "https://deploy.internal")]
            )
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_target",
                description: "requested audience is not allowed",
                reason: "target_not_allowed"
            )
        }
    }

    @Test(
        "missing required parameters are invalid_request",
        arguments: [
            ("grant_type", "missing required parameter: grant_type"),
            ("subject_token", "missing required parameter: subject_token"),
            ("subject_token_type", "missing required parameter: subject_token_type"),
        ]
    )
    func missingParameter(name: String, description: String) async throws {
        try await ExchangeHarness.with { harness in
            let fields = [("grant_type", Self.exchange), ("subject_token_type", Self.jwt), ("subject_token", try harness.validToken())].filter {
                $0.0 != name
            }
            let answer = try await harness.send(body: ExchangeHarness.form(fields))
            harness.expectRefusal(answer, status: 400, error: "invalid_request", description: description, reason: "missing_parameter")
        }
    }

    @Test("an empty subject_token counts as missing")
    func emptySubjectToken() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.send(
                body: ExchangeHarness.form([("grant_type", Self.exchange), ("subject_token_type", Self.jwt), ("subject_token", "")])
            )
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "missing required parameter: subject_token",
                reason: "missing_parameter"
            )
        }
    }

    @Test("unsupported grant types are unsupported_grant_type", arguments: ["password", "authorization_code", "refresh_token", "urn:x:y"])
    func unsupportedGrant(grant: String) async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.send(body: ExchangeHarness.form([("grant_type", grant), ("subject_token", "x")]))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "unsupported_grant_type",
                description:
                    "grant_type must be one of: urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:jwt-bearer, client_credentials",
                reason: "unsupported_grant_type"
            )
        }
    }

    @Test("an unsupported subject_token_type is invalid_request")
    func unsupportedSubjectTokenType() async throws {
        try await ExchangeHarness.with { harness in
            let fields = [
                ("grant_type", Self.exchange), ("subject_token_type", "urn:ietf:params:oauth:token-type:saml2"),
                ("subject_token", try harness.validToken()),
            ]
            let answer = try await harness.send(body: ExchangeHarness.form(fields))
            harness.expectRefusal(answer, status: 400, error: "invalid_request", reason: "unsupported_subject_token_type")
        }
    }

    @Test("a repeated single-valued parameter is invalid_request whatever the order")
    func repeatedParameter() async throws {
        try await ExchangeHarness.with { harness in
            let token = try harness.validToken()
            let fields = [("grant_type", Self.exchange), ("subject_token_type", Self.jwt), ("subject_token", token), ("subject_token", "hostile")]
            let answer = try await harness.send(body: ExchangeHarness.form(fields))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "parameter included more than once: subject_token",
                reason: "repeated_parameter"
            )
        }
    }

    @Test("a body over 64 KiB is refused with 413")
    func oversizedBody() async throws {
        try await ExchangeHarness.with { harness in
            let body = ExchangeHarness.form([("grant_type", Self.exchange), ("padding", String(repeating: "a", count: 70 * 1024))])
            let answer = try await harness.send(body: body)
            harness.expectRefusal(answer, status: 413, error: "invalid_request", description: "request body is too large", reason: "body_too_large")
        }
    }

    @Test("an oversized subject token is refused before any decoding")
    func oversizedToken() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(String(repeating: "a", count: 20 * 1024) + ".b.c")
            harness.expectRefusal(answer, status: 400, error: "invalid_request", description: "subject token is too large", reason: "token_too_large")
            #expect(harness.issuer.hits.isEmpty)
        }
    }

    @Test("a JSON body is refused with 415")
    func wrongContentType() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.send(
                contentType: "application/json",
                body: #"{"grant_type":"urn:ietf:params:oauth:grant-type:token-exchange"}"#
            )
            harness.expectRefusal(answer, status: 415, error: "invalid_request", reason: "unsupported_media_type")
        }
    }

    @Test("the form's media type is matched case-insensitively, ignoring parameters and spaces, and nothing else passes for it")
    func formMediaType() async throws {
        try await ExchangeHarness.with { harness in
            let body = ExchangeHarness.form([
                ("grant_type", Self.exchange), ("subject_token_type", Self.jwt), ("subject_token", try harness.validToken()),
            ])
            for accepted in [
                "application/x-www-form-urlencoded; charset=UTF-8", "Application/X-WWW-Form-URLEncoded",
                " application/x-www-form-urlencoded\t;charset=utf-8",
            ] {
                #expect(try await harness.send(contentType: accepted, body: body).status == 200, "\(accepted)")
            }
            for refused in [
                "application/x-www-form-urlencodedx", "application/x-www-form", ";application/x-www-form-urlencoded", "",
                "multipart/form-data", "application/x-www-form-urlencoded/x",
            ] {
                let answer = try await harness.send(contentType: refused, body: body)
                #expect(answer.status == 415, "\(refused)")
                #expect(answer.body["error"]?.stringValue == "invalid_request" && answer.body["access_token"] == nil)
                #expect(harness.audit.last?["reason"]?.stringValue == "unsupported_media_type")
            }
        }
    }

    @Test("parameters in the query string are refused and never merged")
    func queryParameters() async throws {
        try await ExchangeHarness.with { harness in
            let body = ExchangeHarness.form([
                ("grant_type", Self.exchange), ("subject_token_type", Self.jwt), ("subject_token", try harness.validToken()),
            ])
            let answer = try await harness.send(path: "/token?subject_token=abc", body: body)
            harness.expectRefusal(answer, status: 400, error: "invalid_request", reason: "query_parameters_not_allowed")
        }
    }

    @Test("GET /token is 405 with Allow: POST and an OAuth body")
    func getIsNotAllowed() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.send(method: .GET, contentType: nil, body: "")
            harness.expectRefusal(answer, status: 405, error: "invalid_request", reason: "method_not_allowed")
            #expect(answer.headers["Allow"].first == "POST")
        }
    }

    @Test("broken percent-encoding is invalid_request")
    func brokenEncoding() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.send(body: "grant_type=urn%zz&subject_token=x")
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "request body has invalid percent-encoding",
                reason: "malformed_form"
            )
        }
    }
}
