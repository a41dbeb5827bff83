public import WIFCore

/// Builds subject tokens for tests and the demo: well-formed ones from claims, and raw ones whose header
/// and payload bytes are written verbatim (duplicate members, bad UTF-8, odd numbers) and then signed.
public enum TokenFactory {
    /// A compact JWS with header `{"alg", "kid", "typ": "JWT"}` (or `header` as given) signed by `key`.
    public static func token(claims: JSONValue, key: TestKey, header: JSONValue? = nil) throws -> String {
        var defaultHeader: [String: JSONValue] = ["alg": .string(key.algorithm.rawValue), "typ": "JWT"]
        if let kid = key.keyID { defaultHeader["kid"] = .string(kid) }
        return try raw(header: (header ?? .object(defaultHeader)).serialized(), payload: claims.serialized(), key: key)
    }

    /// A compact JWS of exactly these header and payload bytes, signed by `key` with `algorithm` (default:
    /// the key's own), or with an empty signature when `key` is nil.
    public static func raw(header: [UInt8], payload: [UInt8], key: TestKey?, algorithm: JWSAlgorithm? = nil) throws -> String {
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        guard let key else { return signingInput + "." }
        return signingInput + "." + Base64URL.encode(try key.sign(Array(signingInput.utf8), as: algorithm ?? key.algorithm))
    }

    /// Claims shaped like a Kubernetes projected service-account token.
    public static func kubernetesClaims(
        issuer: String,
        audience: String,
        namespace: String = "demo",
        serviceAccount: String = "app",
        pod: String = "app-7d4b9c-x2x9q",
        now: Double,
        lifetime: Double = 3600
    ) -> JSONValue {
        let iat = now.rounded(.down)
        return [
            "iss": .string(issuer),
            "sub": .string("system:serviceaccount:\(namespace):\(serviceAccount)"),
            "aud": [.string(audience)],
            "iat": .number(iat),
            "nbf": .number(iat),
            "exp": .number(iat + lifetime),
            "jti": .string(AccessTokenMinter.newTokenID()),
            "kubernetes.io": [
                "namespace": .string(namespace),
                "serviceaccount": ["name": .string(serviceAccount), "uid": "5b1c2f8e-0c43-4d6e-9d0f-3f8a8a1e2b7c"],
                "pod": ["name": .string(pod), "uid": "0f6b0b9e-1c6f-4f0e-8a55-2c9f6f0d9d11"],
            ],
        ]
    }
}
