import Testing
import WIFCore

@Suite("ExchangeRequest: parsing /token forms")
struct ExchangeRequestTests {
    static let grant = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
    static let jwtType = "subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt"
    static let base = "\(grant)&subject_token=eyJ.eyJ.sig&\(jwtType)"

    static func request(_ body: String) throws(ExchangeError) -> ExchangeRequest {
        try ExchangeRequest(form: FormBody(parsing: Array(body.utf8)))
    }

    static func code(_ body: String) -> ExchangeError.Code? {
        refusal { () throws(ExchangeError) -> ExchangeRequest in try request(body) }?.code
    }

    @Test("parses a token-exchange request")
    func tokenExchange() throws {
        let request = try Self.request(
            Self.base + "&audience=https%3A%2F%2Fapi.internal&scope=read+write&resource=https%3A%2F%2Fr.internal"
                + "&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt"
        )
        #expect(request.grantType == .tokenExchange)
        #expect(request.subjectToken == "eyJ.eyJ.sig")
        #expect(request.audiences == ["https://api.internal"])
        #expect(request.resources == ["https://r.internal"])
        #expect(request.scopes == ["read", "write"])
        #expect(request.requestedTokenType == TokenTypeURI.jwt)
    }

    @Test("defaults: no audience, no resource, no scope, an access token")
    func defaults() throws {
        let request = try Self.request(Self.base)
        #expect(request.audiences == [])
        #expect(request.resources == [])
        #expect(request.scopes == nil)
        #expect(request.requestedTokenType == TokenTypeURI.accessToken)
        #expect(request == ExchangeRequest(subjectToken: "eyJ.eyJ.sig"))
    }

    @Test("accepts the id_token subject token type")
    func idToken() throws {
        let body = Self.base.replacing("token-type%3Ajwt", with: "token-type%3Aid_token")
        #expect(try Self.request(body).subjectToken == "eyJ.eyJ.sig")
    }

    @Test("repeated audience and resource values are kept in order")
    func repeatedAudience() throws {
        let request = try Self.request(Self.base + "&audience=b&audience=a&resource=urn%3Ax&audience=c")
        #expect(request.audiences == ["b", "a", "c"])
        #expect(request.resources == ["urn:x"])
    }

    @Test("an audience value is one value: no splitting on spaces, commas or newlines (security-cases.md case 82)")
    func audienceNotSplit() throws {
        let request = try Self.request(Self.base + "&audience=api-a%20api-b&audience=api-a,api-b&audience=api-a%0Aapi-b")
        #expect(request.audiences == ["api-a api-b", "api-a,api-b", "api-a\napi-b"])
    }

    @Test(
        "a repeated single-valued parameter is repeatedParameter, in either order (security-cases.md case 8)",
        arguments: [
            Case("grant_type", "&\(grant)"),
            Case("subject_token", "&subject_token=hostile"),
            Case("subject_token_type", "&\(jwtType)"),
            Case("scope", "&scope=a&scope=b"),
            Case("requested_token_type", "&requested_token_type=x&requested_token_type=y"),
        ]
    )
    func repeated(_ extra: Case<String>) {
        #expect(Self.code(Self.base + extra.value) == .repeatedParameter)
        #expect(Self.code(String(extra.value.dropFirst()) + "&" + Self.base) == .repeatedParameter)
    }

    @Test(
        "a missing or empty required parameter is missingParameter (security-cases.md cases 3, 5, 6)",
        arguments: [
            Case("no grant_type", "subject_token=t&\(jwtType)"),
            Case("empty grant_type", "grant_type=&subject_token=t&\(jwtType)"),
            Case("no subject_token", "\(grant)&\(jwtType)"),
            Case("empty subject_token", "\(grant)&subject_token=&\(jwtType)"),
            Case("no subject_token_type", "\(grant)&subject_token=t"),
            Case("empty body", ""),
        ]
    )
    func missing(_ body: Case<String>) {
        #expect(Self.code(body.value) == .missingParameter)
    }

    @Test(
        "an unsupported grant type is unsupportedGrantType (security-cases.md case 4)",
        arguments: [
            "password", "authorization_code", "refresh_token", "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Asaml2-bearer", "random",
            "CLIENT_CREDENTIALS",
        ]
    )
    func unsupportedGrant(_ grant: String) {
        let error = refusal { () throws(ExchangeError) -> ExchangeRequest in try Self.request("grant_type=\(grant)&subject_token=t&\(Self.jwtType)") }
        #expect(error?.code == .unsupportedGrantType)
        #expect(
            error?.description
                == "grant_type must be one of: urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:jwt-bearer, client_credentials"
        )
    }

    @Test(
        "an unsupported subject_token_type is unsupportedSubjectTokenType (security-cases.md case 7)",
        arguments: ["saml2", "refresh_token", "access_token", "JWT"].map { "urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3A" + $0 } + ["urn%3Ax%3Ay"]
    )
    func unsupportedSubjectType(_ type: String) {
        #expect(Self.code("\(Self.grant)&subject_token=t&subject_token_type=\(type)") == .unsupportedSubjectTokenType)
    }

    @Test(
        "an unsupported requested_token_type is unsupportedRequestedTokenType (security-cases.md case 11)",
        arguments: ["refresh_token", "saml2", "id_token"]
    )
    func unsupportedRequestedType(_ type: String) {
        #expect(Self.code(Self.base + "&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3A\(type)") == .unsupportedRequestedTokenType)
    }

    @Test("unknown parameters are ignored (security-cases.md case 16)")
    func unknownParameters() throws {
        let request = try Self.request(Self.base + "&foo=bar&expires_in=999999999&lifetime=1&admin=true")
        #expect(request == ExchangeRequest(subjectToken: "eyJ.eyJ.sig"))
    }

    @Test("a '+' inside the subject token decodes to a space, which the token parser then refuses")
    func plusInToken() throws {
        let request = try Self.request("\(Self.grant)&subject_token=eyJ+x.y.z&\(Self.jwtType)")
        #expect(request.subjectToken == "eyJ x.y.z")
        #expect(
            refusal { () throws(ExchangeError) -> UnverifiedToken in try UnverifiedToken(parsing: request.subjectToken) }?.code == .tokenMalformed
        )
    }

    @Test(
        "scope is split on single spaces into valid scope tokens (RFC 6749 §3.3)",
        arguments: [
            Case("one", ("read", ["read"])),
            Case("two", ("read+write", ["read", "write"])),
            Case("punctuation", ("api%3Aread+%21%23%5B%5D%7E", ["api:read", "!#[]~"])),
        ]
    )
    func scopes(_ input: Case<(String, [String])>) throws {
        #expect(try Self.request(Self.base + "&scope=" + input.value.0).scopes == input.value.1)
    }

    @Test(
        "a malformed scope is scopeMalformed (security-cases.md case 84)",
        arguments: [
            Case("doubled space", "read++write"),
            Case("leading space", "+read"),
            Case("trailing space", "read+"),
            Case("tab", "read%09write"),
            Case("newline", "read%0Awrite"),
            Case("double quote", "re%22ad"),
            Case("backslash", "re%5Cad"),
            Case("non-ASCII", "l%C3%A9ire"),
            Case("DEL", "read%7F"),
        ]
    )
    func malformedScope(_ scope: Case<String>) {
        let error = refusal { () throws(ExchangeError) -> ExchangeRequest in try Self.request(Self.base + "&scope=" + scope.value) }
        #expect(error?.code == .scopeMalformed)
        #expect(error?.description == "scope is malformed")
    }

    @Test("an empty scope counts as no scope")
    func emptyScope() throws {
        #expect(try Self.request(Self.base + "&scope=").scopes == nil)
    }

    @Test("the grant type of a form is known even when the rest is bad, for choosing the error code")
    func grantTypeOfForm() throws {
        #expect(try ExchangeRequest.grantType(of: FormBody(parsing: Array("\(Self.grant)&subject_token=".utf8))) == .tokenExchange)
        #expect(
            try ExchangeRequest.grantType(of: FormBody(parsing: Array("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer".utf8)))
                == .jwtBearer
        )
        #expect(try ExchangeRequest.grantType(of: FormBody(parsing: Array("grant_type=client_credentials".utf8))) == .clientCredentials)
        #expect(try ExchangeRequest.grantType(of: FormBody(parsing: Array("grant_type=password".utf8))) == nil)
        #expect(
            try ExchangeRequest.grantType(of: FormBody(parsing: Array("grant_type=client_credentials&grant_type=client_credentials".utf8))) == nil
        )
        #expect(try ExchangeRequest.grantType(of: FormBody(parsing: Array("".utf8))) == nil)
    }
}
