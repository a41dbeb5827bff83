import Testing
import WIFCore

@Suite("Minting: RFC 9068 access tokens signed with wif's ES256 key")
struct MintingTests {
    static let issuerURL = "https://wif.test"
    static let signingKey = SigningKey.generate()
    static let minter = AccessTokenMinter(issuerURL: issuerURL, signingKey: signingKey)
    /// wif's own issuer, as a deployment that deliberately trusted it would configure it.
    static let wifIssuer = TrustedIssuer(
        name: "wif",
        issuer: issuerURL,
        keySource: .jwksURL(issuerURL + "/jwks"),
        audiences: ["https://api.internal"],
        algorithms: [.es256]
    )

    /// A P-256 key generated and thumbprinted by an independent implementation (Python `cryptography`, RFC 7638
    /// over `{"crv","kty","x","y"}`), as a known answer for ``SigningKey/keyID``.
    static let knownPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEPNBuq81tG5WSwPJ
        HnEl06CQ8vO5HbcoDNRNJUAfbdWhRANCAAS/J9Sl0V8kWBSBMK//SkejW4g0+u9e
        4OtdCebIzg77h2uDweNHWRRyEwaz+awCfe03w8WKdtkXceiuVqgjso/T
        -----END PRIVATE KEY-----
        """
    static let knownX = "vyfUpdFfJFgUgTCv_0pHo1uINPrvXuDrXQnmyM4O-4c"
    static let knownY = "a4PB40dZFHITBrP5rAJ97TfDxYp22Rdx6K5WqCOyj9M"
    static let knownThumbprint = "7GKy3mv5jah44Asdw7F4x8kta-sKBWsDpkYdrxko2BA"

    static func grant(
        audiences: [String] = ["https://api.internal"],
        requested: [String] = [],
        scopes: [String] = ["read", "write"],
        mapped: [String: ClaimPath] = ["namespace": ClaimPath(["kubernetes.io", "namespace"])],
        maxLifetime: Int = 900
    ) throws -> IssuedGrant {
        let policy = TrustPolicy(
            name: "demo-app",
            issuer: "cluster",
            conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .equals(.string(Fixtures.subject)))],
            grant: .init(audiences: audiences, scopes: scopes, maxLifetime: maxLifetime, mappedClaims: mapped, clientID: "demo-client")
        )
        let request = ExchangeRequest(subjectToken: "unused", audiences: requested)
        return try PolicyEvaluator.decide(token: Fixtures.verified(), request: request, policies: [policy], now: Fixtures.now).result.get()
    }

    static func decode(_ segment: Substring) throws -> JSONValue {
        try JSONValue.parse(try #require(Base64URL.decode(String(segment))))
    }

    @Test("the kid is the RFC 7638 JWK thumbprint")
    func thumbprint() throws {
        let key = try SigningKey(pem: Self.knownPEM)
        #expect(key.keyID == Self.knownThumbprint)
        #expect(
            key.publicJWK == [
                "kty": "EC", "crv": "P-256", "x": .string(Self.knownX), "y": .string(Self.knownY), "kid": .string(Self.knownThumbprint),
                "alg": "ES256", "use": "sig",
            ]
        )
    }

    @Test("a key survives a PEM round trip with the same kid")
    func pemRoundTrip() throws {
        let restored = try SigningKey(pem: Self.signingKey.pemRepresentation)
        #expect(restored.keyID == Self.signingKey.keyID)
        #expect(Self.signingKey.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(SigningKey.generate().keyID != Self.signingKey.keyID)
        #expect(throws: (any Error).self) { try SigningKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----") }
    }

    @Test("the published JWKS holds public keys only")
    func publishedKeys() throws {
        let other = SigningKey.generate()
        let document = publishedJWKS([Self.signingKey, other])
        let keys = try #require(document["keys"]?.arrayValue)
        #expect(keys.count == 2)
        #expect(keys.allSatisfy { $0["d"] == nil && $0["kty"] == "EC" && $0["use"] == "sig" && $0["alg"] == "ES256" })
        #expect(keys.map { $0["kid"] } == [.string(Self.signingKey.keyID), .string(other.keyID)])
    }

    @Test("the header is alg ES256, typ at+jwt and the key's kid")
    func header() throws {
        let token = try Self.minter.mint(try Self.grant())
        #expect(token.segments.count == 3)
        #expect(try Self.decode(token.segments[0]) == ["alg": "ES256", "typ": "at+jwt", "kid": .string(Self.signingKey.keyID)])
    }

    @Test("the claims are exactly the grant's")
    func claims() throws {
        let grant = try Self.grant()
        let token = try Self.minter.mint(grant, tokenID: "token-id-1", configVersion: "0123456789abcdef")
        let iat = JSONValue.number(Fixtures.now)
        #expect(
            try Self.decode(token.segments[1]) == [
                "iss": .string(Self.issuerURL),
                "sub": .string(Fixtures.subject),
                "aud": "https://api.internal",
                "iat": iat,
                "nbf": iat,
                "exp": .number(Fixtures.now + 600),
                "jti": "token-id-1",
                "client_id": "demo-client",
                "scope": "read write",
                "namespace": "demo",
                "wif_policy": "demo-app",
                "wif_config": "0123456789abcdef",
            ]
        )
        #expect(Self.minter.claims(for: grant, tokenID: "token-id-1", configVersion: "0123456789abcdef") == (try Self.decode(token.segments[1])))
    }

    @Test("several audiences are an array; no scopes means no scope claim")
    func audiencesAndScopes() throws {
        let grant = try Self.grant(
            audiences: ["https://a.internal", "https://b.internal"],
            requested: ["https://b.internal", "https://a.internal"],
            scopes: []
        )
        let claims = Self.minter.claims(for: grant, tokenID: "t")
        #expect(claims["aud"] == ["https://b.internal", "https://a.internal"])
        #expect(claims["scope"] == nil)
    }

    @Test("mapped claims cannot replace the claims wif sets")
    func reservedClaimsWin() throws {
        let mapped: [String: ClaimPath] = [
            "iss": ClaimPath(["iss"]), "sub": ClaimPath(["jti"]), "exp": ClaimPath(["exp"]), "client_id": ClaimPath(["sub"]),
        ]
        let claims = Self.minter.claims(for: try Self.grant(mapped: mapped), tokenID: "t")
        #expect(claims["iss"] == .string(Self.issuerURL))
        #expect(claims["sub"] == .string(Fixtures.subject))
        #expect(claims["exp"] == .number(Fixtures.now + 600))
        #expect(claims["client_id"] == "demo-client")
    }

    @Test("the minted token's signature verifies with the published JWKS")
    func signatureVerifies() throws {
        let token = try Self.minter.mint(try Self.grant())
        let keys = try JWKSet.parse(publishedJWKS([Self.signingKey]).serialized())
        let key = try #require(keys.key(for: Self.signingKey.keyID))
        let parts = token.segments
        let signature = try #require(Base64URL.decode(String(parts[2])))
        #expect(signature.count == 64)
        #expect(key.isValidSignature(signature, over: Array("\(parts[0]).\(parts[1])".utf8), algorithm: .es256))
        #expect(!key.isValidSignature(signature, over: Array("\(parts[0]).\(parts[1])x".utf8), algorithm: .es256))
    }

    @Test("wif's own token replayed as a subject token is refused for its type (security-cases.md case 65)")
    func ownTokenReplayed() throws {
        let token = try Self.minter.mint(try Self.grant())
        let keys = try JWKSet.parse(publishedJWKS([Self.signingKey]).serialized())
        let unverified = try UnverifiedToken(parsing: token)
        #expect(unverified.issuer == Self.issuerURL)
        #expect(unverified.type == "at+jwt")
        let error = refusal { () throws(ExchangeError) -> VerifiedToken in
            try unverified.verify(issuer: Self.wifIssuer, keys: keys, now: Fixtures.now)
        }
        #expect(error?.code == .tokenTypeNotAccepted)
    }

    @Test("the minted token verifies with the published JWKS when wif is the issuer and at+jwt is asked for")
    func mintedTokenVerifies() throws {
        let grant = try Self.grant()
        let token = try Self.minter.mint(grant, tokenID: "jti-2")
        let keys = try JWKSet.parse(publishedJWKS([Self.signingKey]).serialized())
        let verified = try UnverifiedToken(parsing: token).verify(
            issuer: Self.wifIssuer,
            keys: keys,
            now: Fixtures.now + 1,
            acceptedTypes: ["at+jwt"]
        )
        #expect(verified.subject == Fixtures.subject)
        #expect(verified.keyID == Self.signingKey.keyID)
        #expect(verified.algorithm == .es256)
        #expect(verified.expiresAt == Double(grant.expiresAt))
        #expect(verified.tokenID == "jti-2")
    }

    @Test("the minted claims pass wif's own verification when signed as a plain JWT")
    func claimsVerify() throws {
        let grant = try Self.grant()
        let claims = Self.minter.claims(for: grant, tokenID: "jti-1")
        let jwt = try Self.signingKey.sign(header: ["alg": "ES256", "kid": .string(Self.signingKey.keyID)], claims: claims)
        let keys = try JWKSet.parse(publishedJWKS([Self.signingKey]).serialized())
        let verified = try Fixtures.verify(jwt, issuer: Self.wifIssuer, keys: keys, now: Fixtures.now + 1)
        #expect(verified.subject == Fixtures.subject)
        #expect(verified.expiresAt == Double(grant.expiresAt))
        #expect(verified.tokenID == "jti-1")
        #expect(verified.claims["client_id"] == "demo-client")
    }

    @Test("a token from a retired key does not verify once the key is no longer published")
    func retiredKey() throws {
        let claims = Self.minter.claims(for: try Self.grant(), tokenID: "t")
        let jwt = try Self.signingKey.sign(header: ["alg": "ES256", "kid": .string(Self.signingKey.keyID)], claims: claims)
        let keys = try JWKSet.parse(publishedJWKS([SigningKey.generate()]).serialized())
        let error = refusal { () throws(ExchangeError) -> VerifiedToken in try Fixtures.verify(jwt, issuer: Self.wifIssuer, keys: keys) }
        #expect(error?.code == .keyNotFound)
    }

    @Test("token ids are 128 random bits in base64url")
    func tokenIDs() {
        let ids = (0..<200).map { _ in AccessTokenMinter.newTokenID() }
        #expect(Set(ids).count == 200)
        #expect(ids.allSatisfy { $0.count == 22 && Base64URL.decode($0)?.count == 16 })
    }

    @Test("mint uses a fresh token id by default")
    func defaultTokenID() throws {
        let grant = try Self.grant()
        let first = try Self.decode(try Self.minter.mint(grant).segments[1])["jti"]
        let second = try Self.decode(try Self.minter.mint(grant).segments[1])["jti"]
        #expect(first != nil)
        #expect(first != second)
    }
}
