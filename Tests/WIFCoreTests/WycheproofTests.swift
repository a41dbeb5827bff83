import Foundation
import Testing
import WIFCore

/// Project Wycheproof vectors (Tests/Wycheproof, see its README) through wif's own verification path: the
/// key is imported by ``JWKSet/parse(_:)`` from the vector's JWK, selected by ``JWKSet/key(for:)``, its
/// algorithm binding checked by ``VerificationKey/accepts(_:)`` and the signature checked by
/// ``VerificationKey/isValidSignature(_:over:algorithm:)`` — the calls ``UnverifiedToken/verify(issuer:keys:now:acceptedTypes:)``
/// makes. Every `invalid` vector must be refused, every `valid` one accepted, and every `acceptable` one
/// decided in ``Wycheproof/acceptable``.
@Suite("Wycheproof signature vectors through wif's verification path")
struct WycheproofTests {
    /// A primitive vector file and the JWS algorithm it exercises.
    struct PrimitiveFile: Sendable, CustomTestStringConvertible {
        let name: String
        let algorithm: JWSAlgorithm
        var testDescription: String { "\(name) as \(algorithm.rawValue)" }
    }

    static let primitiveFiles: [PrimitiveFile] = [
        .init(name: "rsa_signature_2048_sha256_test.json", algorithm: .rs256),
        .init(name: "rsa_signature_3072_sha256_test.json", algorithm: .rs256),
        .init(name: "rsa_signature_4096_sha256_test.json", algorithm: .rs256),
        .init(name: "rsa_signature_2048_sha384_test.json", algorithm: .rs384),
        .init(name: "rsa_signature_3072_sha384_test.json", algorithm: .rs384),
        .init(name: "rsa_signature_2048_sha512_test.json", algorithm: .rs512),
        .init(name: "rsa_signature_4096_sha512_test.json", algorithm: .rs512),
        .init(name: "rsa_pss_2048_sha256_mgf1_32_test.json", algorithm: .ps256),
        .init(name: "rsa_pss_3072_sha256_mgf1_32_test.json", algorithm: .ps256),
        .init(name: "rsa_pss_4096_sha256_mgf1_32_test.json", algorithm: .ps256),
        .init(name: "rsa_pss_2048_sha384_mgf1_48_test.json", algorithm: .ps384),
        .init(name: "rsa_pss_4096_sha384_mgf1_48_test.json", algorithm: .ps384),
        .init(name: "rsa_pss_4096_sha512_mgf1_64_test.json", algorithm: .ps512),
        .init(name: "ecdsa_secp256r1_sha256_p1363_test.json", algorithm: .es256),
        .init(name: "ecdsa_secp384r1_sha384_p1363_test.json", algorithm: .es384),
        .init(name: "ed25519_test.json", algorithm: .edDSA),
    ]

    @Test("every algorithm wif accepts has vendored vectors")
    func coverage() {
        #expect(Set(Self.primitiveFiles.map(\.algorithm)) == Set(JWSAlgorithm.allCases))
    }

    @Test("signature vectors: invalid refused, valid accepted, acceptable as decided", arguments: primitiveFiles)
    func primitive(_ file: PrimitiveFile) throws {
        let document = try Wycheproof.load(file.name)
        var counts: [String: Int] = [:]
        for group in document["testGroups"]?.arrayValue ?? [] {
            let jwk = try #require(group["publicKeyJwk"] ?? group["keyJwk"] ?? Wycheproof.ecJWK(group["publicKey"]), "group has a key")
            let keys = try JWKSet.parse(Wycheproof.publicJWKS(jwk))
            let key = keys.key(for: jwk["kid"]?.stringValue)
            let exponent = group["publicKey"]?["publicExponent"]?.stringValue
            for test in group["tests"]?.arrayValue ?? [] {
                let id = test["tcId"]?.numberValue.map { Int($0) } ?? -1
                let result = test["result"]?.stringValue ?? ""
                let message = Wycheproof.hex(test["msg"]?.stringValue ?? "")
                let signature = Wycheproof.hex(test["sig"]?.stringValue ?? "")
                let accepted =
                    key.map { $0.accepts(file.algorithm) && $0.isValidSignature(signature, over: message, algorithm: file.algorithm) } ?? false
                let flags = test["flags"]?.arrayValue?.compactMap(\.stringValue) ?? []
                let expected: Bool
                switch result {
                case "valid" where key == nil && exponent != nil && exponent != "010001":
                    // wif refuses RSA keys with a public exponent below 65537 at import (README: decisions).
                    expected = false
                    counts["valid, key refused (e=\(exponent!))", default: 0] += 1
                case "valid": expected = true
                case "invalid": expected = false
                default:
                    let decision = try #require(Wycheproof.acceptable(flags) as Bool?, "tcId \(id): decide acceptable flags \(flags)")
                    expected = decision
                    counts["acceptable \(flags.joined(separator: ","))", default: 0] += 1
                }
                counts[result, default: 0] += 1
                #expect(accepted == expected, "\(file.name) tcId \(id) (\(result), \(flags)): \(test["comment"]?.stringValue ?? "")")
            }
        }
        #expect((counts["valid"] ?? 0) > 0 && (counts["invalid"] ?? 0) > 0, "\(counts)")
    }

    @Test("json_web_signature_test.json through wif's JWS checks and JWK import")
    func jsonWebSignature() throws {
        try Wycheproof.runJOSE("json_web_signature_test.json")
    }

    @Test("json_web_key_test.json through wif's JWK import and key selection")
    func jsonWebKey() throws {
        try Wycheproof.runJOSE("json_web_key_test.json")
    }
}

/// Loading and deciding Wycheproof vectors.
enum Wycheproof {
    /// Tests/Wycheproof/testvectors_v1, found from this source file (no package resources).
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Wycheproof/testvectors_v1")

    static func load(_ name: String) throws -> JSONValue {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        return try JSONValue.parse(Array(data))
    }

    /// How wif decides each `acceptable` flag (listed in Tests/Wycheproof/README.md); nil: undecided, which
    /// fails the test.
    static func acceptable(_ flags: [String]) -> Bool? {
        // PKCS#1 v1.5 DigestInfo without the NULL parameter: refused. No JOSE signer omits it and
        // accepting it widens what counts as a valid RS* signature for no benefit.
        if flags == ["MissingNull"] { return false }
        return nil
    }

    /// A JWKS holding only the public members of `jwk` (vectors ship RSA keys with their private parts,
    /// which wif refuses in a JWKS on purpose).
    static func publicJWKS(_ jwk: JSONValue) -> [UInt8] {
        let privateMembers: Set<String> = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
        let members = (jwk.objectValue ?? [:]).filter { !privateMembers.contains($0.key) }
        return JSONValue.object(["keys": [.object(members)]]).serialized()
    }

    /// The JWK of an EC public key given only as an uncompressed point (a few edge-case groups).
    static func ecJWK(_ key: JSONValue?) -> JSONValue? {
        guard let key, let point = key["uncompressed"]?.stringValue.map(hex), point.first == 4 else { return nil }
        let size = (point.count - 1) / 2
        let curve = key["curve"]?.stringValue == "secp384r1" ? "P-384" : "P-256"
        return [
            "kty": "EC", "crv": .string(curve), "x": .string(Base64URL.encode(point[1...size])),
            "y": .string(Base64URL.encode(point[(size + 1)...])),
        ]
    }

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for byte in text.utf8 {
            let value: UInt8 =
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
                default: byte - UInt8(ascii: "A") + 10
                }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }

    /// `valid` JOSE vectors wif refuses on purpose, by group comment or test comment, with why (README).
    static let refusedValid: [String: String] = [
        "hs256": "HMAC: wif verifies only asymmetric signatures of an issuer's published keys",
        "base64": "HMAC (the base64 group is keyed with a symmetric key)",
        "jws_keyset": "HMAC key set",
        "HS256": "HMAC", "HS384": "HMAC", "HS512": "HMAC",
        "rfc7520/ES521": "ES512 (P-521) is not an algorithm wif accepts",
        "rfc7520/private-only": "HMAC (RFC 7520 figure 35 is HS256)",
        "emptyPayload": "a JWT's payload is a JSON object: wif refuses an empty payload segment",
        "Figure20": "the JWK pins alg PS256 while the header says PS384: wif binds each key to its JWK alg",
    ]

    /// Runs a JOSE vector file. A vector is accepted when it passes, in order: the compact-JWS envelope
    /// rules of ``UnverifiedToken`` (three non-empty segments of strict base64url, a strict-JSON header
    /// object without `crit`/`b64`/`zip`/`enc`/`jwk`/`jku`/`x5u`/`x5c`, an `alg` wif knows, a short string
    /// `kid`), key selection in the group's public JWKS as wif imports it, the key's algorithm binding, and
    /// the signature. The payload is not read as JWT claims: these payloads are arbitrary bytes.
    static func runJOSE(_ name: String) throws {
        let document = try load(name)
        var checked = 0
        for group in document["testGroups"]?.arrayValue ?? [] {
            let comment = group["comment"]?.stringValue ?? ""
            // Only public keys are ever configured in wif; a group with only a private (symmetric) key has
            // nothing wif could verify with.
            let keys: JWKSet? = try group["public"].map { (jwk) throws -> JWKSet in
                let document = jwk["keys"] != nil ? jwk.serialized() : JSONValue.object(["keys": [jwk]]).serialized()
                return try JWKSet.parse(document)
            }
            let algs = (group["public"]?["keys"]?.arrayValue ?? group["public"].map { [$0] } ?? []).compactMap { $0["alg"]?.stringValue }
            for test in group["tests"]?.arrayValue ?? [] {
                let id = test["tcId"]?.numberValue.map { Int($0) } ?? -1
                let result = test["result"]?.stringValue ?? ""
                let testComment = test["comment"]?.stringValue ?? ""
                let accepted = keys.map { accepts(test["jws"]?.stringValue ?? "", keys: $0) } ?? false
                var expected = result == "valid"
                if expected {
                    let reason =
                        refusedValid[comment] ?? refusedValid[testComment]
                        ?? (algs.contains("ES521") ? refusedValid["rfc7520/ES521"] : nil)
                        ?? (keys == nil ? refusedValid["rfc7520/private-only"] : nil)
                    if reason != nil { expected = false }
                }
                #expect(result != "acceptable", "\(name) tcId \(id): decide this acceptable vector")
                #expect(accepted == expected, "\(name) tcId \(id) [\(comment)] \(testComment): \(result)")
                checked += 1
            }
        }
        #expect(checked > 20)
    }

    static let refusedHeaderParameters = ["crit", "b64", "zip", "enc", "jwk", "jku", "x5u", "x5c"]

    static func accepts(_ jws: String, keys: JWKSet) -> Bool {
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false)
        guard jws.utf8.count <= TokenLimits.maxTokenLength, parts.count == 3, parts.allSatisfy({ !$0.isEmpty }),
            let headerBytes = Base64URL.decode(String(parts[0])), Base64URL.decode(String(parts[1])) != nil,
            let signature = Base64URL.decode(String(parts[2])),
            let header = (try? JSONValue.parse(headerBytes))?.objectValue
        else { return false }
        guard !refusedHeaderParameters.contains(where: { header[$0] != nil }),
            let algorithm = header["alg"]?.stringValue.flatMap(JWSAlgorithm.init(rawValue:))
        else { return false }
        var keyID: String?
        if let kid = header["kid"] {
            guard let text = kid.stringValue, !text.isEmpty, text.utf8.count <= TokenLimits.maxKeyIDLength else { return false }
            keyID = text
        }
        guard let key = keys.key(for: keyID), key.accepts(algorithm) else { return false }
        return key.isValidSignature(signature, over: Array((parts[0] + "." + parts[1]).utf8), algorithm: algorithm)
    }
}
