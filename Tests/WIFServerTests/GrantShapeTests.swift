import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing
import WIFCore
import WIFServer
import WIFTesting

/// The RFC 7523 and Entra request shapes, client identification, and RFC 8693 delegation, over real HTTP.
@Suite("Grant shapes, client_id and delegation over real HTTP")
struct GrantShapeTests {
    static let entraPath = "/contoso.onmicrosoft.com/oauth2/v2.0/token"

    func clientCredentials(
        _ harness: ExchangeHarness,
        assertion: String,
        extra: [(String, String)] = [],
        path: String = entraPath
    )
        async throws -> ExchangeHarness.Answer
    {
        let fields =
            [
                ("client_id", ExchangeHarness.billingClientID), ("grant_type", "client_credentials"), ("client_assertion", assertion),
                ("client_info", "1"), ("client_assertion_type", TokenTypeURI.jwtClientAssertion), ("scope", "api://payments/.default"),
            ] + extra
        return try await harness.send(path: path, body: ExchangeHarness.form(fields))
    }

    // MARK: - RFC 7523 jwt-bearer

    @Test("jwt-bearer: an assertion is exchanged through the same policies")
    func jwtBearer() async throws {
        try await ExchangeHarness.with { harness in
            let body = ExchangeHarness.form([
                ("grant_type", GrantType.jwtBearer.rawValue), ("assertion", try harness.validToken()), ("scope", "ledger.write"),
            ])
            let answer = try await harness.send(body: body)
            let claims = try await harness.issuedClaims(answer)
            #expect(claims["sub"] == "system:serviceaccount:payments:api")
            #expect(claims["scope"] == "ledger.write")
            #expect(claims["client_id"] == "payments-api")
            #expect(harness.audit.last?["grant_type"]?.stringValue == GrantType.jwtBearer.rawValue)
        }
    }

    @Test("jwt-bearer: a bad assertion is invalid_grant and named as the assertion")
    func jwtBearerRefused() async throws {
        try await ExchangeHarness.with { harness in
            let forged = try harness.validToken(key: SharedKeys.otherRSA.with(keyID: SharedKeys.issuerRSA.keyID))
            let answer = try await harness.send(body: ExchangeHarness.form([("grant_type", GrantType.jwtBearer.rawValue), ("assertion", forged)]))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_grant",
                description: "assertion signature is invalid",
                reason: "signature_invalid"
            )
        }
    }

    @Test("jwt-bearer: a missing assertion is invalid_request")
    func jwtBearerMissing() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.send(body: ExchangeHarness.form([("grant_type", GrantType.jwtBearer.rawValue)]))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "missing required parameter: assertion",
                reason: "missing_parameter"
            )
        }
    }

    // MARK: - client_credentials with a client assertion (Entra)

    @Test("client_credentials at the Entra path: <audience>/.default, client_info ignored, client_id issued")
    func clientCredentialsEntra() async throws {
        try await ExchangeHarness.with { harness in
            let assertion = try harness.workloadToken(namespace: "payments", serviceAccount: "billing") + "\n"
            let answer = try await clientCredentials(harness, assertion: assertion)
            let claims = try await harness.issuedClaims(answer)
            #expect(claims["aud"] == "api://payments")
            #expect(claims["scope"] == "payments.read")
            #expect(claims["client_id"] == .string(ExchangeHarness.billingClientID))
            #expect(answer.body["expires_in"] == 3600)
            #expect(harness.audit.last?["client_id"] == .string(ExchangeHarness.billingClientID))
        }
    }

    @Test("client_credentials: the same request at /token, with an explicit extra scope")
    func clientCredentialsTokenPath() async throws {
        try await ExchangeHarness.with { harness in
            let assertion = try harness.workloadToken(namespace: "payments", serviceAccount: "billing")
            let answer = try await clientCredentials(
                harness,
                assertion: assertion,
                extra: [("audience", "api://payments")],
                path: "/token"
            )
            let claims = try await harness.issuedClaims(answer)
            #expect(claims["aud"] == "api://payments")
        }
    }

    @Test("client_credentials: a client_id other than the policy's is 401 invalid_client")
    func clientIDMismatch() async throws {
        try await ExchangeHarness.with { harness in
            let assertion = try harness.workloadToken(namespace: "payments", serviceAccount: "billing")
            let fields = [
                ("client_id", "00000000-0000-0000-0000-000000000000"), ("grant_type", "client_credentials"), ("client_assertion", assertion),
                ("client_assertion_type", TokenTypeURI.jwtClientAssertion), ("scope", "api://payments/.default"),
            ]
            let answer = try await harness.send(path: Self.entraPath, body: ExchangeHarness.form(fields))
            harness.expectRefusal(
                answer,
                status: 401,
                error: "invalid_client",
                description: "client_id is not the one the trust policy names",
                reason: "client_id_mismatch"
            )
            #expect(answer.headers["WWW-Authenticate"].first == #"Basic realm="wif""#)
        }
    }

    @Test("client_credentials: a forged client assertion is 401 invalid_client named as the client assertion")
    func clientAssertionForged() async throws {
        try await ExchangeHarness.with { harness in
            let forged = try harness.workloadToken(
                namespace: "payments",
                serviceAccount: "billing",
                key: SharedKeys.otherRSA.with(keyID: SharedKeys.issuerRSA.keyID)
            )
            let answer = try await clientCredentials(harness, assertion: forged)
            harness.expectRefusal(
                answer,
                status: 401,
                error: "invalid_client",
                description: "client assertion signature is invalid",
                reason: "signature_invalid"
            )
            #expect(answer.headers["WWW-Authenticate"].first == #"Basic realm="wif""#)
        }
    }

    @Test("client_credentials: another client_assertion_type is invalid_request")
    func clientAssertionType() async throws {
        try await ExchangeHarness.with { harness in
            let assertion = try harness.workloadToken(namespace: "payments", serviceAccount: "billing")
            let answer = try await clientCredentials(
                harness,
                assertion: assertion,
                extra: [("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")]
            )
            // Sent twice: the repeated singular parameter is refused before its value is looked at.
            harness.expectRefusal(answer, status: 400, error: "invalid_request", reason: "repeated_parameter")
        }
        try await ExchangeHarness.with { harness in
            let assertion = try harness.workloadToken(namespace: "payments", serviceAccount: "billing")
            let fields = [
                ("grant_type", "client_credentials"), ("client_assertion", assertion),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"),
            ]
            let answer = try await harness.send(body: ExchangeHarness.form(fields))
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                reason: "unsupported_assertion_type"
            )
        }
    }

    // MARK: - client_id by HTTP Basic

    @Test("HTTP Basic carrying the policy's client id (no secret) is accepted on token exchange")
    func basicClientID() async throws {
        try await ExchangeHarness.with { harness in
            let credentials = Data("payments-api:".utf8).base64EncodedString()
            let fields = [
                ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token", try harness.validToken()),
                ("subject_token_type", TokenTypeURI.jwt),
            ]
            let answer = try await harness.send(headers: [("Authorization", "Basic \(credentials)")], body: ExchangeHarness.form(fields))
            let claims = try await harness.issuedClaims(answer)
            #expect(claims["client_id"] == "payments-api")
        }
    }

    @Test("HTTP Basic with a secret is 401 invalid_client: wif has no client secrets")
    func basicSecret() async throws {
        try await ExchangeHarness.with { harness in
            let credentials = Data("payments-api:s3cret".utf8).base64EncodedString()
            let fields = [
                ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token", try harness.validToken()),
                ("subject_token_type", TokenTypeURI.jwt),
            ]
            let answer = try await harness.send(headers: [("Authorization", "Basic \(credentials)")], body: ExchangeHarness.form(fields))
            let record = harness.expectRefusal(
                answer,
                status: 401,
                error: "invalid_client",
                description: "wif does not use client secrets: authenticate with the workload's token",
                reason: "client_secret_not_accepted"
            )
            #expect(!(record.map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "").contains("s3cret"))
        }
    }

    @Test("an Authorization header that is not HTTP Basic is 401 invalid_client")
    func bearerAuthorization() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken())
            #expect(answer.status == 200)
        }
        try await ExchangeHarness.with { harness in
            let fields = [
                ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token", try harness.validToken()),
                ("subject_token_type", TokenTypeURI.jwt),
            ]
            let answer = try await harness.send(headers: [("Authorization", "Bearer abc")], body: ExchangeHarness.form(fields))
            harness.expectRefusal(answer, status: 401, error: "invalid_client", reason: "client_authentication_malformed")
        }
    }

    // MARK: - RFC 8693 parameters

    @Test("a token file's trailing newline and surrounding spaces are tolerated")
    func surroundingWhitespace() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange("  " + (try harness.validToken()) + "\r\n")
            _ = try await harness.issuedClaims(answer)
        }
    }

    @Test("requested_token_type jwt is echoed as issued_token_type; another type names the supported ones")
    func requestedTokenType() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(), [("requested_token_type", TokenTypeURI.jwt)])
            #expect(answer.body["issued_token_type"]?.stringValue == TokenTypeURI.jwt)
        }
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(
                try harness.validToken(),
                [("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token")]
            )
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description:
                    "requested_token_type must be one of: urn:ietf:params:oauth:token-type:access_token, urn:ietf:params:oauth:token-type:jwt",
                reason: "unsupported_requested_token_type"
            )
        }
    }

    @Test("resource: an allowed absolute URI becomes the audience; a fragment is invalid_target")
    func resource() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(), [("resource", "https://audit.internal")])
            #expect(try await harness.issuedClaims(answer)["aud"] == "https://audit.internal")
        }
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(), [("resource", "https://audit.internal#x")])
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_target",
                description: "resource must be an absolute URI without a fragment",
                reason: "resource_malformed"
            )
        }
    }

    // MARK: - Delegation

    func delegate(_ harness: ExchangeHarness, subject: String, actor: String) async throws -> ExchangeHarness.Answer {
        try await harness.exchange(subject, [("actor_token", actor), ("actor_token_type", TokenTypeURI.jwt)])
    }

    @Test("delegation: the gateway acts for payments/api; the issued token carries act")
    func delegation() async throws {
        try await ExchangeHarness.with { harness in
            let actor = try harness.workloadToken(namespace: "edge", serviceAccount: "gateway")
            let answer = try await delegate(harness, subject: try harness.validToken(), actor: actor)
            let claims = try await harness.issuedClaims(answer)
            #expect(claims["sub"] == "system:serviceaccount:payments:api")
            #expect(claims["act"] == .object(["sub": "system:serviceaccount:edge:gateway", "iss": .string(harness.issuer.issuerURL)]))
            #expect(harness.audit.last?["actor"]?["subject"] == "system:serviceaccount:edge:gateway")
        }
    }

    @Test("delegation: earlier actors in the subject token's act are nested under the new actor")
    func nestedAct() async throws {
        try await ExchangeHarness.with { harness in
            let earlier: JSONValue = ["sub": "system:serviceaccount:edge:ingress"]
            let subject = try harness.validToken(["act": earlier])
            let actor = try harness.workloadToken(namespace: "edge", serviceAccount: "gateway")
            let claims = try await harness.issuedClaims(try await delegate(harness, subject: subject, actor: actor))
            #expect(claims["act"]?["sub"] == "system:serviceaccount:edge:gateway")
            #expect(claims["act"]?["act"] == earlier)
        }
    }

    @Test("delegation: an actor no rule names is actor_not_permitted")
    func actorNotPermitted() async throws {
        try await ExchangeHarness.with { harness in
            let actor = try harness.workloadToken(namespace: "edge", serviceAccount: "intruder")
            let answer = try await delegate(harness, subject: try harness.validToken(), actor: actor)
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "actor is not permitted to act for the subject",
                reason: "actor_not_permitted"
            )
        }
    }

    @Test("delegation: a policy without a delegation section refuses every actor")
    func noDelegationSection() async throws {
        try await ExchangeHarness.with { harness in
            let subject = try harness.workloadToken(namespace: "payments", serviceAccount: "billing")
            let actor = try harness.workloadToken(namespace: "edge", serviceAccount: "gateway")
            let answer = try await delegate(harness, subject: subject, actor: actor)
            harness.expectRefusal(answer, status: 400, error: "invalid_request", reason: "actor_not_permitted")
        }
    }

    @Test("delegation: a forged actor token is refused and named as the actor token")
    func forgedActor() async throws {
        try await ExchangeHarness.with { harness in
            let actor = try harness.workloadToken(
                namespace: "edge",
                serviceAccount: "gateway",
                key: SharedKeys.otherRSA.with(keyID: SharedKeys.issuerRSA.keyID)
            )
            let answer = try await delegate(harness, subject: try harness.validToken(), actor: actor)
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "actor token signature is invalid",
                reason: "signature_invalid"
            )
        }
    }

    @Test("delegation: the subject token's may_act narrows who may act", arguments: [true, false])
    func mayAct(namesGateway: Bool) async throws {
        try await ExchangeHarness.with { harness in
            let allowed = namesGateway ? "system:serviceaccount:edge:gateway" : "system:serviceaccount:edge:other"
            let subject = try harness.validToken(["may_act": ["sub": .string(allowed)]])
            let actor = try harness.workloadToken(namespace: "edge", serviceAccount: "gateway")
            let answer = try await delegate(harness, subject: subject, actor: actor)
            if namesGateway {
                #expect(try await harness.issuedClaims(answer)["act"]?["sub"] == "system:serviceaccount:edge:gateway")
            } else {
                harness.expectRefusal(answer, status: 400, error: "invalid_request", reason: "actor_not_permitted")
            }
        }
    }

    @Test("delegation: actor_token without actor_token_type is invalid_request")
    func actorTokenType() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(), [("actor_token", "x")])
            harness.expectRefusal(
                answer,
                status: 400,
                error: "invalid_request",
                description: "missing required parameter: actor_token_type",
                reason: "missing_parameter"
            )
        }
    }

    // MARK: - Entra discovery

    @Test("the Entra discovery document names the tenant's token and authorization endpoints")
    func entraDiscovery() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.send(
                method: .GET,
                path: "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                contentType: nil,
                body: ""
            )
            #expect(answer.status == 200)
            let base = harness.wifIssuerURL + "/contoso.onmicrosoft.com"
            #expect(answer.body["token_endpoint"]?.stringValue == base + "/oauth2/v2.0/token")
            #expect(answer.body["authorization_endpoint"]?.stringValue == base + "/oauth2/v2.0/authorize")
            #expect(answer.body["issuer"]?.stringValue == harness.wifIssuerURL)
            #expect(answer.body["jwks_uri"]?.stringValue == harness.wifIssuerURL + "/.well-known/jwks.json")
            let grants = answer.body["grant_types_supported"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(Set(grants) == Set(GrantType.allCases.map(\.rawValue)))
        }
    }

    @Test("the authorization endpoint the tenant document names answers unsupported_response_type")
    func entraAuthorize() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.send(method: .GET, path: "/contoso/oauth2/v2.0/authorize", contentType: nil, body: "")
            #expect(answer.status == 400)
            #expect(answer.body["error"] == "unsupported_response_type")
        }
    }

    @Test("a tenant segment that is not a plain name is 404", arguments: ["a%20b", "%2E%2E", "...", String(repeating: "t", count: 65)])
    func badTenant(tenant: String) async throws {
        try await ExchangeHarness.with { harness in
            let discovery = try await harness.send(method: .GET, path: "/\(tenant)/v2.0/.well-known/openid-configuration", contentType: nil, body: "")
            #expect(discovery.status == 404)
            let token = try await harness.send(path: "/\(tenant)/oauth2/v2.0/token", body: "grant_type=client_credentials")
            #expect(token.status == 404)
            #expect(token.body["access_token"] == nil)
        }
    }
}
