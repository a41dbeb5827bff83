import Testing
import WIFCore
import WIFTesting

/// Keys, issuers and token builders shared by the WIFCore suites.
///
/// Keys are generated once per test run (RSA generation is slow) and reused by every suite.
enum Fixtures {
    /// The fixed instant every test runs at (2027-01-15T08:00:00Z).
    static let now: Double = 1_800_000_000
    static let issuerURL = "https://issuer.test"
    static let audience = "wif"
    static let subject = "system:serviceaccount:demo:app"

    // One RSA key for the whole run, published three ways: pinned to RS256, pinned to PS256, and unpinned.
    static let rsa: TestKey = try! TestKey.rsa(keyID: "rsa-1", algorithm: .rs256)
    static let pss = TestKey(keyID: "rsa-pss", algorithm: .ps256, material: rsa.material)
    static let rsaUnpinned = rsa.with(keyID: "rsa-any", publishesAlgorithm: false)
    static let p256 = TestKey.p256(keyID: "ec-1")
    static let p384 = TestKey.p384(keyID: "ec384-1")
    static let ed25519 = TestKey.ed25519(keyID: "ed-1")
    /// A key nobody trusts, published under the trusted P-256 key's `kid` when a test needs it.
    static let attacker = TestKey.p256(keyID: "ec-1")

    static let trustedKeys: [TestKey] = [rsa, pss, rsaUnpinned, p256, p384, ed25519]

    /// The JWKS of ``trustedKeys``, imported the way a key source would.
    static let keys: JWKSet = jwks(trustedKeys)

    static func jwks(_ keys: [TestKey]) -> JWKSet {
        try! JWKSet.parse(JSONValue.object(["keys": .array(keys.map(\.publicJWK))]).serialized())
    }

    static func issuer(
        name: String = "cluster",
        issuer: String = issuerURL,
        audiences: [String] = [audience],
        algorithms: Set<JWSAlgorithm> = Set(JWSAlgorithm.allCases),
        maxTokenLifetime: Int = 24 * 3600,
        leeway: Int = 60,
        kubernetes: KubernetesIntake = KubernetesIntake()
    ) -> TrustedIssuer {
        TrustedIssuer(
            name: name,
            issuer: issuer,
            keySource: .jwksURL(issuer + "/jwks"),
            audiences: audiences,
            algorithms: algorithms,
            maxTokenLifetime: maxTokenLifetime,
            leeway: leeway,
            kubernetes: kubernetes
        )
    }

    /// Well-formed claims valid at ``now``; `changes` sets members, and a `nil` value removes one.
    static func claims(_ changes: [String: JSONValue?] = [:]) -> JSONValue {
        var claims: [String: JSONValue] = [
            "iss": .string(issuerURL),
            "sub": .string(subject),
            "aud": [.string(audience)],
            "iat": .number(now - 10),
            "nbf": .number(now - 10),
            "exp": .number(now + 600),
            "jti": "subject-token-1",
            "kubernetes.io": [
                "namespace": "demo",
                "serviceaccount": ["name": "app", "uid": "5b1c2f8e"],
            ],
        ]
        for (name, value) in changes {
            claims[name] = value
        }
        return .object(claims)
    }

    /// A signed token with the default header `{"alg", "kid", "typ": "JWT"}` of `key`.
    static func token(_ claims: JSONValue = claims(), key: TestKey = p256, header: JSONValue? = nil) -> String {
        try! TokenFactory.token(claims: claims, key: key, header: header)
    }

    /// A token whose header and payload are exactly these texts, signed by `key` with `algorithm`.
    static func raw(header: String? = nil, payload: String, key: TestKey = p256, algorithm: JWSAlgorithm? = nil) -> String {
        let headerText = header ?? #"{"alg":"ES256","kid":"ec-1","typ":"JWT"}"#
        return try! TokenFactory.raw(header: Array(headerText.utf8), payload: Array(payload.utf8), key: key, algorithm: algorithm)
    }

    /// A token whose header and payload are exactly these bytes, signed by `key`.
    static func raw(headerBytes: [UInt8], payloadBytes: [UInt8], key: TestKey = p256) -> String {
        try! TokenFactory.raw(header: headerBytes, payload: payloadBytes, key: key)
    }

    /// Signs an arbitrary signing input (`header.payload`, already encoded) with `key`.
    static func sign(signingInput: String, key: TestKey = p256, algorithm: JWSAlgorithm? = nil) -> String {
        signingInput + "." + Base64URL.encode(try! key.sign(Array(signingInput.utf8), as: algorithm ?? key.algorithm))
    }

    /// Parses and verifies `token` the way the exchange pipeline does: the issuer is selected by exact `iss`.
    static func verify(
        _ token: String,
        issuer: TrustedIssuer = issuer(),
        keys: JWKSet = keys,
        now: Double = now
    ) throws(ExchangeError) -> VerifiedToken {
        let unverified = try UnverifiedToken(parsing: token)
        guard let selected = TrustConfig(issuers: [issuer], policies: []).issuer(forIss: unverified.issuer) else {
            throw ExchangeError(.issuerNotTrusted, "subject token issuer is not trusted")
        }
        return try unverified.verify(issuer: selected, keys: keys, now: now)
    }

    /// A verified token with these claims (signed with the P-256 key), for policy tests.
    static func verified(_ claims: JSONValue = claims(), issuer: TrustedIssuer = issuer()) -> VerifiedToken {
        try! verify(token(claims, key: p256), issuer: issuer)
    }
}

/// The error `body` throws, or nil when it returns.
func refusal<T>(_ body: () throws(ExchangeError) -> T) -> ExchangeError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Whether every byte is in RFC 6749 §5.2's set for `error` and `error_description`: %x20-21 / %x23-5B / %x5D-7E.
func isOAuthErrorText(_ text: String) -> Bool {
    text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
}

/// A named case for `@Test(arguments:)` tables, shown by its name in test output.
struct Case<Value: Sendable>: Sendable, CustomTestStringConvertible {
    let name: String
    let value: Value

    init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }

    var testDescription: String { name }
}

extension String {
    /// The segments of a compact token.
    var segments: [Substring] { split(separator: ".", omittingEmptySubsequences: false) }
}
