import Crypto
import CryptoExtras

/// A throwaway key that `wif test` signs a case's subject token with, standing in for the issuer's real
/// key: its public half is served as that issuer's only key, so the token goes through the whole pipeline
/// (algorithm allow-list, key by `kid`, signature, time claims, audience) exactly as in the server.
struct EphemeralIssuerKey: Sendable {
    enum Material: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    let algorithm: JWSAlgorithm
    let material: Material
    var keyID: String { "wif-test-\(algorithm.rawValue)" }

    /// Algorithms in the order a key is chosen for an issuer: cheap keys first (RSA generation is slow).
    static let preference: [JWSAlgorithm] = [.es256, .edDSA, .es384, .rs256, .rs384, .rs512, .ps256, .ps384, .ps512]

    /// The algorithm to sign an issuer's test tokens with: the first of ``preference`` it allows.
    static func algorithm(for issuer: TrustedIssuer) -> JWSAlgorithm? {
        preference.first(where: issuer.algorithms.contains)
    }

    /// A new random key for `algorithm`.
    init(algorithm: JWSAlgorithm) throws {
        self.algorithm = algorithm
        switch algorithm.keyFamily {
        case .rsa: material = .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .p256: material = .p256(P256.Signing.PrivateKey())
        case .p384: material = .p384(P384.Signing.PrivateKey())
        case .ed25519: material = .ed25519(Curve25519.Signing.PrivateKey())
        }
    }

    /// The public key, pinned to ``algorithm``, as an issuer key set holds it.
    var verificationKey: VerificationKey {
        switch material {
        case .rsa(let key): VerificationKey(keyID: keyID, pinnedAlgorithm: algorithm, material: .rsa(key.publicKey))
        case .p256(let key): VerificationKey(keyID: keyID, pinnedAlgorithm: algorithm, material: .p256(key.publicKey))
        case .p384(let key): VerificationKey(keyID: keyID, pinnedAlgorithm: algorithm, material: .p384(key.publicKey))
        case .ed25519(let key): VerificationKey(keyID: keyID, pinnedAlgorithm: algorithm, material: .ed25519(key.publicKey))
        }
    }

    /// A compact JWS of `claims` with header `{"alg", "kid", "typ": "JWT"}`.
    func token(claims: JSONValue) throws -> String {
        let header: JSONValue = ["alg": .string(algorithm.rawValue), "kid": .string(keyID), "typ": "JWT"]
        let input = Base64URL.encode(header.serialized()) + "." + Base64URL.encode(claims.serialized())
        let bytes = Array(input.utf8)
        let signature: [UInt8]
        switch (material, algorithm) {
        case (.rsa(let key), .rs256):
            signature = Array(try key.signature(for: SHA256.hash(data: bytes), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .rs384):
            signature = Array(try key.signature(for: SHA384.hash(data: bytes), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .rs512):
            signature = Array(try key.signature(for: SHA512.hash(data: bytes), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .ps256): signature = Array(try key.signature(for: SHA256.hash(data: bytes), padding: .PSS).rawRepresentation)
        case (.rsa(let key), .ps384): signature = Array(try key.signature(for: SHA384.hash(data: bytes), padding: .PSS).rawRepresentation)
        case (.rsa(let key), _): signature = Array(try key.signature(for: SHA512.hash(data: bytes), padding: .PSS).rawRepresentation)
        case (.p256(let key), _): signature = Array(try key.signature(for: bytes).rawRepresentation)
        case (.p384(let key), _): signature = Array(try key.signature(for: bytes).rawRepresentation)
        case (.ed25519(let key), _): signature = Array(try key.signature(for: bytes))
        }
        return input + "." + Base64URL.encode(signature)
    }
}
