import Testing
import WIFCore

/// Forms of each grant shape, built from decoded pairs so that every value is exactly what the parser sees.
enum GrantForms {
    typealias Pairs = [(String, String)]

    static let token = "eyJ.eyJ.sig"
    static let tokenExchange: Pairs = [
        ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token", token), ("subject_token_type", TokenTypeURI.jwt),
    ]
    static let jwtBearer: Pairs = [("grant_type", GrantType.jwtBearer.rawValue), ("assertion", token)]
    static let clientCredentials: Pairs = [
        ("grant_type", GrantType.clientCredentials.rawValue), ("client_assertion_type", TokenTypeURI.jwtClientAssertion),
        ("client_assertion", token),
    ]

    /// The minimal valid form of `grant`, with the workload's token replaced by `token`.
    static func form(_ grant: GrantType, token: String = token) -> Pairs {
        switch grant {
        case .tokenExchange: tokenExchange.map { $0.0 == "subject_token" ? ($0.0, token) : $0 }
        case .jwtBearer: jwtBearer.map { $0.0 == "assertion" ? ($0.0, token) : $0 }
        case .clientCredentials: clientCredentials.map { $0.0 == "client_assertion" ? ($0.0, token) : $0 }
        }
    }

    static func parse(_ pairs: Pairs, authorization: String? = nil) throws(ExchangeError) -> ExchangeRequest {
        try ExchangeRequest(form: FormBody(pairs: pairs.map { (name: $0.0, value: $0.1) }), authorization: authorization)
    }

    static func error(_ pairs: Pairs, authorization: String? = nil) -> ExchangeError? {
        refusal { () throws(ExchangeError) -> ExchangeRequest in try parse(pairs, authorization: authorization) }
    }

    /// `Basic <standard base64 of bytes>`, the header RFC 7617 defines.
    static func basic(_ bytes: [UInt8]) -> String {
        var encoded = String(Base64URL.encode(bytes).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while encoded.count % 4 != 0 { encoded += "=" }
        return "Basic " + encoded
    }

    static func basic(_ credentials: String) -> String { basic(Array(credentials.utf8)) }
}

@Suite("ExchangeRequest: jwt-bearer and client-credentials grants")
struct GrantShapeParsingTests {
    @Test("jwt-bearer: the assertion is the workload's token; audience, resource and scope parse as for token exchange")
    func jwtBearer() throws {
        let request = try GrantForms.parse(
            GrantForms.jwtBearer + [
                ("audience", "https://api.internal"), ("resource", "https://r.internal"), ("scope", "read write"), ("client_id", "app"),
            ]
        )
        #expect(request.grantType == .jwtBearer)
        #expect(request.subjectToken == GrantForms.token)
        #expect(request.audiences == ["https://api.internal"])
        #expect(request.resources == ["https://r.internal"])
        #expect(request.scopes == ["read", "write"])
        #expect(request.requestedTokenType == TokenTypeURI.accessToken)
        #expect(request.actorToken == nil)
        #expect(request.clientID == "app")
    }

    @Test("jwt-bearer: token-exchange parameters are ignored, never half-applied")
    func jwtBearerIgnoresExchangeParameters() throws {
        let request = try GrantForms.parse(
            GrantForms.jwtBearer + [
                ("subject_token", "other.token.here"), ("subject_token_type", "urn:x"), ("requested_token_type", "urn:x"),
                ("actor_token", "a.b.c"), ("actor_token_type", "urn:x"),
            ]
        )
        #expect(request.subjectToken == GrantForms.token)
        #expect(request.requestedTokenType == TokenTypeURI.accessToken)
        #expect(request.actorToken == nil)
    }

    @Test(
        "jwt-bearer: a missing or empty assertion is missingParameter, even beside a subject_token",
        arguments: [
            Case("no assertion", [("grant_type", GrantType.jwtBearer.rawValue)]),
            Case("empty assertion", [("grant_type", GrantType.jwtBearer.rawValue), ("assertion", "")]),
            Case("subject_token instead", [("grant_type", GrantType.jwtBearer.rawValue), ("subject_token", GrantForms.token)]),
        ]
    )
    func jwtBearerMissingAssertion(_ form: Case<GrantForms.Pairs>) {
        let error = GrantForms.error(form.value)
        #expect(error?.code == .missingParameter)
        #expect(error?.description == "missing required parameter: assertion")
    }

    @Test("jwt-bearer: a repeated assertion is repeatedParameter")
    func jwtBearerRepeatedAssertion() {
        let error = GrantForms.error(GrantForms.jwtBearer + [("assertion", "other.token.here")])
        #expect(error?.code == .repeatedParameter)
        #expect(error?.description == "parameter included more than once: assertion")
    }

    @Test("client_credentials: the client_assertion is the workload's token, client_id and audience kept")
    func clientCredentials() throws {
        let request = try GrantForms.parse(
            GrantForms.clientCredentials + [("client_id", "payments"), ("audience", "https://api.internal"), ("scope", "read")]
        )
        #expect(request.grantType == .clientCredentials)
        #expect(request.subjectToken == GrantForms.token)
        #expect(request.clientID == "payments")
        #expect(request.audiences == ["https://api.internal"])
        #expect(request.scopes == ["read"])
        #expect(request.requestedTokenType == TokenTypeURI.accessToken)
        #expect(request.actorToken == nil)
    }

    @Test(
        "client_credentials: a client_assertion_type other than jwt-bearer is unsupportedAssertionType",
        arguments: [
            "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", TokenTypeURI.jwt, "URN:IETF:PARAMS:OAUTH:CLIENT-ASSERTION-TYPE:JWT-BEARER",
            TokenTypeURI.jwtClientAssertion + " ", "jwt-bearer",
        ]
    )
    func unsupportedAssertionType(_ type: String) {
        let form = GrantForms.clientCredentials.map { $0.0 == "client_assertion_type" ? ($0.0, type) : $0 }
        let error = GrantForms.error(form)
        #expect(error?.code == .unsupportedAssertionType)
        #expect(error?.description == "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    }

    @Test(
        "client_credentials: a missing client_assertion_type or client_assertion is missingParameter",
        arguments: [
            Case("client_assertion_type", GrantForms.clientCredentials.filter { $0.0 != "client_assertion_type" }),
            Case("client_assertion", GrantForms.clientCredentials.filter { $0.0 != "client_assertion" }),
            Case("client_assertion", GrantForms.clientCredentials.map { $0.0 == "client_assertion" ? ($0.0, "") : $0 }),
        ]
    )
    func clientCredentialsMissing(_ form: Case<GrantForms.Pairs>) {
        let error = GrantForms.error(form.value)
        #expect(error?.code == .missingParameter)
        #expect(error?.description == "missing required parameter: \(form.name)")
    }

    /// Scope, audience parameters → audiences and scopes of the parsed request.
    static let defaultScopeCases: [Case<(String, [String], [String], [String]?)>] = [
        Case("one resource scope", ("api://payments/.default", [], ["api://payments"], nil)),
        Case("an https resource scope", ("https://api.internal/.default", [], ["https://api.internal"], nil)),
        Case("mixed with plain scopes", ("read api://payments/.default write", [], ["api://payments"], ["read", "write"])),
        Case("two resource scopes, in order", ("api://b/.default api://a/.default", [], ["api://b", "api://a"], nil)),
        Case("after the audience parameters", ("api://a/.default", ["https://x.internal"], ["https://x.internal", "api://a"], nil)),
        Case("a bare /.default is a plain scope", ("/.default", [], [], ["/.default"])),
        Case("no slash before .default", ("api.default .default", [], [], ["api.default", ".default"])),
        Case("/.default not at the end", ("api://a/.default/x", [], [], ["api://a/.default/x"])),
        Case("case matters", ("api://a/.DEFAULT", [], [], ["api://a/.DEFAULT"])),
    ]

    @Test("client_credentials: each <audience>/.default scope becomes an audience; other scopes stay scopes", arguments: defaultScopeCases)
    func defaultScopes(_ input: Case<(String, [String], [String], [String]?)>) throws {
        let (scope, audienceParameters, audiences, scopes) = input.value
        let request = try GrantForms.parse(GrantForms.clientCredentials + audienceParameters.map { ("audience", $0) } + [("scope", scope)])
        #expect(request.audiences == audiences)
        #expect(request.scopes == scopes)
    }

    @Test("client_credentials without a scope asks for no audience and no scope")
    func clientCredentialsNoScope() throws {
        let request = try GrantForms.parse(GrantForms.clientCredentials)
        #expect(request.audiences == [])
        #expect(request.scopes == nil)
    }

    @Test("<audience>/.default is an ordinary scope for token exchange and jwt-bearer", arguments: [GrantType.tokenExchange, .jwtBearer])
    func defaultScopeOnlyForClientCredentials(_ grant: GrantType) throws {
        let request = try GrantForms.parse(GrantForms.form(grant) + [("scope", "api://payments/.default read")])
        #expect(request.audiences == [])
        #expect(request.scopes == ["api://payments/.default", "read"])
    }

    @Test("client_credentials: a malformed scope is scopeMalformed before any /.default is taken apart")
    func clientCredentialsMalformedScope() {
        let error = GrantForms.error(GrantForms.clientCredentials + [("scope", "api://a/.default  read")])
        #expect(error?.code == .scopeMalformed)
    }
}

@Suite("ExchangeRequest: tokens are trimmed of surrounding spaces, tabs and line breaks")
struct TokenTrimmingTests {
    static let padded = [
        Case("trailing LF", "eyJ.eyJ.sig\n"),
        Case("trailing CRLF", "eyJ.eyJ.sig\r\n"),
        Case("trailing CR", "eyJ.eyJ.sig\r"),
        Case("leading spaces", "   eyJ.eyJ.sig"),
        Case("tabs both sides", "\t\teyJ.eyJ.sig\t"),
        Case("everything both sides", " \t\r\n eyJ.eyJ.sig \r\n\t\n"),
        Case("nothing to trim", "eyJ.eyJ.sig"),
    ]

    @Test("the workload's token is trimmed in every grant shape", arguments: padded, GrantType.allCases)
    func trimmed(_ token: Case<String>, grant: GrantType) throws {
        let request = try GrantForms.parse(GrantForms.form(grant, token: token.value))
        #expect(request.subjectToken == GrantForms.token)
        #expect(request.grantType == grant)
    }

    @Test("the actor token is trimmed", arguments: padded)
    func actorTrimmed(_ token: Case<String>) throws {
        let request = try GrantForms.parse(GrantForms.tokenExchange + [("actor_token", token.value), ("actor_token_type", TokenTypeURI.jwt)])
        #expect(request.actorToken == GrantForms.token)
    }

    @Test("a token file read into a form body: percent-encoded CRLF and tab are trimmed")
    func encodedBody() throws {
        let body =
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=%09eyJ.eyJ.sig%0D%0A"
        let request = try ExchangeRequest(form: FormBody(parsing: Array(body.utf8)))
        #expect(request.subjectToken == GrantForms.token)
    }

    @Test("white space inside a token is kept, for the token parser to refuse")
    func innerWhitespaceKept() throws {
        let request = try GrantForms.parse(GrantForms.form(.tokenExchange, token: " eyJ.eyJ\r\n.sig\n"))
        #expect(request.subjectToken == "eyJ.eyJ\r\n.sig")
        #expect(
            refusal { () throws(ExchangeError) -> UnverifiedToken in try UnverifiedToken(parsing: request.subjectToken) }?.code == .tokenMalformed
        )
    }
}

@Suite("ExchangeRequest: actor_token, actor_token_type and requested_token_type")
struct ActorParameterTests {
    @Test("an actor token with a JWT or ID token type is kept", arguments: [TokenTypeURI.jwt, TokenTypeURI.idToken])
    func actorAccepted(_ type: String) throws {
        let request = try GrantForms.parse(GrantForms.tokenExchange + [("actor_token", "a.b.c"), ("actor_token_type", type)])
        #expect(request.actorToken == "a.b.c")
        #expect(request.subjectToken == GrantForms.token)
    }

    @Test("without actor parameters there is no actor")
    func noActor() throws {
        #expect(try GrantForms.parse(GrantForms.tokenExchange).actorToken == nil)
    }

    @Test(
        "an actor token needs its type and a type needs its token: missingParameter naming the absent one",
        arguments: [
            Case("token without type", ([("actor_token", "a.b.c")], "actor_token_type")),
            Case("type without token", ([("actor_token_type", TokenTypeURI.jwt)], "actor_token")),
            Case("empty token", ([("actor_token", ""), ("actor_token_type", TokenTypeURI.jwt)], "actor_token")),
            Case("empty type", ([("actor_token", "a.b.c"), ("actor_token_type", "")], "actor_token_type")),
        ]
    )
    func actorMissing(_ input: Case<(GrantForms.Pairs, String)>) {
        let error = GrantForms.error(GrantForms.tokenExchange + input.value.0)
        #expect(error?.code == .missingParameter)
        #expect(error?.description == "missing required parameter: \(input.value.1)")
    }

    @Test(
        "an actor_token_type wif cannot verify is unsupportedActorTokenType, naming the accepted types",
        arguments: [TokenTypeURI.accessToken, "urn:ietf:params:oauth:token-type:saml2", "urn:ietf:params:oauth:token-type:JWT", "urn:x:y"]
    )
    func actorTypeUnsupported(_ type: String) {
        let error = GrantForms.error(GrantForms.tokenExchange + [("actor_token", "a.b.c"), ("actor_token_type", type)])
        #expect(error?.code == .unsupportedActorTokenType)
        #expect(error?.category == .request)
        #expect(
            error?.description
                == "actor_token_type must be one of: urn:ietf:params:oauth:token-type:jwt, urn:ietf:params:oauth:token-type:id_token"
        )
    }

    @Test("a repeated actor_token or actor_token_type is repeatedParameter", arguments: ["actor_token", "actor_token_type"])
    func actorRepeated(_ name: String) {
        let extra = [("actor_token", "a.b.c"), ("actor_token_type", TokenTypeURI.jwt), (name, name == "actor_token" ? "d.e.f" : TokenTypeURI.jwt)]
        let error = GrantForms.error(GrantForms.tokenExchange + extra)
        #expect(error?.code == .repeatedParameter)
        #expect(error?.description == "parameter included more than once: \(name)")
    }

    @Test("requested_token_type: access_token and jwt are issued; another type names both", arguments: [TokenTypeURI.accessToken, TokenTypeURI.jwt])
    func requestedTypes(_ type: String) throws {
        #expect(try GrantForms.parse(GrantForms.tokenExchange + [("requested_token_type", type)]).requestedTokenType == type)
        let error = GrantForms.error(GrantForms.tokenExchange + [("requested_token_type", TokenTypeURI.idToken)])
        #expect(error?.code == .unsupportedRequestedTokenType)
        #expect(
            error?.description
                == "requested_token_type must be one of: urn:ietf:params:oauth:token-type:access_token, urn:ietf:params:oauth:token-type:jwt"
        )
    }

    @Test("an unsupported subject_token_type names the accepted types")
    func subjectTypeDescription() {
        let error = GrantForms.error(GrantForms.tokenExchange.map { $0.0 == "subject_token_type" ? ($0.0, TokenTypeURI.accessToken) : $0 })
        #expect(error?.code == .unsupportedSubjectTokenType)
        #expect(
            error?.description
                == "subject_token_type must be one of: urn:ietf:params:oauth:token-type:jwt, urn:ietf:params:oauth:token-type:id_token"
        )
    }
}

@Suite("ExchangeRequest: client_id from the form or HTTP Basic, never a secret")
struct ClientIDParsingTests {
    static let malformedDescription = "Authorization header must be HTTP Basic with a client_id"
    static let secretDescription = "wif does not use client secrets: authenticate with the workload's token"

    @Test("the test's Basic encoder produces standard, padded base64")
    func encoder() {
        #expect(GrantForms.basic("app:") == "Basic YXBwOg==")
        #expect(GrantForms.basic("a:") == "Basic YTo=")
        #expect(GrantForms.basic([0xFB, 0xFF, 0x3A]) == "Basic +/86")
    }

    @Test("client_id from the form, or none", arguments: GrantType.allCases)
    func formClientID(_ grant: GrantType) throws {
        #expect(try GrantForms.parse(GrantForms.form(grant) + [("client_id", "payments")]).clientID == "payments")
        #expect(try GrantForms.parse(GrantForms.form(grant)).clientID == nil)
        #expect(try GrantForms.parse(GrantForms.form(grant) + [("client_id", "")]).clientID == nil)
    }

    @Test("a repeated client_id is repeatedParameter")
    func repeatedClientID() {
        #expect(GrantForms.error(GrantForms.tokenExchange + [("client_id", "a"), ("client_id", "a")])?.code == .repeatedParameter)
    }

    @Test(
        "HTTP Basic: the id half is form-urlencoded, the secret half empty",
        arguments: [
            Case("plain", (GrantForms.basic("payments:"), "payments")),
            Case("known encoding", ("Basic cGF5bWVudHM6", "payments")),
            Case("percent-encoded space and colon", (GrantForms.basic("my%20app%3Aone:"), "my app:one")),
            Case("plus is a space", (GrantForms.basic("my+app:"), "my app")),
            Case("percent-encoded UTF-8", (GrantForms.basic("caf%C3%A9:"), "caf\u{E9}")),
            Case("raw UTF-8", (GrantForms.basic("caf\u{E9}:"), "caf\u{E9}")),
            Case("lower-case scheme", ("basic " + GrantForms.basic("payments:").dropFirst(6), "payments")),
            Case("upper-case scheme", ("BASIC " + GrantForms.basic("payments:").dropFirst(6), "payments")),
            Case("extra spaces", ("Basic   " + GrantForms.basic("payments:").dropFirst(6) + "  ", "payments")),
        ]
    )
    func basic(_ input: Case<(String, String)>) throws {
        let request = try GrantForms.parse(GrantForms.tokenExchange, authorization: input.value.0)
        #expect(request.clientID == input.value.1)
    }

    @Test("HTTP Basic carries the client id for token exchange and jwt-bearer", arguments: [GrantType.tokenExchange, .jwtBearer])
    func basicEveryGrant(_ grant: GrantType) throws {
        #expect(try GrantForms.parse(GrantForms.form(grant), authorization: GrantForms.basic("payments:")).clientID == "payments")
    }

    @Test("client_credentials with an Authorization header is two client authentications: conflictingClientID")
    func basicWithClientAssertion() {
        let error = refusal { () throws(ExchangeError) -> ExchangeRequest in
            try GrantForms.parse(GrantForms.clientCredentials, authorization: GrantForms.basic("payments:"))
        }
        #expect(error?.code == .conflictingClientID)
        #expect(error.map { OAuthErrorResponse($0, grant: .clientCredentials).error } == "invalid_request")
    }

    @Test("HTTP Basic with an empty id leaves the form's client_id, or none")
    func basicEmptyID() throws {
        #expect(try GrantForms.parse(GrantForms.tokenExchange, authorization: GrantForms.basic(":")).clientID == nil)
        #expect(try GrantForms.parse(GrantForms.tokenExchange + [("client_id", "app")], authorization: GrantForms.basic(":")).clientID == "app")
    }

    static let secretCases: [Case<(GrantForms.Pairs, String?)>] = [
        Case("Basic id and secret", ([], GrantForms.basic("payments:s3cret"))),
        Case("Basic secret of one space", ([], GrantForms.basic("payments:%20"))),
        Case("Basic secret with a colon", ([], GrantForms.basic("payments::"))),
        Case("Basic secret without an id", ([], GrantForms.basic(":s3cret"))),
        Case("form client_secret", ([("client_id", "payments"), ("client_secret", "s3cret")], nil)),
        Case("form client_secret beside Basic", ([("client_secret", "s3cret")], GrantForms.basic("payments:"))),
    ]

    @Test("a client secret is refused as clientSecretNotAccepted, in Basic or in the form", arguments: secretCases)
    func secretRefused(_ input: Case<(GrantForms.Pairs, String?)>) {
        let error = GrantForms.error(GrantForms.tokenExchange + input.value.0, authorization: input.value.1)
        #expect(error?.code == .clientSecretNotAccepted)
        #expect(error?.category == .client)
        #expect(error?.description == Self.secretDescription)
    }

    @Test("an empty client_secret in the form counts as none")
    func emptyFormSecret() throws {
        let request = try GrantForms.parse(GrantForms.tokenExchange + [("client_id", "payments"), ("client_secret", "")])
        #expect(request.clientID == "payments")
    }

    @Test(
        "an Authorization header that is not usable HTTP Basic is clientAuthenticationMalformed",
        arguments: [
            Case("Bearer scheme", "Bearer eyJ.eyJ.sig"),
            Case("Digest scheme", "Digest username=\"payments\""),
            Case("scheme only", "Basic"),
            Case("scheme and space", "Basic "),
            Case("empty header", ""),
            Case("Basic glued to its value", "Basic" + GrantForms.basic("payments:").dropFirst(6)),
            Case("not base64", "Basic !!!"),
            Case("base64 with junk", "Basic cGF5bWVudHM6*"),
            Case("no colon", GrantForms.basic("payments")),
            Case("invalid UTF-8 id", GrantForms.basic([0x61, 0xFF, 0x3A])),
            Case("broken percent-encoding", GrantForms.basic("pay%zz:")),
            Case("NUL in the id", GrantForms.basic("pay%00:")),
            Case("raw ampersand in the id", GrantForms.basic("a&secret=x:")),
        ]
    )
    func malformed(_ header: Case<String>) {
        let error = GrantForms.error(GrantForms.tokenExchange, authorization: header.value)
        #expect(error?.code == .clientAuthenticationMalformed)
        #expect(error?.category == .client)
        #expect(error?.description == Self.malformedDescription)
    }

    @Test("the form and Basic may both name the client when they agree")
    func agreement() throws {
        let request = try GrantForms.parse(GrantForms.tokenExchange + [("client_id", "my app")], authorization: GrantForms.basic("my+app:"))
        #expect(request.clientID == "my app")
    }

    @Test(
        "the form and Basic naming different clients is conflictingClientID, compared by code point",
        arguments: [
            Case("other name", ("payments", "billing")),
            Case("case", ("payments", "Payments")),
            Case("trailing space", ("payments", "payments%20")),
            Case("NFC vs NFD", ("caf\u{E9}", "cafe%CC%81")),
            Case("NFD vs NFC", ("cafe\u{301}", "caf%C3%A9")),
        ]
    )
    func conflict(_ input: Case<(String, String)>) {
        let error = GrantForms.error(GrantForms.tokenExchange + [("client_id", input.value.0)], authorization: GrantForms.basic(input.value.1 + ":"))
        #expect(error?.code == .conflictingClientID)
        #expect(error?.category == .request)
        #expect(error?.description == "client_id in the body differs from the one in the Authorization header")
    }
}

@Suite("ExchangeRequest: resource is an absolute URI without a fragment (RFC 8707 §2)")
struct ResourceParsingTests {
    @Test(
        "a resource that is not an absolute URI without fragment is resourceMalformed (security-cases.md case 83)",
        arguments: [
            "/relative", "https://api.internal#frag", "javascript:alert(1)", "data:text/plain,x", "not a uri", "api.internal", ":x", "https:",
            "https://api.internal#", "JavaScript:alert(1)", "DATA:text/plain,x", "1https://api.internal", "ht_tp://api.internal",
            "-x://api.internal", "https://api internal", "https://caf\u{E9}.internal", "https://api.internal/\u{7F}", "https://api.internal/\t",
            "https://api.internal\n",
        ]
    )
    func malformed(_ resource: String) {
        let error = GrantForms.error(GrantForms.tokenExchange + [("resource", resource)])
        #expect(error?.code == .resourceMalformed)
        #expect(error?.category == .target)
        #expect(error?.description == "resource must be an absolute URI without a fragment")
    }

    @Test(
        "an absolute URI without fragment is kept as sent",
        arguments: [
            "https://api.internal", "https://api.internal:8443/v1/items?q=1&r=%20", "HTTPS://API.INTERNAL", "urn:x",
            "urn:ietf:params:oauth:token-type:jwt", "spiffe://trust.example/ns/demo/sa/app", "mailto:ops@example.com", "custom+scheme.v1-2:opaque",
            "api://payments",
        ]
    )
    func valid(_ resource: String) throws {
        #expect(try GrantForms.parse(GrantForms.tokenExchange + [("resource", resource)]).resources == [resource])
    }

    @Test("every grant shape checks resource at parse", arguments: GrantType.allCases)
    func everyGrant(_ grant: GrantType) {
        #expect(GrantForms.error(GrantForms.form(grant) + [("resource", "javascript:alert(1)")])?.code == .resourceMalformed)
    }

    @Test("one bad resource among good ones is refused; an empty one is dropped")
    func amongGood() throws {
        let mixed = [("resource", "https://a.internal"), ("resource", "https://b.internal#x"), ("resource", "urn:c")]
        #expect(GrantForms.error(GrantForms.tokenExchange + mixed)?.code == .resourceMalformed)
        let request = try GrantForms.parse(GrantForms.tokenExchange + [("resource", "urn:a"), ("resource", ""), ("resource", "urn:b")])
        #expect(request.resources == ["urn:a", "urn:b"])
    }
}

@Suite("ExchangeError.naming: a token refusal names the token as the request called it")
struct TokenNamingTests {
    /// Real refusals of the verification pipeline, as they are written about the subject token.
    static func realRefusals() -> [ExchangeError] {
        let expired = refusal { () throws(ExchangeError) -> VerifiedToken in
            try Fixtures.verify(Fixtures.token(Fixtures.claims(["exp": .number(Fixtures.now - 600)])))
        }
        let malformed = refusal { () throws(ExchangeError) -> UnverifiedToken in try UnverifiedToken(parsing: "a.b") }
        let otherAudience = refusal { () throws(ExchangeError) -> VerifiedToken in
            try Fixtures.verify(Fixtures.token(Fixtures.claims(["aud": "someone-else"])))
        }
        let noPolicy = PolicyEvaluator.decide(
            token: Fixtures.verified(),
            request: ExchangeRequest(subjectToken: "t"),
            policies: [],
            now: Fixtures.now
        )
        var errors = [expired, malformed, otherAudience].compactMap { $0 }
        if case .failure(let error) = noPolicy.result { errors.append(error) }
        return errors
    }

    @Test("each grant shape names its token", arguments: [GrantType.tokenExchange, .jwtBearer, .clientCredentials])
    func tokenRoles(_ grant: GrantType) {
        let expected: [GrantType: ExchangeError.TokenRole] = [
            .tokenExchange: .subjectToken, .jwtBearer: .assertion, .clientCredentials: .clientAssertion,
        ]
        #expect(grant.tokenRole == expected[grant])
    }

    @Test(
        "token refusals are renamed for the assertion, the client assertion and the actor token",
        arguments: [
            (ExchangeError.TokenRole.assertion, "assertion"), (.clientAssertion, "client assertion"), (.actorToken, "actor token"),
        ]
    )
    func renamed(role: ExchangeError.TokenRole, name: String) {
        let refusals = Self.realRefusals()
        #expect(refusals.map(\.code) == [.tokenExpired, .tokenMalformed, .audienceNotAccepted, .noPolicyMatched])
        for original in refusals {
            let named = original.naming(role)
            #expect(named.code == original.code)
            #expect(original.description.hasPrefix("subject token "))
            #expect(named.description == name + original.description.dropFirst("subject token".count))
            #expect(!named.description.contains("subject"))
            if role == .actorToken {
                #expect(named.detail == "actor token: " + (original.detail ?? original.description))
            } else {
                #expect(named.detail == original.detail)
            }
        }
    }

    @Test("exact renamed descriptions")
    func exactDescriptions() {
        let expired = ExchangeError(.tokenExpired, "subject token expired", detail: "exp 1")
        #expect(expired.naming(.assertion).description == "assertion expired")
        #expect(expired.naming(.clientAssertion).description == "client assertion expired")
        #expect(expired.naming(.actorToken).description == "actor token expired")
        #expect(expired.naming(.actorToken).detail == "actor token: exp 1")
        let bare = ExchangeError(.signatureInvalid, "subject token signature is invalid")
        #expect(bare.naming(.actorToken).detail == "actor token: subject token signature is invalid")
        #expect(bare.naming(.assertion).detail == nil)
    }

    @Test("naming the subject token changes nothing")
    func subjectUnchanged() {
        for original in Self.realRefusals() {
            let named = original.naming(.subjectToken)
            #expect(named.description == original.description)
            #expect(named.detail == original.detail)
        }
    }

    @Test(
        "refusals that are not about a token, or do not name the subject token, are unchanged",
        arguments: [
            ExchangeError(.clientIDMismatch, "client_id is not the one the trust policy names", detail: "d"),
            ExchangeError(.targetNotAllowed, "requested audience is not allowed", detail: "d"),
            ExchangeError(.scopeNotAllowed, "requested scope is not allowed"),
            ExchangeError(.resourceMalformed, "resource must be an absolute URI without a fragment"),
            ExchangeError(.missingParameter, "missing required parameter: subject_token"),
            ExchangeError(.actorNotPermitted, "actor is not permitted to act for the subject", detail: "policy app: d"),
            ExchangeError(.issuerKeysUnavailable, "subject token issuer keys are unavailable", detail: "d"),
            ExchangeError(.scopeMalformed, "subject token scope"),
            ExchangeError(.conflictingClientID, "subject token client"),
        ]
    )
    func unchanged(_ original: ExchangeError) {
        for role in [ExchangeError.TokenRole.assertion, .clientAssertion, .actorToken] {
            let named = original.naming(role)
            #expect(named.code == original.code)
            #expect(named.description == original.description)
            #expect(named.detail == original.detail)
        }
    }
}
