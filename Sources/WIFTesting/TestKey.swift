public import Crypto
public import CryptoExtras
import FoundationEssentials
public import WIFCore

/// A private key a test issuer signs with, and its public JWK.
public struct TestKey: Sendable {
    public enum Material: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    public let keyID: String?
    public let algorithm: JWSAlgorithm
    public let material: Material
    /// Whether the published JWK names its `alg`.
    public let publishesAlgorithm: Bool

    public init(keyID: String?, algorithm: JWSAlgorithm, material: Material, publishesAlgorithm: Bool = true) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.material = material
        self.publishesAlgorithm = publishesAlgorithm
    }

    public static func rsa(keyID: String? = "rsa-1", algorithm: JWSAlgorithm = .rs256, bits: Int = 2048) throws -> TestKey {
        TestKey(keyID: keyID, algorithm: algorithm, material: .rsa(try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits))))
    }

    public static func p256(keyID: String? = "ec-1") -> TestKey {
        TestKey(keyID: keyID, algorithm: .es256, material: .p256(P256.Signing.PrivateKey()))
    }

    public static func p384(keyID: String? = "ec384-1") -> TestKey {
        TestKey(keyID: keyID, algorithm: .es384, material: .p384(P384.Signing.PrivateKey()))
    }

    public static func ed25519(keyID: String? = "ed-1") -> TestKey {
        TestKey(keyID: keyID, algorithm: .edDSA, material: .ed25519(Curve25519.Signing.PrivateKey()))
    }

    /// The same key published under another `kid` (or none), or with its `alg` left out.
    public func with(keyID: String?, publishesAlgorithm: Bool? = nil) -> TestKey {
        TestKey(keyID: keyID, algorithm: algorithm, material: material, publishesAlgorithm: publishesAlgorithm ?? self.publishesAlgorithm)
    }

    /// The public JWK.
    public var publicJWK: JSONValue {
        var jwk: [String: JSONValue] = ["use": "sig"]
        if let keyID { jwk["kid"] = .string(keyID) }
        if publishesAlgorithm { jwk["alg"] = .string(algorithm.rawValue) }
        switch material {
        case .rsa(let key):
            let primitives = try! key.publicKey.getKeyPrimitives()
            jwk["kty"] = "RSA"
            jwk["n"] = .string(Base64URL.encode(Array(primitives.modulus)))
            jwk["e"] = .string(Base64URL.encode(Array(primitives.publicExponent)))
        case .p256(let key):
            let raw = Array(key.publicKey.rawRepresentation)
            jwk.merge(["kty": "EC", "crv": "P-256", "x": .string(Base64URL.encode(raw[0..<32])), "y": .string(Base64URL.encode(raw[32...]))]) { $1 }
        case .p384(let key):
            let raw = Array(key.publicKey.rawRepresentation)
            jwk.merge(["kty": "EC", "crv": "P-384", "x": .string(Base64URL.encode(raw[0..<48])), "y": .string(Base64URL.encode(raw[48...]))]) { $1 }
        case .ed25519(let key):
            jwk.merge(["kty": "OKP", "crv": "Ed25519", "x": .string(Base64URL.encode(Array(key.publicKey.rawRepresentation)))]) { $1 }
        }
        return .object(jwk)
    }

    /// The JOSE signature of `input` with this key's algorithm (raw r||s for ECDSA).
    public func sign(_ input: [UInt8]) throws -> [UInt8] {
        try sign(input, as: algorithm)
    }

    /// The JOSE signature of `input` with any algorithm that fits the key type.
    public func sign(_ input: [UInt8], as algorithm: JWSAlgorithm) throws -> [UInt8] {
        switch (material, algorithm) {
        case (.rsa(let key), .rs256): return Array(try key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .rs384): return Array(try key.signature(for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .rs512): return Array(try key.signature(for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .ps256): return Array(try key.signature(for: SHA256.hash(data: input), padding: .PSS).rawRepresentation)
        case (.rsa(let key), .ps384): return Array(try key.signature(for: SHA384.hash(data: input), padding: .PSS).rawRepresentation)
        case (.rsa(let key), .ps512): return Array(try key.signature(for: SHA512.hash(data: input), padding: .PSS).rawRepresentation)
        case (.p256(let key), _): return Array(try key.signature(for: input).rawRepresentation)
        case (.p384(let key), _): return Array(try key.signature(for: input).rawRepresentation)
        case (.ed25519(let key), _): return Array(try key.signature(for: input))
        default: throw TestKeyError.algorithmDoesNotFit
        }
    }
}

enum TestKeyError: Error {
    case algorithmDoesNotFit
}
