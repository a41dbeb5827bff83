/// The JWS algorithms wif verifies (RFC 7518 §3, RFC 8037). `none` and the HMAC family are not
/// representable: a token naming them can never select a key.
public enum JWSAlgorithm: String, Sendable, Hashable, CaseIterable, Comparable {
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case ps384 = "PS384"
    case ps512 = "PS512"
    case es256 = "ES256"
    case es384 = "ES384"
    case edDSA = "EdDSA"

    public static func < (lhs: JWSAlgorithm, rhs: JWSAlgorithm) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The key type an algorithm needs.
    public var keyFamily: KeyFamily {
        switch self {
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: .rsa
        case .es256: .p256
        case .es384: .p384
        case .edDSA: .ed25519
        }
    }
}

/// A kind of public key, as a JWK's `kty` and `crv` name it.
public enum KeyFamily: String, Sendable, Hashable {
    case rsa = "RSA"
    case p256 = "EC P-256"
    case p384 = "EC P-384"
    case ed25519 = "OKP Ed25519"
}
