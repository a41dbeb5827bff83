public import Crypto
import FoundationEssentials

/// One of wif's own ES256 signing keys, identified by its RFC 7638 JWK thumbprint.
public struct SigningKey: Sendable {
    public let privateKey: P256.Signing.PrivateKey
    /// The `kid`: the base64url SHA-256 JWK thumbprint of the public key (RFC 7638).
    public let keyID: String

    public init(privateKey: P256.Signing.PrivateKey) {
        self.privateKey = privateKey
        let (x, y) = Self.coordinates(privateKey.publicKey)
        let thumbprintInput = #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
        self.keyID = Base64URL.encode(Array(SHA256.hash(data: Array(thumbprintInput.utf8))))
    }

    /// A new random key.
    public static func generate() -> SigningKey {
        SigningKey(privateKey: P256.Signing.PrivateKey())
    }

    /// Loads a PEM (PKCS#8 or SEC1) P-256 private key.
    public init(pem: String) throws {
        self.init(privateKey: try P256.Signing.PrivateKey(pemRepresentation: pem))
    }

    /// The PKCS#8 PEM text for storage.
    public var pemRepresentation: String { privateKey.pemRepresentation }

    /// The public half as a key that verifies this key's ES256 signatures.
    public var verificationKey: VerificationKey {
        VerificationKey(keyID: keyID, pinnedAlgorithm: .es256, material: .p256(privateKey.publicKey))
    }

    /// The public JWK published in wif's JWKS.
    public var publicJWK: JSONValue {
        let (x, y) = Self.coordinates(privateKey.publicKey)
        return ["kty": "EC", "crv": "P-256", "x": .string(x), "y": .string(y), "kid": .string(keyID), "alg": "ES256", "use": "sig"]
    }

    /// Signs `header.payload` and returns the compact JWS.
    public func sign(header: JSONValue, claims: JSONValue) throws -> String {
        try sign(encodedHeader: Base64URL.encode(header.serialized()), claims: claims)
    }

    /// Signs with a header already serialized and base64url-encoded (a minter's is the same for every token).
    public func sign(encodedHeader: String, claims: JSONValue) throws -> String {
        let signingInput = encodedHeader + "." + Base64URL.encode(claims.serialized())
        let signature = try privateKey.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }

    private static func coordinates(_ key: P256.Signing.PublicKey) -> (String, String) {
        let raw = Array(key.rawRepresentation)
        return (Base64URL.encode(raw[0..<32]), Base64URL.encode(raw[32..<64]))
    }
}

/// The public half of wif's signing keys as a JWKS document.
public func publishedJWKS(_ keys: [SigningKey]) -> JSONValue {
    .object(["keys": .array(keys.map(\.publicJWK))])
}
