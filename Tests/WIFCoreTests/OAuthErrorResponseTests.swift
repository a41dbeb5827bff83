import Testing
import WIFCore
import WIFTesting

@Suite("OAuthErrorResponse: the one error-to-OAuth mapping")
struct OAuthErrorResponseTests {
    typealias Code = ExchangeError.Code

    /// The published table (security-cases.md §1.1, decision D1) for the token-exchange grant, written out per
    /// code so that a code moved to another category is caught.
    static let tokenExchangeTable: [Code: (status: Int, error: String)] = [
        .methodNotAllowed: (405, "invalid_request"),
        .unsupportedMediaType: (415, "invalid_request"),
        .bodyTooLarge: (413, "invalid_request"),
        .requestTimeout: (408, "invalid_request"),
        .malformedForm: (400, "invalid_request"),
        .queryParametersNotAllowed: (400, "invalid_request"),
        .missingParameter: (400, "invalid_request"),
        .repeatedParameter: (400, "invalid_request"),
        .unsupportedSubjectTokenType: (400, "invalid_request"),
        .unsupportedRequestedTokenType: (400, "invalid_request"),
        .unsupportedActorTokenType: (400, "invalid_request"),
        .unsupportedAssertionType: (400, "invalid_request"),
        .conflictingClientID: (400, "invalid_request"),
        .dryRunActorToken: (400, "invalid_request"),
        .unsupportedGrantType: (400, "unsupported_grant_type"),
        .clientAuthenticationMalformed: (401, "invalid_client"),
        .clientSecretNotAccepted: (401, "invalid_client"),
        .clientIDMismatch: (401, "invalid_client"),
        .tokenTooLarge: (400, "invalid_request"),
        .tokenMalformed: (400, "invalid_request"),
        .tokenHeaderInvalid: (400, "invalid_request"),
        .tokenClaimsInvalid: (400, "invalid_request"),
        .tokenHeaderUnsupported: (400, "invalid_request"),
        .tokenTypeNotAccepted: (400, "invalid_request"),
        .algorithmNotAllowed: (400, "invalid_request"),
        .issuerNotTrusted: (400, "invalid_request"),
        .keyNotFound: (400, "invalid_request"),
        .signatureInvalid: (400, "invalid_request"),
        .tokenExpired: (400, "invalid_request"),
        .tokenNotYetValid: (400, "invalid_request"),
        .tokenLifetimeTooLong: (400, "invalid_request"),
        .audienceNotAccepted: (400, "invalid_request"),
        .noPolicyMatched: (400, "invalid_request"),
        .actorNotPermitted: (400, "invalid_request"),
        .targetNotAllowed: (400, "invalid_target"),
        .resourceMalformed: (400, "invalid_target"),
        .scopeNotAllowed: (400, "invalid_scope"),
        .scopeMalformed: (400, "invalid_scope"),
        .rateLimited: (429, "temporarily_unavailable"),
        .overloaded: (503, "temporarily_unavailable"),
        .issuerKeysUnavailable: (503, "temporarily_unavailable"),
        .signingKeyUnavailable: (503, "temporarily_unavailable"),
        .auditLogUnavailable: (503, "temporarily_unavailable"),
        .internalError: (500, "server_error"),
    ]

    static let tokenCodes: [Code] = [
        .tokenTooLarge, .tokenMalformed, .tokenHeaderInvalid, .tokenClaimsInvalid, .tokenHeaderUnsupported, .tokenTypeNotAccepted,
        .algorithmNotAllowed, .issuerNotTrusted, .keyNotFound, .signatureInvalid, .tokenExpired, .tokenNotYetValid, .tokenLifetimeTooLong,
        .audienceNotAccepted, .noPolicyMatched, .actorNotPermitted,
    ]

    static func response(_ code: Code, grant: GrantType?) -> OAuthErrorResponse {
        OAuthErrorResponse(ExchangeError(code, "fixed description"), grant: grant)
    }

    @Test("the table covers every code")
    func coversEveryCode() {
        #expect(Set(Code.allCases) == Set(Self.tokenExchangeTable.keys))
    }

    @Test("token exchange: every code maps to its status and error", arguments: Code.allCases)
    func tokenExchange(_ code: Code) throws {
        let expected = try #require(Self.tokenExchangeTable[code])
        let response = Self.response(code, grant: .tokenExchange)
        #expect(response.status == expected.status)
        #expect(response.error == expected.error)
        #expect(response.errorDescription == "fixed description")
    }

    @Test("a token refused for a token-exchange request is invalid_request (RFC 8693 §2.2.2)", arguments: tokenCodes)
    func tokenCategoryTokenExchange(_ code: Code) {
        let response = Self.response(code, grant: .tokenExchange)
        #expect((response.status, response.error) == (400, "invalid_request"))
        #expect(response.retryAfter == nil)
    }

    @Test("a token refused for a jwt-bearer request is invalid_grant (RFC 7523 §3.1)", arguments: tokenCodes)
    func tokenCategoryJWTBearer(_ code: Code) {
        let response = Self.response(code, grant: .jwtBearer)
        #expect((response.status, response.error) == (400, "invalid_grant"))
    }

    @Test("a client assertion refused for client_credentials is 401 invalid_client (RFC 7523 §3.2)", arguments: tokenCodes)
    func tokenCategoryClientCredentials(_ code: Code) {
        let response = Self.response(code, grant: .clientCredentials)
        #expect((response.status, response.error) == (401, "invalid_client"))
    }

    @Test("a token refusal with no known grant is invalid_request")
    func tokenCategoryNoGrant() {
        let response = Self.response(.signatureInvalid, grant: nil)
        #expect((response.status, response.error) == (400, "invalid_request"))
    }

    @Test("every non-token code maps the same whatever the grant", arguments: Code.allCases.filter { ExchangeError($0, "").category != .token })
    func grantIndependent(_ code: Code) {
        let reference = Self.response(code, grant: .tokenExchange)
        for grant in [GrantType.jwtBearer, .clientCredentials, nil] {
            let response = Self.response(code, grant: grant)
            #expect(response == reference)
        }
    }

    @Test("unavailable is 503 and a rate limit 429, both with Retry-After; nothing else carries one")
    func retryAfter() {
        for code in Code.allCases {
            let response = Self.response(code, grant: .tokenExchange)
            if response.status == 503 || response.status == 429 {
                #expect((response.retryAfter ?? 0) > 0, "\(code)")
            } else {
                #expect(response.retryAfter == nil, "\(code)")
            }
        }
        #expect(Self.response(.issuerKeysUnavailable, grant: .tokenExchange).retryAfter == 30)
        let limited = OAuthErrorResponse(ExchangeError(.rateLimited, "too many requests", retryAfter: 7), grant: .jwtBearer)
        #expect((limited.status, limited.error, limited.retryAfter) == (429, "temporarily_unavailable", 7))
        let overloaded = OAuthErrorResponse(ExchangeError(.overloaded, "busy", retryAfter: 1), grant: .clientCredentials)
        #expect((overloaded.status, overloaded.error, overloaded.retryAfter) == (503, "temporarily_unavailable", 1))
    }

    @Test("internal errors are 500 server_error")
    func internalError() {
        let response = Self.response(.internalError, grant: .jwtBearer)
        #expect((response.status, response.error, response.retryAfter) == (500, "server_error", nil))
    }

    @Test("the body is exactly the two OAuth members")
    func body() throws {
        let response = OAuthErrorResponse(
            ExchangeError(.tokenExpired, "subject token expired", detail: "exp 1799999000, secret detail"),
            grant: .tokenExchange
        )
        #expect(String(decoding: response.body(), as: UTF8.self) == #"{"error":"invalid_request","error_description":"subject token expired"}"#)
        #expect(try JSONValue.parse(response.body()) == ["error": "invalid_request", "error_description": "subject token expired"])
        #expect(
            try JSONValue.parse(response.body(requestID: "4f2a"))
                == ["error": "invalid_request", "error_description": "subject token expired (request 4f2a)"]
        )
    }

    @Test("error codes are ASCII within RFC 6749 §5.2's set", arguments: Code.allCases)
    func errorCharacters(_ code: Code) {
        for grant in [GrantType.tokenExchange, .jwtBearer, .clientCredentials, nil] {
            #expect(isOAuthErrorText(Self.response(code, grant: grant).error))
        }
    }

    @Test("errors compare by code; category and stage follow the code")
    func errorIdentity() {
        #expect(ExchangeError(.tokenExpired, "a", detail: "x") == ExchangeError(.tokenExpired, "b"))
        #expect(ExchangeError(.tokenExpired, "a") != ExchangeError(.tokenNotYetValid, "a"))
        #expect(ExchangeError(.signatureInvalid, "").stage == "signature")
        #expect(ExchangeError(.keyNotFound, "").stage == "signature")
        #expect(ExchangeError(.noPolicyMatched, "").stage == "policy")
        #expect(ExchangeError(.tokenExpired, "").stage == "claims")
        #expect(ExchangeError(.tokenMalformed, "").stage == "parse")
        #expect(ExchangeError(.missingParameter, "").stage == "request")
        #expect(ExchangeError(.scopeNotAllowed, "").stage == "grant")
        #expect(ExchangeError(.issuerKeysUnavailable, "").stage == "internal")
    }

    // MARK: - Descriptions produced by the core

    /// Strings an attacker controls, planted in every place of a request and token.
    static let hostile = ["\"quote", "back\\slash", "new\nline{\"outcome\":\"allowed\"}", "\u{1B}[31mansi", "nön-ascii", "\u{7F}del"]

    /// Every ExchangeError the core produces for a corpus of hostile forms, tokens and requests.
    static func producedErrors() -> [ExchangeError] {
        var errors: [ExchangeError] = []
        func collect<T>(_ body: () throws(ExchangeError) -> T) {
            if let error = refusal(body) { errors.append(error) }
        }
        func formEncode(_ text: String) -> String {
            text.utf8.map { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPad()
            }.joined()
        }
        let grant = "grant_type=" + formEncode(GrantType.tokenExchange.rawValue)
        let type = "subject_token_type=" + formEncode(TokenTypeURI.jwt)
        var bodies = [
            "", "%zz", "a=%00", "scope=%FF", grant, "grant_type=password", "\(grant)&\(grant)", "\(grant)&subject_token=t",
            "\(grant)&subject_token=t&subject_token_type=x", "\(grant)&subject_token=t&\(type)&requested_token_type=x",
            "\(grant)&subject_token=t&\(type)&actor_token=a", "\(grant)&subject_token=t&\(type)&scope=a++b",
            "\(grant)&subject_token=t&\(type)&actor_token=a&actor_token_type=x", "\(grant)&subject_token=t&\(type)&resource=javascript%3Ax",
            "\(grant)&subject_token=t&\(type)&client_secret=s", "grant_type=client_credentials&client_assertion_type=x&client_assertion=t",
        ]
        for text in hostile {
            bodies.append("\(grant)&subject_token=t&\(type)&scope=" + formEncode(text))
            bodies.append("\(grant)&subject_token=t&subject_token_type=" + formEncode(text))
            bodies.append("grant_type=" + formEncode(text))
            bodies.append(formEncode(text) + "=1&" + formEncode(text) + "=2&\(grant)")
        }
        for body in bodies {
            collect { () throws(ExchangeError) -> ExchangeRequest in try ExchangeRequest(form: FormBody(parsing: Array(body.utf8))) }
        }
        for (body, authorization) in [("client_id=b&\(grant)", "Basic YTo="), (grant, "Bearer x"), (grant, "Basic !!!")] {
            collect { () throws(ExchangeError) -> ExchangeRequest in
                try ExchangeRequest(form: FormBody(parsing: Array(body.utf8)), authorization: authorization)
            }
        }

        var tokens = ["", "a.b", "a.b.c.d", String(repeating: ".", count: 20_000), String(repeating: "a", count: 20_000)]
        for text in hostile {
            let quoted = String(decoding: JSONValue.string(text).serialized(), as: UTF8.self)
            let payload = String(decoding: Fixtures.claims().serialized(), as: UTF8.self)
            tokens.append(Fixtures.raw(header: #"{"alg":\#(quoted),"kid":"ec-1"}"#, payload: payload))
            tokens.append(Fixtures.raw(header: #"{"alg":"ES256","kid":\#(quoted)}"#, payload: payload))
            tokens.append(Fixtures.raw(header: #"{"alg":"ES256","kid":"ec-1","typ":\#(quoted)}"#, payload: payload))
            tokens.append(Fixtures.raw(header: #"{"alg":"ES256","kid":"ec-1","crit":[\#(quoted)]}"#, payload: payload))
            tokens.append(Fixtures.token(Fixtures.claims(["sub": .string(text)])))
            tokens.append(Fixtures.token(Fixtures.claims(["aud": .string(text)])))
            tokens.append(Fixtures.token(Fixtures.claims(["iss": .string(text)])))
            tokens.append(Fixtures.token(Fixtures.claims(["exp": .string(text)])))
            tokens.append(Fixtures.token(Fixtures.claims(["sub": .string(text)]), key: Fixtures.attacker))
        }
        tokens.append(Fixtures.token(Fixtures.claims(["exp": .number(Fixtures.now - 3600)])))
        tokens.append(Fixtures.token(Fixtures.claims(["nbf": .number(Fixtures.now + 3600)])))
        tokens.append(Fixtures.token(Fixtures.claims(["iat": .number(Fixtures.now - 100), "exp": .number(Fixtures.now + 200_000)])))
        tokens.append(Fixtures.token(Fixtures.claims(["aud": nil])))
        tokens.append(Fixtures.token(Fixtures.claims(["exp": nil])))
        tokens.append(Fixtures.token(key: Fixtures.p256.with(keyID: "unknown")))
        tokens.append(Fixtures.raw(header: #"{"alg":"ES256","kid":"ec-1","jku":"https://attacker.test"}"#, payload: "{}"))
        let payload = String(decoding: Fixtures.claims().serialized(), as: UTF8.self)
        tokens.append(Fixtures.raw(header: #"{"alg":"ES256","kid":"ec-1","typ":"at+jwt"}"#, payload: payload))
        tokens.append(Fixtures.raw(header: #"{"kid":"ec-1"}"#, payload: payload))
        tokens.append(Fixtures.raw(payload: #"{"iss":"https://issuer.test"}x"#))
        tokens.append(Fixtures.raw(payload: #"{"iss":[1]}"#))
        for token in tokens {
            collect { () throws(ExchangeError) -> VerifiedToken in try Fixtures.verify(token, issuer: Fixtures.issuer(algorithms: [.es256, .rs256])) }
        }

        let policy = TrustPolicy(
            name: "p",
            issuer: "cluster",
            conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .equals(.string(Fixtures.subject)))],
            grant: .init(audiences: ["api"], scopes: ["read"], subjectClaim: ClaimPath(["nope"]), clientID: "c")
        )
        let other = TrustPolicy(
            name: "q",
            issuer: "cluster",
            conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .equals("x"))],
            grant: .init(audiences: ["api"], scopes: ["read"], clientID: "c")
        )
        var requests = [ExchangeRequest(subjectToken: "t"), ExchangeRequest(subjectToken: "t", clientID: "someone-else")]
        for text in hostile {
            requests.append(ExchangeRequest(subjectToken: "t", audiences: [text]))
            requests.append(ExchangeRequest(subjectToken: "t", scopes: [text]))
        }
        for request in requests {
            for policies in [[policy], [other]] {
                let decision = PolicyEvaluator.decide(token: Fixtures.verified(), request: request, policies: policies, now: Fixtures.now)
                if case .failure(let error) = decision.result { errors.append(error) }
            }
        }
        let matching = TrustPolicy(
            name: "ok",
            issuer: "cluster",
            conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .equals(.string(Fixtures.subject)))],
            grant: .init(audiences: ["api"], scopes: ["read"], clientID: "c")
        )
        let delegated = PolicyEvaluator.decide(
            token: Fixtures.verified(),
            actor: Fixtures.verified(),
            request: ExchangeRequest(subjectToken: "t", actorToken: "a"),
            policies: [matching],
            now: Fixtures.now
        )
        if case .failure(let error) = delegated.result { errors.append(error) }
        let expiring = Fixtures.verified(Fixtures.claims(["exp": .number(Fixtures.now - 1)]))
        let lifetime = PolicyEvaluator.decide(
            token: expiring,
            request: ExchangeRequest(subjectToken: "t"),
            policies: [matching],
            now: Fixtures.now + 5
        )
        if case .failure(let error) = lifetime.result { errors.append(error) }
        let dryRunWithActor = FormBody(pairs: [
            ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token", "t"), ("subject_token_type", TokenTypeURI.jwt),
            ("actor_token", "a"), ("actor_token_type", TokenTypeURI.jwt),
        ])
        do {
            _ = try TokenRequestParameters.parse(dryRunWithActor)
        } catch {
            errors.append(error)
        }
        return errors
    }

    @Test("every description the core produces is fixed ASCII that never echoes the request (RFC 6749 §5.2)")
    func producedDescriptions() {
        let errors = Self.producedErrors()
        let codes = Set(errors.map(\.code))
        // Every code the core itself raises appears in the corpus; the rest are raised by the server and key sources.
        let raisedElsewhere: Set<Code> = [
            .methodNotAllowed, .unsupportedMediaType, .bodyTooLarge, .queryParametersNotAllowed, .issuerKeysUnavailable, .signingKeyUnavailable,
            .internalError, .auditLogUnavailable, .rateLimited, .overloaded, .requestTimeout,
        ]
        #expect(
            codes.union(raisedElsewhere) == Set(Code.allCases),
            "not exercised: \(Set(Code.allCases).subtracting(codes).subtracting(raisedElsewhere))"
        )
        for error in errors {
            #expect(isOAuthErrorText(error.description), "\(error.code): \(error.description.debugDescription)")
            for text in Self.hostile {
                #expect(!error.description.contains(text), "\(error.code) echoes \(text.debugDescription)")
            }
            for fragment in ["unknown", "attacker", "issuer.test", "ec-1"] {
                #expect(!error.description.contains(fragment), "\(error.code) echoes \(fragment)")
            }
            #expect(isOAuthErrorText(OAuthErrorResponse(error, grant: .tokenExchange).errorDescription))
        }
    }
}

extension String {
    /// Two hex digits.
    fileprivate func leftPad() -> String { count == 1 ? "0" + self : self }
}
