import Synchronization
import Testing
import WIFCore
import WIFTesting

/// Keys per issuer name, recording every request (so a test can prove a fetch did not happen).
final class RecordingKeySource: IssuerKeySource {
    private let keysByIssuer: [String: JWKSet]
    private let requests = Mutex<[String]>([])

    init(_ keysByIssuer: [String: JWKSet]) {
        self.keysByIssuer = keysByIssuer
    }

    var requested: [String] { requests.withLock { $0 } }

    func keys(for issuer: TrustedIssuer, keyID: String?) async throws(ExchangeError) -> JWKSet {
        requests.withLock { $0.append("\(issuer.name) \(keyID ?? "-")") }
        guard let keys = keysByIssuer[issuer.name] else {
            throw ExchangeError(.issuerKeysUnavailable, "issuer keys are temporarily unavailable")
        }
        return keys
    }
}

@Suite("TokenExchanger: one pipeline from subject token to issued token")
struct TokenExchangerTests {
    static let signingKey = SigningKey.generate()
    static let minter = AccessTokenMinter(issuerURL: "https://wif.test", signingKey: signingKey)
    static let otherIssuerKey = TestKey.p256(keyID: "other-1")

    static let config = TrustConfig(
        issuers: [
            Fixtures.issuer(), Fixtures.issuer(name: "other", issuer: "https://other.test"),
            Fixtures.issuer(name: "down", issuer: "https://down.test"),
        ],
        policies: [
            TrustPolicy(
                name: "demo-app",
                issuer: "cluster",
                conditions: [ClaimCondition(claim: ClaimPath(["kubernetes.io", "namespace"]), matcher: .equals("demo"))],
                grant: .init(audiences: ["https://api.internal"], scopes: ["read", "write"], maxLifetime: 900, clientID: "demo-client")
            ),
            TrustPolicy(
                name: "other-app",
                issuer: "other",
                conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .glob(GlobPattern("*")))],
                grant: .init(audiences: ["https://api.internal"], scopes: ["read"], clientID: "other-client")
            ),
        ]
    )

    static func exchanger(_ source: RecordingKeySource) -> TokenExchanger {
        TokenExchanger(config: config, keySource: source, minter: minter)
    }

    static func source() -> RecordingKeySource {
        RecordingKeySource(["cluster": Fixtures.keys, "other": Fixtures.jwks([otherIssuerKey])])
    }

    @Test("a valid token is exchanged for a signed access token")
    func success() async throws {
        let source = Self.source()
        let request = ExchangeRequest(subjectToken: Fixtures.token(), scopes: ["read"])
        let outcome = await Self.exchanger(source).exchange(request, now: Fixtures.now)
        let issued = try outcome.result.get()
        #expect(outcome.issuer == "cluster")
        #expect(outcome.subject == Fixtures.subject)
        #expect(outcome.subjectTokenID == "subject-token-1")
        #expect(outcome.evaluations.map(\.policy.name) == ["demo-app"])
        #expect(source.requested == ["cluster ec-1"])
        #expect(issued.expiresIn == 600)
        #expect(issued.issuedTokenType == TokenTypeURI.accessToken)
        #expect(issued.grant.scopes == ["read"])

        let keys = try JWKSet.parse(publishedJWKS([Self.signingKey]).serialized())
        let parts = issued.accessToken.segments
        let signature = try #require(Base64URL.decode(String(parts[2])))
        #expect(
            try #require(keys.key(for: Self.signingKey.keyID)).isValidSignature(
                signature,
                over: Array("\(parts[0]).\(parts[1])".utf8),
                algorithm: .es256
            )
        )
        let claims = try JSONValue.parse(try #require(Base64URL.decode(String(parts[1]))))
        #expect(claims["jti"] == .string(issued.tokenID))
        #expect(claims["aud"] == "https://api.internal")

        let body = try JSONValue.parse(issued.responseBody)
        #expect(
            body == [
                "access_token": .string(issued.accessToken), "issued_token_type": .string(TokenTypeURI.accessToken), "token_type": "Bearer",
                "expires_in": 600, "scope": "read",
            ]
        )
    }

    @Test("a token from an issuer that is not configured is refused without any key fetch (security-cases.md case 58)")
    func untrustedIssuer() async {
        let source = Self.source()
        for iss in ["https://attacker.test", "https://issuer.test/", "https://ISSUER.test"] {
            let token = Fixtures.token(Fixtures.claims(["iss": .string(iss)]), key: Fixtures.attacker)
            let outcome = await Self.exchanger(source).exchange(ExchangeRequest(subjectToken: token), now: Fixtures.now)
            #expect(outcome.result.failureCode == .issuerNotTrusted)
            #expect(outcome.issuer == nil)
            #expect(outcome.subject == nil)
        }
        #expect(source.requested.isEmpty)
    }

    @Test("a malformed token is refused before any key fetch")
    func malformedBeforeFetch() async {
        let source = Self.source()
        let outcome = await Self.exchanger(source).exchange(ExchangeRequest(subjectToken: "not-a-token"), now: Fixtures.now)
        #expect(outcome.result.failureCode == .tokenMalformed)
        #expect(source.requested.isEmpty)
    }

    @Test("a token refused by its header is refused before any key fetch")
    func headerBeforeFetch() async {
        let source = Self.source()
        let payload = String(decoding: Fixtures.claims().serialized(), as: UTF8.self)
        let headers: [(String, ExchangeError.Code)] = [
            (#"{"alg":"ES256","kid":"ec-1","typ":"at+jwt"}"#, .tokenTypeNotAccepted),
            (#"{"alg":"ES256","kid":"ec-1","jku":"https://attacker.test/jwks"}"#, .tokenHeaderUnsupported),
            (#"{"alg":"none"}"#, .algorithmNotAllowed),
        ]
        for (header, code) in headers {
            let outcome = await Self.exchanger(source).exchange(
                ExchangeRequest(subjectToken: Fixtures.raw(header: header, payload: payload)),
                now: Fixtures.now
            )
            #expect(outcome.result.failureCode == code)
        }
        let restricted = TokenExchanger(
            config: TrustConfig(issuers: [Fixtures.issuer(algorithms: [.rs256])], policies: []),
            keySource: source,
            minter: Self.minter
        )
        let outcome = await restricted.exchange(ExchangeRequest(subjectToken: Fixtures.token()), now: Fixtures.now)
        #expect(outcome.result.failureCode == .algorithmNotAllowed)
        #expect(source.requested.isEmpty)
    }

    @Test("keys come only from the issuer selected by iss (security-cases.md case 40)")
    func crossIssuerKeys() async {
        let source = Self.source()
        // iss names the cluster, but the token is signed with the other issuer's key and kid.
        let substituted = Fixtures.token(Fixtures.claims(), key: Self.otherIssuerKey)
        let outcome = await Self.exchanger(source).exchange(ExchangeRequest(subjectToken: substituted), now: Fixtures.now)
        #expect(outcome.result.failureCode == .keyNotFound)
        #expect(source.requested == ["cluster other-1"])
        // The same kid in both sets does not help either.
        let sameKid = Fixtures.token(Fixtures.claims(), key: Self.otherIssuerKey.with(keyID: "ec-1"))
        let second = await Self.exchanger(source).exchange(ExchangeRequest(subjectToken: sameKid), now: Fixtures.now)
        #expect(second.result.failureCode == .signatureInvalid)
    }

    @Test("unavailable issuer keys are a 503, not a token error")
    func keysUnavailable() async {
        let token = Fixtures.token(Fixtures.claims(["iss": "https://down.test"]))
        let outcome = await Self.exchanger(Self.source()).exchange(ExchangeRequest(subjectToken: token), now: Fixtures.now)
        #expect(outcome.result.failureCode == .issuerKeysUnavailable)
        if case .failure(let error) = outcome.result {
            #expect(OAuthErrorResponse(error, grant: .tokenExchange).status == 503)
        }
    }

    @Test("policies of other issuers never apply")
    func policiesPerIssuer() async {
        // The cluster token would satisfy other-app's condition, but other-app belongs to another issuer.
        let token = Fixtures.token(Fixtures.claims(["kubernetes.io": ["namespace": "prod"]]))
        let outcome = await Self.exchanger(Self.source()).exchange(ExchangeRequest(subjectToken: token), now: Fixtures.now)
        #expect(outcome.result.failureCode == .noPolicyMatched)
        #expect(outcome.evaluations.map(\.policy.name) == ["demo-app"])
        #expect(outcome.issuer == "cluster")
        #expect(outcome.subject == Fixtures.subject)
    }

    @Test("a refused grant reports its reason with the evaluations")
    func refusedGrant() async {
        let request = ExchangeRequest(subjectToken: Fixtures.token(), audiences: ["https://evil.internal"])
        let outcome = await Self.exchanger(Self.source()).exchange(request, now: Fixtures.now)
        #expect(outcome.result.failureCode == .targetNotAllowed)
        #expect(outcome.evaluations.first?.grantRefusal?.code == .targetNotAllowed)
    }

    @Test("the issued lifetime is bounded by the policy and by the subject token")
    func lifetime() async throws {
        let long = Fixtures.token(Fixtures.claims(["exp": .number(Fixtures.now + 7200)]))
        #expect(
            try await Self.exchanger(Self.source()).exchange(ExchangeRequest(subjectToken: long), now: Fixtures.now).result.get().expiresIn == 900
        )
        let short = Fixtures.token(Fixtures.claims(["exp": .number(Fixtures.now + 45)]))
        #expect(
            try await Self.exchanger(Self.source()).exchange(ExchangeRequest(subjectToken: short), now: Fixtures.now).result.get().expiresIn == 45
        )
    }

    @Test("the requested token type is echoed as issued_token_type")
    func requestedType() async throws {
        let request = ExchangeRequest(subjectToken: Fixtures.token(), requestedTokenType: TokenTypeURI.jwt)
        let issued = try await Self.exchanger(Self.source()).exchange(request, now: Fixtures.now).result.get()
        #expect(issued.issuedTokenType == TokenTypeURI.jwt)
    }

    @Test("an issued token presented again as a subject token is refused")
    func replayIssued() async throws {
        let issued = try await Self.exchanger(Self.source()).exchange(ExchangeRequest(subjectToken: Fixtures.token()), now: Fixtures.now).result.get()
        // Even with wif configured as a trusted issuer of its own tokens, its at+jwt type is refused.
        let selfTrusting = TrustConfig(
            issuers: [
                TrustedIssuer(
                    name: "wif",
                    issuer: "https://wif.test",
                    keySource: .development,
                    audiences: ["https://api.internal"],
                    algorithms: [.es256]
                )
            ],
            policies: [
                TrustPolicy(
                    name: "loop",
                    issuer: "wif",
                    conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .glob(GlobPattern("*")))],
                    grant: .init(audiences: ["https://api.internal"], scopes: [], clientID: "loop")
                )
            ]
        )
        let source = RecordingKeySource(["wif": try JWKSet.parse(publishedJWKS([Self.signingKey]).serialized())])
        let outcome = await TokenExchanger(config: selfTrusting, keySource: source, minter: Self.minter)
            .exchange(ExchangeRequest(subjectToken: issued.accessToken), now: Fixtures.now + 10)
        #expect(outcome.result.failureCode == .tokenTypeNotAccepted)
    }
}

extension Result where Failure == ExchangeError {
    var failureCode: ExchangeError.Code? {
        if case .failure(let error) = self { return error.code }
        return nil
    }
}
