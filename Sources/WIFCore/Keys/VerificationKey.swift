import Crypto
import CryptoExtras
import FoundationEssentials

/// One public key of a trusted issuer, imported once from its JWKS, with the algorithms it may verify
/// bound at import (a JWK's `alg` pins exactly one; otherwise the key type decides).
public struct VerificationKey: Sendable {
    enum Material: Sendable {
        case rsa(_RSA.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
    }

    /// The JWK's `kid`, if it had one.
    public let keyID: String?
    /// The algorithm the JWK pinned with `alg`, if any.
    public let pinnedAlgorithm: JWSAlgorithm?
    public let family: KeyFamily
    let material: Material

    init(keyID: String?, pinnedAlgorithm: JWSAlgorithm?, material: Material) {
        self.keyID = keyID
        self.pinnedAlgorithm = pinnedAlgorithm
        self.material = material
        switch material {
        case .rsa: family = .rsa
        case .p256: family = .p256
        case .p384: family = .p384
        case .ed25519: family = .ed25519
        }
    }

    /// Whether a token header's `alg` may be verified with this key.
    public func accepts(_ algorithm: JWSAlgorithm) -> Bool {
        if let pinnedAlgorithm { return pinnedAlgorithm == algorithm }
        return algorithm.keyFamily == family
    }

    /// Verifies `signature` over `signingInput` with `algorithm`, which the caller has checked with
    /// ``accepts(_:)``. Signatures of the wrong length are refused before any crypto.
    public func isValidSignature(_ signature: [UInt8], over signingInput: [UInt8], algorithm: JWSAlgorithm) -> Bool {
        guard accepts(algorithm) else { return false }
        switch (material, algorithm) {
        case (.rsa(let key), _):
            guard signature.count == key.keySizeInBits / 8 else { return false }
            let rsaSignature = _RSA.Signing.RSASignature(rawRepresentation: signature)
            switch algorithm {
            case .rs256: return key.isValidSignature(rsaSignature, for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5)
            case .rs384: return key.isValidSignature(rsaSignature, for: SHA384.hash(data: signingInput), padding: .insecurePKCS1v1_5)
            case .rs512: return key.isValidSignature(rsaSignature, for: SHA512.hash(data: signingInput), padding: .insecurePKCS1v1_5)
            case .ps256: return key.isValidSignature(rsaSignature, for: SHA256.hash(data: signingInput), padding: .PSS)
            case .ps384: return key.isValidSignature(rsaSignature, for: SHA384.hash(data: signingInput), padding: .PSS)
            case .ps512: return key.isValidSignature(rsaSignature, for: SHA512.hash(data: signingInput), padding: .PSS)
            default: return false
            }
        case (.p256(let key), .es256):
            guard signature.count == 64, let sig = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: SHA256.hash(data: signingInput))
        case (.p384(let key), .es384):
            guard signature.count == 96, let sig = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: SHA384.hash(data: signingInput))
        case (.ed25519(let key), .edDSA):
            guard signature.count == 64 else { return false }
            return key.isValidSignature(signature, for: signingInput)
        default:
            return false
        }
    }
}
