import Testing
import WIFCore
import WIFTesting

@Suite("JWKSet: import per key, algorithm bound at import")
struct JWKSetTests {
    static func document(_ keys: [JSONValue]) -> [UInt8] {
        JSONValue.object(["keys": .array(keys)]).serialized()
    }

    /// The trusted P-256 key's JWK with `changes` applied (`nil` removes a member).
    static func ecJWK(_ changes: [String: JSONValue?] = [:]) -> JSONValue {
        var members = Fixtures.p256.publicJWK.objectValue!
        for (name, value) in changes { members[name] = value }
        return .object(members)
    }

    static func rsaJWK(_ changes: [String: JSONValue?] = [:]) -> JSONValue {
        var members = Fixtures.rsa.publicJWK.objectValue!
        for (name, value) in changes { members[name] = value }
        return .object(members)
    }

    /// Imports one JWK beside a good one and returns why it was skipped (nil when it was kept).
    static func skipReason(_ jwk: JSONValue) throws -> String? {
        let set = try JWKSet.parse(Self.document([jwk, Fixtures.ed25519.publicJWK]))
        #expect(set.keys.contains { $0.keyID == "ed-1" }, "a bad key must never fail the others")
        if set.keys.count == 2 { return nil }
        #expect(set.skipped.count == 1)
        return set.skipped.first?.reason
    }

    @Test("imports RSA, EC P-256, EC P-384 and Ed25519 keys with their families and pinned algorithms")
    func importsEveryType() throws {
        let set = try JWKSet.parse(Self.document(Fixtures.trustedKeys.map(\.publicJWK)))
        #expect(set.skipped.isEmpty)
        #expect(set.keys.count == 6)
        let byID = Dictionary(uniqueKeysWithValues: set.keys.map { ($0.keyID!, $0) })
        #expect(byID["rsa-1"]?.family == .rsa)
        #expect(byID["rsa-1"]?.pinnedAlgorithm == .rs256)
        #expect(byID["rsa-pss"]?.pinnedAlgorithm == .ps256)
        #expect(byID["rsa-any"]?.pinnedAlgorithm == nil)
        #expect(byID["ec-1"]?.family == .p256)
        #expect(byID["ec384-1"]?.family == .p384)
        #expect(byID["ed-1"]?.family == .ed25519)
    }

    @Test("a pinned alg accepts only itself; an unpinned key accepts its family")
    func accepts() throws {
        let set = Fixtures.keys
        let pinned = try #require(set.key(for: "rsa-1"))
        #expect(pinned.accepts(.rs256))
        #expect(!pinned.accepts(.rs384))
        #expect(!pinned.accepts(.ps256))
        let unpinned = try #require(set.key(for: "rsa-any"))
        #expect(JWSAlgorithm.allCases.filter(unpinned.accepts) == [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512])
        #expect(JWSAlgorithm.allCases.filter(try #require(set.key(for: "ec-1")).accepts) == [.es256])
        #expect(JWSAlgorithm.allCases.filter(try #require(set.key(for: "ec384-1")).accepts) == [.es384])
        #expect(JWSAlgorithm.allCases.filter(try #require(set.key(for: "ed-1")).accepts) == [.edDSA])
    }

    @Test("a key never verifies with an algorithm it does not accept")
    func verifyChecksAlgorithm() throws {
        let input = Array("header.payload".utf8)
        let signature = try Fixtures.rsa.sign(input, as: .rs384)
        let pinned = try #require(Fixtures.keys.key(for: "rsa-1"))
        let unpinned = try #require(Fixtures.keys.key(for: "rsa-any"))
        #expect(!pinned.isValidSignature(signature, over: input, algorithm: .rs384))
        #expect(unpinned.isValidSignature(signature, over: input, algorithm: .rs384))
        #expect(!unpinned.isValidSignature(signature, over: input, algorithm: .rs256))
        #expect(!unpinned.isValidSignature(signature, over: input, algorithm: .ps384))
    }

    @Test("selects by exact kid and never falls back to another key")
    func selection() {
        let set = Fixtures.keys
        #expect(set.key(for: "ec-1")?.family == .p256)
        #expect(set.key(for: "EC-1") == nil)
        #expect(set.key(for: "ec-") == nil)
        #expect(set.key(for: "missing") == nil)
        #expect(set.key(for: nil) == nil)
    }

    @Test("a token without kid gets the set's only key")
    func onlyKey() {
        #expect(Fixtures.jwks([Fixtures.p256]).key(for: nil)?.keyID == "ec-1")
        #expect(Fixtures.jwks([Fixtures.p256.with(keyID: nil)]).key(for: nil)?.family == .p256)
        #expect(Fixtures.jwks([]).key(for: nil) == nil)
    }

    @Test(
        "skips unusable keys with a reason and keeps the rest (security-cases.md cases 47–48)",
        arguments: [
            Case("symmetric key", ["kty": "oct", "k": "c2VjcmV0", "kid": "hmac"] as JSONValue),
            Case("missing kty", ecJWK(["kty": nil])),
            Case("unknown kty", ecJWK(["kty": "XYZ"])),
            Case("use enc", ecJWK(["use": "enc"])),
            Case("key_ops without verify", ecJWK(["key_ops": ["encrypt"]])),
            Case("key_ops not a list", ecJWK(["key_ops": "verify"])),
            Case("private key material", ecJWK(["d": "AAAA"])),
            Case("HMAC alg", ecJWK(["alg": "HS256"])),
            Case("alg none", ecJWK(["alg": "none"])),
            Case("alg of another key type", ecJWK(["alg": "RS256"])),
            Case("alg ES384 on a P-256 key", ecJWK(["alg": "ES384"])),
            Case("alg not a string", ecJWK(["alg": 1])),
            Case("empty kid", ecJWK(["kid": ""])),
            Case("kid longer than 256 bytes", ecJWK(["kid": .string(String(repeating: "k", count: 257))])),
            Case("kid not a string", ecJWK(["kid": 7])),
            Case("unsupported curve", ecJWK(["crv": "P-521"])),
            Case("secp256k1", ecJWK(["crv": "secp256k1"])),
            Case("P-256 point off the curve", ecJWK(["y": .string(Base64URL.encode([UInt8](repeating: 1, count: 32)))])),
            Case("P-256 coordinate too short", ecJWK(["x": .string(Base64URL.encode([UInt8](repeating: 1, count: 31)))])),
            Case("P-256 coordinate missing", ecJWK(["y": nil])),
            Case("coordinate in standard base64", ecJWK(["x": "ab+/ab+/ab+/ab+/ab+/ab+/ab+/ab+/ab+/ab+/ab+"])),
            Case("P-256 coordinates under crv P-384", ecJWK(["crv": "P-384"])),
            Case("OKP X25519", ["kty": "OKP", "crv": "X25519", "x": .string(Base64URL.encode([UInt8](repeating: 9, count: 32)))] as JSONValue),
            Case(
                "Ed25519 key of 31 bytes",
                ["kty": "OKP", "crv": "Ed25519", "x": .string(Base64URL.encode([UInt8](repeating: 9, count: 31)))] as JSONValue
            ),
            Case("RSA e = 1", rsaJWK(["e": "AQ"])),
            Case("RSA e = 3", rsaJWK(["e": "Aw"])),
            Case("RSA even e", rsaJWK(["e": "AQAA"])),
            Case("RSA e of 5 bytes", rsaJWK(["e": .string(Base64URL.encode([1, 0, 0, 0, 1]))])),
            Case("RSA modulus of 1024 bits", rsaJWK(["n": .string(Base64URL.encode([0xC1] + [UInt8](repeating: 0x5B, count: 126) + [0x01]))])),
            Case("RSA modulus missing", rsaJWK(["n": nil])),
            Case("RSA modulus empty", rsaJWK(["n": ""])),
            Case("not an object", "RS256" as JSONValue),
        ]
    )
    func skipped(_ jwk: Case<JSONValue>) throws {
        let reason = try Self.skipReason(jwk.value)
        #expect(reason != nil)
        #expect(reason?.isEmpty == false)
    }

    @Test("keys for signing with use sig and key_ops including verify are kept")
    func keptWithUseAndOps() throws {
        #expect(try Self.skipReason(Self.ecJWK(["use": "sig", "key_ops": ["sign", "verify"]])) == nil)
        #expect(try Self.skipReason(Self.ecJWK(["use": nil, "alg": nil])) == nil)
        #expect(try Self.skipReason(Self.rsaJWK(["e": "AQAB"])) == nil)
    }

    @Test("two keys sharing a kid are both dropped, other keys stay")
    func duplicateKid() throws {
        let set = try JWKSet.parse(Self.document([Fixtures.p256.publicJWK, Fixtures.attacker.publicJWK, Fixtures.ed25519.publicJWK]))
        #expect(set.key(for: "ec-1") == nil)
        #expect(set.key(for: "ed-1") != nil)
        #expect(set.skipped.filter { $0.keyID == "ec-1" }.count == 2)
        #expect(set.skipped.allSatisfy { $0.reason == "two keys share this kid" })
    }

    @Test("a skipped key describes itself without key material")
    func skippedDescription() throws {
        let set = try JWKSet.parse(Self.document([Self.ecJWK(["use": "enc"])]))
        #expect(set.skipped.first?.description == #"key kid="ec-1": use is "enc", not "sig""#)
        let unnamed = try JWKSet.parse(Self.document([Self.ecJWK(["use": "enc", "kid": nil])]))
        #expect(unnamed.skipped.first?.description.hasPrefix("key without kid: ") == true)
    }

    @Test(
        "refuses a document that is not a JWKS",
        arguments: [
            Case("not JSON", Array("<html>".utf8)),
            Case("empty", []),
            Case("no keys member", Array(#"{"jwks":[]}"#.utf8)),
            Case("keys not an array", Array(#"{"keys":{}}"#.utf8)),
            Case("a bare array", Array("[]".utf8)),
            Case("duplicate keys member", Array(#"{"keys":[],"keys":[]}"#.utf8)),
            Case("trailing garbage", Array(#"{"keys":[]}x"#.utf8)),
            Case(
                "nested too deeply",
                Array((#"{"keys":[],"x":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}").utf8)
            ),
        ]
    )
    func notAJWKS(_ document: Case<[UInt8]>) {
        #expect(throws: JWKSetError.self) { try JWKSet.parse(document.value) }
    }

    @Test("an empty key list is a valid, empty set")
    func emptySet() throws {
        let set = try JWKSet.parse(Array(#"{"keys":[]}"#.utf8))
        #expect(set.keys.isEmpty)
        #expect(set.skipped.isEmpty)
    }

    @Test("a JWKS of wif's own published keys imports")
    func ownKeys() throws {
        let signing = SigningKey.generate()
        let set = try JWKSet.parse(publishedJWKS([signing]).serialized())
        let key = try #require(set.key(for: signing.keyID))
        #expect(key.pinnedAlgorithm == .es256)
        #expect(key.family == .p256)
    }
}
