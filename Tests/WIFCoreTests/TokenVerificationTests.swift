import Testing
import WIFCore
import WIFTesting

/// Subject-token verification: one test per rejection reason, each asserting the exact ``ExchangeError/Code``
/// (security-cases.md §2.B–2.E), and the acceptance paths for every supported algorithm.
@Suite("Token verification")
struct TokenVerificationTests {
    static let now = Fixtures.now
    static let payload = String(decoding: Fixtures.claims().serialized(), as: UTF8.self)

    /// Verifies `token` and returns the refusal, if any.
    static func refusal(
        of token: String,
        issuer: TrustedIssuer = Fixtures.issuer(),
        keys: JWKSet = Fixtures.keys,
        now: Double = now
    ) -> ExchangeError? {
        WIFCoreTests.refusal { () throws(ExchangeError) -> VerifiedToken in try Fixtures.verify(token, issuer: issuer, keys: keys, now: now) }
    }

    /// The code a token with `claims` (signed by the trusted P-256 key) is refused with.
    static func code(claims: JSONValue, issuer: TrustedIssuer = Fixtures.issuer(), now: Double = now) -> ExchangeError.Code? {
        refusal(of: Fixtures.token(claims), issuer: issuer, now: now)?.code
    }

    /// The code a token with exactly this payload text (signed by the trusted P-256 key) is refused with.
    static func code(payload: String) -> ExchangeError.Code? {
        refusal(of: Fixtures.raw(payload: payload))?.code
    }

    /// The payload text of the default claims with one member's JSON text replaced (or added).
    static func payload(setting name: String, toJSON json: String) -> String {
        var members = Fixtures.claims().objectValue!
        members[name] = nil
        let rest = String(decoding: JSONValue.object(members).serialized(), as: UTF8.self).dropFirst()
        return "{\"\(name)\":\(json)," + rest
    }

    // MARK: - Acceptance

    @Test(
        "accepts a valid token for every supported algorithm",
        arguments: [
            Case("RS256", Fixtures.rsa),
            Case("PS256", Fixtures.pss),
            Case("ES256", Fixtures.p256),
            Case("ES384", Fixtures.p384),
            Case("EdDSA", Fixtures.ed25519),
        ]
    )
    func acceptsEveryAlgorithm(_ key: Case<TestKey>) throws {
        let token = try Fixtures.verify(Fixtures.token(key: key.value))
        #expect(token.algorithm == key.value.algorithm)
        #expect(token.keyID == key.value.keyID)
        #expect(token.subject == Fixtures.subject)
        #expect(token.issuer.name == "cluster")
        #expect(token.expiresAt == Self.now + 600)
        #expect(token.tokenID == "subject-token-1")
        #expect(token.claims["kubernetes.io"]?["namespace"] == "demo")
    }

    @Test("an RSA JWK without alg verifies every RSA algorithm the issuer allows")
    func unpinnedRSA() throws {
        for algorithm in [JWSAlgorithm.rs256, .rs384, .rs512, .ps256, .ps384, .ps512] {
            let header: JSONValue = ["alg": .string(algorithm.rawValue), "kid": "rsa-any"]
            let token = Fixtures.raw(
                header: String(decoding: header.serialized(), as: UTF8.self),
                payload: Self.payload,
                key: Fixtures.rsaUnpinned,
                algorithm: algorithm
            )
            #expect(try Fixtures.verify(token).algorithm == algorithm)
        }
    }

    @Test("accepts a fractional exp and keeps the fraction")
    func fractionalExpiry() throws {
        let token = try Fixtures.verify(Fixtures.token(Fixtures.claims(["exp": .number(Self.now + 100.5)])))
        #expect(token.expiresAt == Self.now + 100.5)
    }

    @Test("accepts several audiences when one of them is accepted")
    func multipleAudiences() throws {
        #expect(throws: Never.self) { try Fixtures.verify(Fixtures.token(Fixtures.claims(["aud": ["other-svc", "wif"]]))) }
        #expect(throws: Never.self) { try Fixtures.verify(Fixtures.token(Fixtures.claims(["aud": "wif"]))) }
        let issuer = Fixtures.issuer(audiences: ["first", "wif"])
        #expect(throws: Never.self) { try Fixtures.verify(Fixtures.token(Fixtures.claims(["aud": ["x", "wif"]])), issuer: issuer) }
    }

    @Test("a token without kid uses the issuer's only key")
    func noKidSingleKey() throws {
        let key = Fixtures.p256.with(keyID: nil)
        let token = Fixtures.token(key: key)
        #expect(throws: Never.self) { try Fixtures.verify(token, keys: Fixtures.jwks([key])) }
    }

    @Test(
        "accepts typ JWT, JOSE, their media types, and no typ",
        arguments: [#","typ":"JWT""#, #","typ":"jwt""#, #","typ":"JOSE""#, #","typ":"application/jwt""#, ""]
    )
    func acceptedTypes(_ typ: String) {
        let token = Fixtures.raw(header: #"{"alg":"ES256","kid":"ec-1"\#(typ)}"#, payload: Self.payload)
        #expect(Self.refusal(of: token) == nil)
    }

    @Test("accepts optional claims iat and nbf being absent")
    func optionalTimeClaims() {
        #expect(Self.code(claims: Fixtures.claims(["iat": nil, "nbf": nil])) == nil)
    }

    // MARK: - Envelope (security-cases.md cases 18–25)

    @Test(
        "refuses tokens that are not three base64url segments",
        arguments: [
            Case("two segments", "eyJhIjoxfQ.eyJhIjoxfQ"),
            Case("four segments", "eyJhIjoxfQ.eyJhIjoxfQ.c2ln.c2ln"),
            Case("five segments (JWE)", "eyJhIjoxfQ.a.b.c.d"),
            Case("empty payload", "eyJhIjoxfQ..c2ln"),
            Case("empty signature (alg none style)", "eyJhIjoxfQ.eyJhIjoxfQ."),
            Case("empty header", ".eyJhIjoxfQ.c2ln"),
            Case("empty string", ""),
            Case("only dots", ".."),
            Case("dot flood within the size limit", String(repeating: ".", count: 10_000)),
            Case("white space inside a segment", "eyJhIjoxfQ.eyJh IjoxfQ.c2ln"),
        ]
    )
    func malformedEnvelope(_ input: Case<String>) {
        let error = Self.refusal(of: input.value)
        #expect(error?.code == .tokenMalformed)
        #expect(error?.description == "subject token is not a well-formed compact JWS")
    }

    @Test("refuses an oversized token before decoding it")
    func oversized() {
        let padded = Fixtures.token(Fixtures.claims(["pad": .string(String(repeating: "a", count: 200_000))]))
        #expect(Self.refusal(of: padded)?.code == .tokenTooLarge)
        #expect(Self.refusal(of: String(repeating: ".", count: 1_000_000))?.code == .tokenTooLarge)
    }

    @Test("the size limit is 16 KiB exactly")
    func sizeBoundary() {
        #expect(TokenLimits.maxTokenLength == 16_384)
        #expect(Self.refusal(of: String(repeating: "a", count: 16_384))?.code == .tokenMalformed)
        #expect(Self.refusal(of: String(repeating: "a", count: 16_385))?.code == .tokenTooLarge)
    }

    /// A validly signed token whose payload segment uses the standard alphabet: the claim `pad` of '?'
    /// characters guarantees a '_' in the base64url text (every 3-byte group of '?'/'>' ends in 62 or 63).
    @Test("refuses the standard base64 alphabet even when the signature covers it")
    func standardAlphabet() throws {
        let claims = Fixtures.claims(["pad": "?????>>>>>"])
        let header = Base64URL.encode(Array(#"{"alg":"ES256","kid":"ec-1"}"#.utf8))
        let urlPayload = Base64URL.encode(claims.serialized())
        let standardPayload = String(urlPayload.map { $0 == "_" ? "/" : $0 == "-" ? "+" : $0 })
        try #require(standardPayload != urlPayload)
        #expect(Self.refusal(of: Fixtures.sign(signingInput: header + "." + urlPayload)) == nil)
        #expect(Self.refusal(of: Fixtures.sign(signingInput: header + "." + standardPayload))?.code == .tokenMalformed)
    }

    @Test("refuses padding even when the signature covers it")
    func padding() throws {
        let header = Base64URL.encode(Array(#"{"alg":"ES256","kid":"ec-1"}"#.utf8))
        var payload = Base64URL.encode(Fixtures.claims(["pad": "x"]).serialized())
        if payload.count % 4 == 0 { payload = Base64URL.encode(Fixtures.claims(["pad": "xy"]).serialized()) }
        try #require(payload.count % 4 != 0)
        payload += String(repeating: "=", count: 4 - payload.count % 4)
        #expect(Self.refusal(of: Fixtures.sign(signingInput: header + "." + payload))?.code == .tokenMalformed)
    }

    @Test("refuses non-canonical trailing bits in the signature")
    func trailingBits() throws {
        let token = Fixtures.token()
        try #require(Self.refusal(of: token) == nil)
        // A 64-byte ES256 signature is 86 characters: the last one carries 4 unused bits.
        let signature = token.segments[2]
        try #require(signature.count % 4 == 2)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = alphabet.firstIndex(of: signature.last!)!
        try #require(last & 0x0F == 0)
        let tampered = token.dropLast() + String(alphabet[last | 0x01])
        #expect(Self.refusal(of: String(tampered))?.code == .tokenMalformed)
    }

    @Test(
        "refuses a header that is not one strict JSON object",
        arguments: [
            Case("array", "[]"),
            Case("string", #""x""#),
            Case("number", "1"),
            Case("null", "null"),
            Case("trailing garbage", #"{"alg":"ES256","kid":"ec-1"}x"#),
            Case("two objects", #"{"alg":"ES256","kid":"ec-1"}{}"#),
            Case("duplicate alg", #"{"alg":"ES256","kid":"ec-1","alg":"none"}"#),
            Case("duplicate alg via escape", #"{"alg":"ES256","kid":"ec-1","a\u006cg":"HS256"}"#),
            Case("duplicate kid", #"{"alg":"ES256","kid":"ec-1","kid":"rsa-1"}"#),
            Case("alg missing", #"{"kid":"ec-1"}"#),
            Case("alg not a string", #"{"alg":["ES256"],"kid":"ec-1"}"#),
            Case("alg null", #"{"alg":null,"kid":"ec-1"}"#),
            Case("kid not a string", #"{"alg":"ES256","kid":1}"#),
            Case("kid empty", #"{"alg":"ES256","kid":""}"#),
            Case("typ not a string", #"{"alg":"ES256","kid":"ec-1","typ":1}"#),
            Case("lone surrogate", #"{"alg":"ES256","kid":"\ud800"}"#),
        ]
    )
    func badHeader(_ header: Case<String>) {
        let error = Self.refusal(of: Fixtures.raw(header: header.value, payload: Self.payload))
        #expect(error?.code == .tokenHeaderInvalid)
        #expect(error?.description == "subject token header is invalid")
    }

    @Test("refuses a kid longer than 256 bytes")
    func longKid() {
        let header = #"{"alg":"ES256","kid":"\#(String(repeating: "k", count: 257))"}"#
        #expect(Self.refusal(of: Fixtures.raw(header: header, payload: Self.payload))?.code == .tokenHeaderInvalid)
    }

    @Test("refuses a header with invalid UTF-8 or a byte-order mark")
    func headerBytes() {
        let invalid = Array(#"{"alg":"ES256","kid":"ec-"#.utf8) + [0xFF] + Array(#""}"#.utf8)
        let bom = [0xEF, 0xBB, 0xBF] + Array(#"{"alg":"ES256","kid":"ec-1"}"#.utf8)
        for header in [invalid, bom] {
            let token = Fixtures.raw(headerBytes: header, payloadBytes: Array(Self.payload.utf8))
            #expect(Self.refusal(of: token)?.code == .tokenHeaderInvalid)
        }
    }

    @Test(
        "refuses a payload that is not one strict JSON object",
        arguments: [
            Case("array", "[]"),
            Case("string", #""x""#),
            Case("null", "null"),
            Case("trailing garbage", payload + "x"),
            Case("two objects", payload + "{}"),
            Case("duplicate sub", payload(setting: "sub", toJSON: #""ci","sub":"admin""#)),
            Case("duplicate iss", payload(setting: "iss", toJSON: #""https://issuer.test","iss":"https://issuer.test""#)),
            Case("duplicate aud", payload(setting: "aud", toJSON: #""wif","aud":"wif""#)),
            Case("duplicate inside kubernetes.io", payload(setting: "kubernetes.io", toJSON: #"{"namespace":"demo","namespace":"prod"}"#)),
            Case("duplicate inside an array element", payload(setting: "x", toJSON: #"[{"a":1,"a":2}]"#)),
            Case("lone surrogate in sub", payload(setting: "sub", toJSON: #""\ud800""#)),
            Case("lone low surrogate in a claim", payload(setting: "x", toJSON: #""\udfff""#)),
            Case("nesting deeper than 32", payload(setting: "x", toJSON: String(repeating: "[", count: 32) + String(repeating: "]", count: 32))),
            Case("number beyond Double", payload(setting: "exp", toJSON: "1e400")),
        ]
    )
    func badPayload(_ payload: Case<String>) {
        let error = Self.refusal(of: Fixtures.raw(payload: payload.value))
        #expect(error?.code == .tokenClaimsInvalid)
        #expect(error?.description == "subject token claims are invalid")
    }

    @Test("accepts nesting of exactly 32 levels")
    func nestingBoundary() {
        // The payload object is level 1, so 31 arrays inside it reach level 32.
        let payload = Self.payload(setting: "x", toJSON: String(repeating: "[", count: 31) + String(repeating: "]", count: 31))
        #expect(Self.code(payload: payload) == nil)
    }

    @Test("refuses a payload with invalid UTF-8, an overlong encoding or a byte-order mark")
    func payloadBytes() {
        let body = Array(Self.payload.utf8)
        let cases: [[UInt8]] = [
            Array(Self.payload(setting: "x", toJSON: "\"A\"").utf8).replacing([UInt8(ascii: "A")], with: [0xFF], maxReplacements: 1),
            Array(Self.payload(setting: "x", toJSON: "\"A\"").utf8).replacing([UInt8(ascii: "A")], with: [0xC0, 0xAF], maxReplacements: 1),
            [0xEF, 0xBB, 0xBF] + body,
        ]
        for payload in cases {
            let token = Fixtures.raw(headerBytes: Array(#"{"alg":"ES256","kid":"ec-1"}"#.utf8), payloadBytes: payload)
            #expect(Self.refusal(of: token)?.code == .tokenClaimsInvalid)
        }
    }

    // MARK: - Header parameters (security-cases.md cases 29–31, 35–37)

    @Test(
        "refuses header parameters that change processing or name outside keys",
        arguments: [
            Case("crit", #""crit":["exp"]"#),
            Case("empty crit", #""crit":[]"#),
            Case("crit as a string", #""crit":"x""#),
            Case("b64 false", #""b64":false,"crit":["b64"]"#),
            Case("b64 without crit", #""b64":false"#),
            Case("jwk", #""jwk":\#(String(decoding: Fixtures.attacker.publicJWK.serialized(), as: UTF8.self))"#),
            Case("jku", #""jku":"https://attacker.test/jwks.json""#),
            Case("x5u", #""x5u":"https://attacker.test/cert.pem""#),
            Case("x5c", #""x5c":["MIIB"]"#),
            Case("zip", #""zip":"DEF""#),
            Case("enc", #""enc":"A128GCM""#),
        ]
    )
    func refusedHeaderParameters(_ parameter: Case<String>) {
        let token = Fixtures.raw(header: #"{"alg":"ES256","kid":"ec-1",\#(parameter.value)}"#, payload: Self.payload)
        let error = Self.refusal(of: token)
        #expect(error?.code == .tokenHeaderUnsupported)
        #expect(error?.description == "subject token header uses an unsupported parameter")
    }

    @Test("a jwk header signed by its own key is refused, not used")
    func embeddedJWK() {
        let jwk = String(decoding: Fixtures.attacker.publicJWK.serialized(), as: UTF8.self)
        let token = Fixtures.raw(header: #"{"alg":"ES256","jwk":\#(jwk)}"#, payload: Self.payload, key: Fixtures.attacker)
        #expect(Self.refusal(of: token)?.code == .tokenHeaderUnsupported)
    }

    @Test(
        "refuses explicit types other than JWT, wif's own at+jwt included",
        arguments: ["at+jwt", "AT+JWT", "application/at+jwt", "secevent+jwt", "dpop+jwt", "logout+jwt", "JWE", ""]
    )
    func wrongType(_ typ: String) {
        let token = Fixtures.raw(header: #"{"alg":"ES256","kid":"ec-1","typ":"\#(typ)"}"#, payload: Self.payload)
        let error = Self.refusal(of: token)
        #expect(error?.code == .tokenTypeNotAccepted)
        #expect(error?.description == "subject token type is not accepted")
    }

    // MARK: - Algorithm and key selection (security-cases.md cases 32–34, 38–40)

    @Test(
        "refuses alg none and every algorithm wif does not implement",
        arguments: ["none", "None", "NONE", "nOnE", "none ", "HS256", "HS384", "HS512", "ES512", "RS1", "rs256", "ES256K", ""]
    )
    func unsupportedAlgorithm(_ alg: String) {
        for key in [nil, Fixtures.p256] as [TestKey?] {
            let header = #"{"alg":"\#(alg)","kid":"ec-1"}"#
            let token = try! TokenFactory.raw(header: Array(header.utf8), payload: Array(Self.payload.utf8), key: key)
            let error = Self.refusal(of: token.hasSuffix(".") ? token + "c2ln" : token)
            #expect(error?.code == .algorithmNotAllowed)
            #expect(error?.description == "subject token algorithm is not allowed")
        }
    }

    @Test("refuses an HS256 token MACed with the issuer's public key text")
    func hmacConfusion() {
        // Whatever the MAC, HS256 can never select a key: the header alone decides.
        let header = Base64URL.encode(Array(#"{"alg":"HS256","kid":"rsa-1"}"#.utf8))
        let token = header + "." + Base64URL.encode(Array(Self.payload.utf8)) + "." + Base64URL.encode([UInt8](repeating: 7, count: 32))
        #expect(Self.refusal(of: token)?.code == .algorithmNotAllowed)
    }

    @Test("refuses an algorithm outside the issuer's allow-list")
    func notInAllowList() {
        let rsaOnly = Fixtures.issuer(algorithms: [.rs256])
        #expect(Self.refusal(of: Fixtures.token(key: Fixtures.p256), issuer: rsaOnly)?.code == .algorithmNotAllowed)
        #expect(Self.refusal(of: Fixtures.token(key: Fixtures.pss), issuer: rsaOnly)?.code == .algorithmNotAllowed)
        #expect(Self.refusal(of: Fixtures.token(key: Fixtures.rsa), issuer: rsaOnly) == nil)
        let rs384 = Fixtures.raw(header: #"{"alg":"RS384","kid":"rsa-any"}"#, payload: Self.payload, key: Fixtures.rsaUnpinned, algorithm: .rs384)
        #expect(Self.refusal(of: rs384, issuer: rsaOnly)?.code == .algorithmNotAllowed)
    }

    @Test("refuses an ES256 header on an RSA key")
    func algorithmDoesNotFitKeyType() {
        let token = Fixtures.raw(header: #"{"alg":"ES256","kid":"rsa-any"}"#, payload: Self.payload, key: Fixtures.p256)
        #expect(Self.refusal(of: token)?.code == .algorithmNotAllowed)
        let edOnRSA = Fixtures.raw(header: #"{"alg":"EdDSA","kid":"rsa-1"}"#, payload: Self.payload, key: Fixtures.ed25519)
        #expect(Self.refusal(of: edOnRSA)?.code == .algorithmNotAllowed)
        let es384OnP256 = Fixtures.raw(header: #"{"alg":"ES384","kid":"ec-1"}"#, payload: Self.payload, key: Fixtures.p384)
        #expect(Self.refusal(of: es384OnP256)?.code == .algorithmNotAllowed)
    }

    @Test("refuses RS384 and PS256 on a JWK pinned to RS256, though the signatures are genuine")
    func algorithmDoesNotFitPinnedKey() {
        for algorithm in [JWSAlgorithm.rs384, .ps256] {
            let header = #"{"alg":"\#(algorithm.rawValue)","kid":"rsa-1"}"#
            let token = Fixtures.raw(header: header, payload: Self.payload, key: Fixtures.rsa, algorithm: algorithm)
            #expect(Self.refusal(of: token)?.code == .algorithmNotAllowed)
        }
    }

    @Test("refuses an unknown kid, hostile ones included, without trying other keys")
    func unknownKid() {
        for kid in ["ec-2", "../../../../dev/null", "' UNION SELECT 'k' --", "EC-1", "ec-1 "] {
            let header = JSONValue.object(["alg": "ES256", "kid": .string(kid)]).serialized()
            let token = Fixtures.raw(headerBytes: header, payloadBytes: Array(Self.payload.utf8))
            let error = Self.refusal(of: token)
            #expect(error?.code == .keyNotFound)
            #expect(error?.description == "subject token signing key is not known")
        }
    }

    @Test("refuses a token without kid when the issuer has several keys")
    func noKidSeveralKeys() {
        let token = Fixtures.token(key: Fixtures.p256.with(keyID: nil))
        #expect(Self.refusal(of: token)?.code == .keyNotFound)
    }

    @Test("refuses a kid when the issuer's only key has none")
    func kidAgainstUnnamedKey() {
        let keys = Fixtures.jwks([Fixtures.p256.with(keyID: nil)])
        #expect(Self.refusal(of: Fixtures.token(key: Fixtures.p256), keys: keys)?.code == .keyNotFound)
    }

    // MARK: - Signature (security-cases.md cases 43–46)

    @Test("refuses a signature by another key under a trusted kid")
    func wrongKey() {
        let error = Self.refusal(of: Fixtures.token(key: Fixtures.attacker))
        #expect(error?.code == .signatureInvalid)
        #expect(error?.description == "subject token signature is invalid")
    }

    @Test("refuses changed claims under the original signature")
    func tamperedPayload() {
        let original = Fixtures.token().segments
        let forged = Base64URL.encode(Fixtures.claims(["sub": "system:serviceaccount:kube-system:admin"]).serialized())
        #expect(Self.refusal(of: "\(original[0]).\(forged).\(original[2])")?.code == .signatureInvalid)
    }

    @Test("refuses a flipped signature bit for every algorithm")
    func flippedBit() {
        for key in [Fixtures.rsa, Fixtures.pss, Fixtures.p256, Fixtures.p384, Fixtures.ed25519] {
            let parts = Fixtures.token(key: key).segments
            var signature = Base64URL.decode(String(parts[2]))!
            signature[signature.count / 2] ^= 0x01
            #expect(Self.refusal(of: "\(parts[0]).\(parts[1]).\(Base64URL.encode(signature))")?.code == .signatureInvalid, "\(key.algorithm)")
        }
    }

    typealias SignatureTransform = @Sendable ([UInt8]) -> [UInt8]

    static let ecdsaTransforms: [Case<SignatureTransform>] = [
        Case("64 zero bytes (psychic signature)", { _ in [UInt8](repeating: 0, count: 64) }),
        Case("r = 0", { sig in [UInt8](repeating: 0, count: 32) + Array(sig[32...]) }),
        Case("s = 0", { sig in Array(sig[..<32]) + [UInt8](repeating: 0, count: 32) }),
        Case("r and s all ones (beyond the group order)", { _ in [UInt8](repeating: 0xFF, count: 64) }),
        Case("DER-encoded", { sig in derECDSA(sig) }),
        Case("one byte short", { sig in Array(sig.dropFirst()) }),
        Case("one byte long", { sig in [0] + sig }),
        Case("P-384 length", { sig in sig + [UInt8](repeating: 0, count: 32) }),
    ]

    @Test("refuses malformed ECDSA signatures", arguments: ecdsaTransforms)
    func badECDSASignature(_ transform: Case<SignatureTransform>) throws {
        let parts = Fixtures.token().segments
        let signature = try #require(Base64URL.decode(String(parts[2])))
        #expect(signature.count == 64)
        let token = "\(parts[0]).\(parts[1]).\(Base64URL.encode(transform.value(signature)))"
        #expect(Self.refusal(of: token)?.code == .signatureInvalid)
    }

    @Test("refuses RSA signatures of the wrong length or value")
    func badRSASignature() throws {
        let parts = Fixtures.token(key: Fixtures.rsa).segments
        let signature = try #require(Base64URL.decode(String(parts[2])))
        #expect(signature.count == 256)
        let variants: [[UInt8]] = [
            Array(signature.dropFirst()),
            Array(signature.dropLast()),
            [0] + signature,
            [UInt8](repeating: 0, count: 256),
            [UInt8](repeating: 0xFF, count: 256),
        ]
        for variant in variants {
            #expect(Self.refusal(of: "\(parts[0]).\(parts[1]).\(Base64URL.encode(variant))")?.code == .signatureInvalid)
        }
    }

    @Test("refuses an Ed25519 signature of the wrong length")
    func badEd25519Signature() throws {
        let parts = Fixtures.token(key: Fixtures.ed25519).segments
        let signature = try #require(Base64URL.decode(String(parts[2])))
        #expect(Self.refusal(of: "\(parts[0]).\(parts[1]).\(Base64URL.encode(signature.dropLast()))")?.code == .signatureInvalid)
    }

    // MARK: - Time claims (security-cases.md cases 49–56)

    @Test("refuses an expired token, with the leeway as the boundary")
    func expired() {
        let error = Self.refusal(of: Fixtures.token(Fixtures.claims(["exp": .number(Self.now - 61)])))
        #expect(error?.code == .tokenExpired)
        #expect(error?.description == "subject token expired")
        #expect(Self.code(claims: Fixtures.claims(["exp": .number(Self.now - 60)])) == .tokenExpired)
        #expect(Self.code(claims: Fixtures.claims(["exp": .number(Self.now - 59)])) == nil)
        let strict = Fixtures.issuer(leeway: 0)
        #expect(Self.code(claims: Fixtures.claims(["exp": .number(Self.now)]), issuer: strict) == .tokenExpired)
        #expect(Self.code(claims: Fixtures.claims(["exp": .number(Self.now + 0.5)]), issuer: strict) == nil)
    }

    @Test("refuses nbf in the future beyond the leeway")
    func notBefore() {
        let error = Self.refusal(of: Fixtures.token(Fixtures.claims(["nbf": .number(Self.now + 61)])))
        #expect(error?.code == .tokenNotYetValid)
        #expect(error?.description == "subject token is not yet valid")
        #expect(Self.code(claims: Fixtures.claims(["nbf": .number(Self.now + 60)])) == nil)
    }

    @Test("refuses iat in the future beyond the leeway")
    func issuedInFuture() {
        #expect(Self.code(claims: Fixtures.claims(["iat": .number(Self.now + 61)])) == .tokenNotYetValid)
        #expect(Self.code(claims: Fixtures.claims(["iat": .number(Self.now + 60)])) == nil)
    }

    @Test("refuses a token without exp")
    func missingExpiry() {
        let error = Self.refusal(of: Fixtures.token(Fixtures.claims(["exp": nil])))
        #expect(error?.code == .tokenClaimsInvalid)
        #expect(error?.description == "subject token has no expiry")
    }

    @Test(
        "refuses time claims that are not a NumericDate in range",
        arguments: ["exp", "nbf", "iat"].flatMap { name in
            [
                Case("\(name) as a numeric string", (name, #""1800000100""#)),
                Case("\(name) true", (name, "true")),
                Case("\(name) null", (name, "null")),
                Case("\(name) [1800000100]", (name, "[1800000100]")),
                Case("\(name) {}", (name, "{}")),
                Case("\(name) 1e300", (name, "1e300")),
                Case("\(name) 1.8e308", (name, "1.8e308")),
                Case("\(name) 2^63", (name, "9223372036854775808")),
                Case("\(name) -1", (name, "-1")),
                Case("\(name) 0", (name, "0")),
                Case("\(name) -0", (name, "-0")),
            ]
        }
    )
    func badNumericDate(_ input: Case<(String, String)>) {
        let (name, json) = input.value
        #expect(Self.code(payload: Self.payload(setting: name, toJSON: json)) == .tokenClaimsInvalid)
    }

    @Test("refuses a lifetime longer than the issuer's maximum")
    func lifetimeTooLong() {
        let issuer = Fixtures.issuer(maxTokenLifetime: 3600)
        let tooLong = Fixtures.claims(["iat": .number(Self.now - 10), "nbf": nil, "exp": .number(Self.now - 10 + 3601)])
        let error = Self.refusal(of: Fixtures.token(tooLong), issuer: issuer)
        #expect(error?.code == .tokenLifetimeTooLong)
        #expect(error?.description == "subject token lifetime is too long")
        let exact = Fixtures.claims(["iat": .number(Self.now - 10), "nbf": nil, "exp": .number(Self.now - 10 + 3600)])
        #expect(Self.code(claims: exact, issuer: issuer) == nil)
        let byNotBefore = Fixtures.claims(["iat": nil, "nbf": .number(Self.now - 10), "exp": .number(Self.now - 10 + 3601)])
        #expect(Self.code(claims: byNotBefore, issuer: issuer) == .tokenLifetimeTooLong)
        let noStart = Fixtures.claims(["iat": nil, "nbf": nil, "exp": .number(Self.now + 3601)])
        #expect(Self.code(claims: noStart, issuer: issuer) == .tokenLifetimeTooLong)
    }

    @Test("a Kubernetes warnafter earlier than exp is the effective expiry")
    func warnAfterExpired() {
        let claims = Fixtures.claims([
            "exp": .number(Self.now + 3000),
            "kubernetes.io": ["namespace": "demo", "warnafter": .number(Self.now - 61)],
        ])
        let error = Self.refusal(of: Fixtures.token(claims))
        #expect(error?.code == .tokenExpired)
        #expect(error?.description == "subject token expired")
    }

    @Test("a token before its warnafter is accepted and expires at warnafter")
    func warnAfterEffectiveExpiry() throws {
        let claims = Fixtures.claims([
            "exp": .number(Self.now + 3000),
            "kubernetes.io": ["namespace": "demo", "warnafter": .number(Self.now + 200)],
        ])
        #expect(try Fixtures.verify(Fixtures.token(claims)).expiresAt == Self.now + 200)
        let later = Fixtures.claims(["exp": .number(Self.now + 100), "kubernetes.io": ["warnafter": .number(Self.now + 200)]])
        #expect(try Fixtures.verify(Fixtures.token(later)).expiresAt == Self.now + 100)
    }

    /// security-cases.md case 56: kube-api-access tokens carry `exp = iat + 1 year` and
    /// `warnafter = iat + 3607` when the API server extends token expiration.
    @Test("an extended Kubernetes token is judged by its warnafter, not its one-year exp")
    func extendedKubernetesToken() throws {
        let iat = Self.now - 60
        let claims = Fixtures.claims([
            "iat": .number(iat), "nbf": .number(iat), "exp": .number(iat + 365 * 24 * 3600),
            "kubernetes.io": ["namespace": "demo", "warnafter": .number(iat + 3607)],
        ])
        let token = Fixtures.token(claims)
        #expect(try Fixtures.verify(token).expiresAt == iat + 3607)
        #expect(Self.refusal(of: token, now: iat + 3607 + 61)?.code == .tokenExpired)
    }

    @Test("refuses a warnafter that is not a NumericDate")
    func badWarnAfter() {
        let claims = Fixtures.claims(["kubernetes.io": ["namespace": "demo", "warnafter": "1800000100"]])
        #expect(Self.code(claims: claims) == .tokenClaimsInvalid)
    }

    // MARK: - Issuer, audience, subject (security-cases.md cases 57–65)

    @Test("refuses a token without iss as an untrusted issuer")
    func missingIssuer() {
        let error = Self.refusal(of: Fixtures.token(Fixtures.claims(["iss": nil])))
        #expect(error?.code == .issuerNotTrusted)
        #expect(error?.description == "subject token issuer is not trusted")
    }

    @Test("refuses iss that is not a string", arguments: [#"["https://issuer.test"]"#, "null", "1", #"{"u":"https://issuer.test"}"#])
    func issuerNotString(_ json: String) {
        #expect(Self.code(payload: Self.payload(setting: "iss", toJSON: json)) == .tokenClaimsInvalid)
    }

    @Test("refuses a token without aud")
    func missingAudience() {
        let error = Self.refusal(of: Fixtures.token(Fixtures.claims(["aud": nil])))
        #expect(error?.code == .audienceNotAccepted)
        #expect(error?.description == "subject token audience is not accepted")
    }

    @Test(
        "refuses an audience meant for someone else",
        arguments: [
            Case<JSONValue>("Kubernetes API server", "https://kubernetes.default.svc.cluster.local"),
            Case<JSONValue>("other service in a list", ["https://github.com/acme", "sts.amazonaws.com"]),
            Case<JSONValue>("empty string", [""]),
            Case<JSONValue>("case variant", "WIF"),
            Case<JSONValue>("trailing space", "wif "),
        ]
    )
    func wrongAudience(_ aud: Case<JSONValue>) {
        #expect(Self.code(claims: Fixtures.claims(["aud": aud.value])) == .audienceNotAccepted)
    }

    @Test("compares aud with the accepted audiences code point by code point (RFC 7519 §7.3)")
    func audienceCodePoints() {
        let issuer = Fixtures.issuer(audiences: ["https://caf\u{E9}.test"])
        #expect(Self.code(claims: Fixtures.claims(["aud": "https://caf\u{E9}.test"]), issuer: issuer) == nil)
        #expect(Self.code(claims: Fixtures.claims(["aud": "https://cafe\u{301}.test"]), issuer: issuer) == .audienceNotAccepted)
    }

    @Test(
        "refuses aud of the wrong JSON type",
        arguments: [
            Case<JSONValue>("object", ["x": 1]),
            Case<JSONValue>("empty array", []),
            Case<JSONValue>("array of a number", [123]),
            Case<JSONValue>("accepted value beside an object", ["wif", ["x": 1]]),
            Case<JSONValue>("null", .null),
            Case<JSONValue>("number", 1),
            Case<JSONValue>("nested array", [["wif"]]),
        ]
    )
    func audienceType(_ aud: Case<JSONValue>) {
        #expect(Self.code(claims: Fixtures.claims(["aud": aud.value])) == .tokenClaimsInvalid)
    }

    @Test(
        "refuses an unusable sub",
        arguments: [
            Case<JSONValue?>("missing", nil),
            Case<JSONValue?>("empty", ""),
            Case<JSONValue?>("number", 42),
            Case<JSONValue?>("array", ["a"]),
            Case<JSONValue?>("null", .null),
            Case<JSONValue?>("longer than 1 KiB", .string(String(repeating: "s", count: 1025))),
            Case<JSONValue?>("newline", "ci\n{\"outcome\":\"allowed\"}"),
            Case<JSONValue?>("escape character", "ci\u{1B}[31m"),
            Case<JSONValue?>("DEL", "ci\u{7F}"),
        ]
    )
    func badSubject(_ sub: Case<JSONValue?>) {
        let error = Self.refusal(of: Fixtures.token(Fixtures.claims(["sub": sub.value])))
        #expect(error?.code == .tokenClaimsInvalid)
        #expect(error?.description == "subject token claims are invalid")
    }

    @Test("accepts a sub of exactly 1 KiB")
    func subjectBoundary() {
        #expect(Self.code(claims: Fixtures.claims(["sub": .string(String(repeating: "s", count: 1024))])) == nil)
    }

    @Test("refuses a jti that is not a string")
    func badTokenID() {
        #expect(Self.code(claims: Fixtures.claims(["jti": 7])) == .tokenClaimsInvalid)
    }

    @Test("selects the issuer by exact iss, code point by code point")
    func issuerNearMiss() {
        let config = TrustConfig(issuers: [Fixtures.issuer(), Fixtures.issuer(name: "cafe", issuer: "https://caf\u{E9}.test")], policies: [])
        #expect(config.issuer(forIss: "https://issuer.test")?.name == "cluster")
        #expect(config.issuer(forIss: "https://caf\u{E9}.test")?.name == "cafe")
        for nearMiss in [
            "https://issuer.test/", "HTTPS://issuer.test", "https://Issuer.test", "http://issuer.test", "https://issuer.test:443",
            "https://%69ssuer.test", "https://\u{456}ssuer.test", "https://issuer.test\u{200D}", "https://cafe\u{301}.test", "",
        ] {
            #expect(config.issuer(forIss: nearMiss) == nil, "\(nearMiss.debugDescription)")
        }
    }

    @Test("verify refuses a token whose iss is not the given issuer's, code point for code point")
    func issuerMismatch() throws {
        let token = try UnverifiedToken(parsing: Fixtures.token())
        let other = Fixtures.issuer(issuer: "https://other.test")
        let error = WIFCoreTests.refusal { () throws(ExchangeError) -> VerifiedToken in
            try token.verify(issuer: other, keys: Fixtures.keys, now: Self.now)
        }
        #expect(error?.code == .issuerNotTrusted)
        let nfd = try UnverifiedToken(parsing: Fixtures.token(Fixtures.claims(["iss": "https://cafe\u{301}.test"])))
        let nfc = Fixtures.issuer(issuer: "https://caf\u{E9}.test")
        #expect(WIFCoreTests.refusal { () throws(ExchangeError) in try nfd.checkHeader(for: nfc) }?.code == .issuerNotTrusted)
    }

    @Test("the header checks need no key: typ, then the algorithm allow-list")
    func headerChecks() throws {
        let typed = try UnverifiedToken(parsing: Fixtures.raw(header: #"{"alg":"ES256","kid":"ec-1","typ":"at+jwt"}"#, payload: Self.payload))
        #expect(WIFCoreTests.refusal { () throws(ExchangeError) in try typed.checkHeader(for: Fixtures.issuer()) }?.code == .tokenTypeNotAccepted)
        #expect(WIFCoreTests.refusal { () throws(ExchangeError) in try typed.checkHeader(for: Fixtures.issuer(), acceptedTypes: ["at+jwt"]) } == nil)
        let es256 = try UnverifiedToken(parsing: Fixtures.token())
        #expect(
            WIFCoreTests.refusal { () throws(ExchangeError) in try es256.checkHeader(for: Fixtures.issuer(algorithms: [.rs256])) }?.code
                == .algorithmNotAllowed
        )
        #expect(WIFCoreTests.refusal { () throws(ExchangeError) in try es256.checkHeader(for: Fixtures.issuer()) } == nil)
    }

    @Test("a caller may accept another typ explicitly; the default set stays closed")
    func acceptedTypesParameter() throws {
        let token = try UnverifiedToken(parsing: Fixtures.raw(header: #"{"alg":"ES256","kid":"ec-1","typ":"at+jwt"}"#, payload: Self.payload))
        #expect(throws: Never.self) { try token.verify(issuer: Fixtures.issuer(), keys: Fixtures.keys, now: Self.now, acceptedTypes: ["at+jwt"]) }
        #expect(!UnverifiedToken.subjectTokenTypes.contains("at+jwt"))
        let plain = try UnverifiedToken(parsing: Fixtures.token())
        let error = WIFCoreTests.refusal { () throws(ExchangeError) in
            try plain.verify(issuer: Fixtures.issuer(), keys: Fixtures.keys, now: Self.now, acceptedTypes: ["at+jwt"])
        }
        #expect(error?.code == .tokenTypeNotAccepted)
    }

    @Test("checks type, then algorithm, then key, then signature, then claims")
    func order() {
        // An expired token with a bad signature is a signature failure: claims are never read before it.
        let expired = Fixtures.token(Fixtures.claims(["exp": .number(Self.now - 3600)]), key: Fixtures.attacker)
        #expect(Self.refusal(of: expired)?.code == .signatureInvalid)
        // An unknown kid under a disallowed algorithm is an algorithm failure.
        let header = #"{"alg":"ES384","kid":"nope"}"#
        #expect(
            Self.refusal(of: Fixtures.raw(header: header, payload: Self.payload, key: Fixtures.p384), issuer: Fixtures.issuer(algorithms: [.es256]))?
                .code == .algorithmNotAllowed
        )
        // A wrong typ wins over everything after it.
        let typed = Fixtures.raw(header: #"{"alg":"ES256","kid":"nope","typ":"at+jwt"}"#, payload: Self.payload, key: Fixtures.attacker)
        #expect(Self.refusal(of: typed)?.code == .tokenTypeNotAccepted)
    }

    @Test("every refusal belongs to the token category and carries fixed ASCII text")
    func categoryAndText() {
        let refusals = [
            Fixtures.token(Fixtures.claims(["exp": .number(Self.now - 3600)])),
            Fixtures.token(key: Fixtures.attacker),
            Fixtures.raw(header: #"{"alg":"none"}"#, payload: Self.payload),
            "x.y",
        ].compactMap { Self.refusal(of: $0) }
        #expect(refusals.count == 4)
        for error in refusals {
            #expect(error.category == .token)
            #expect(isOAuthErrorText(error.description))
        }
    }
}

/// The DER `ECDSA-Sig-Value` encoding of a raw 64-byte r‖s signature (the wrong encoding for JOSE).
func derECDSA(_ raw: [UInt8]) -> [UInt8] {
    func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var value = Array(bytes.drop(while: { $0 == 0 }))
        if value.isEmpty { value = [0] }
        if value[0] & 0x80 != 0 { value.insert(0, at: 0) }
        return [0x02, UInt8(value.count)] + value
    }
    let body = integer(raw[0..<32]) + integer(raw[32..<64])
    return [0x30, UInt8(body.count)] + body
}
