public import WIFCore

/// wif's local development issuer: a P-256 key kept in the state folder (`dev-issuer/key.pem`), created on
/// first use, that `wif dev-token` signs with and that a trust-config issuer with `keys: {development:
/// true}` trusts. `wif serve` refuses such a config unless it listens on loopback.
public struct DevelopmentIssuer: Sendable {
    public let key: SigningKey

    static let keyFile = "dev-issuer/key.pem"

    /// Loads the key from `state`, creating it on first use.
    public static func load(state: StateDirectory) throws -> DevelopmentIssuer {
        if let pem = try state.read(keyFile) {
            return DevelopmentIssuer(key: try SigningKey(pem: pem))
        }
        try state.ensureFolder("dev-issuer")
        let key = SigningKey.generate()
        do {
            try state.writeSecret(keyFile, key.pemRepresentation)
        } catch {
            // Another process created it first: use theirs.
            if let pem = try state.read(keyFile) { return DevelopmentIssuer(key: try SigningKey(pem: pem)) }
            throw error
        }
        return DevelopmentIssuer(key: key)
    }

    /// The key set a trust-config issuer with the development key source verifies against.
    public var keySet: JWKSet {
        JWKSet(keys: [key.verificationKey])
    }

    /// A signed development token with these claims (header `typ: JWT`).
    public func token(claims: JSONValue) throws -> String {
        try key.sign(header: ["alg": "ES256", "typ": "JWT", "kid": .string(key.keyID)], claims: claims)
    }
}
