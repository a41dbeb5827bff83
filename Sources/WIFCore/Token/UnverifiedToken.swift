/// A compact JWS split and decoded, not yet trusted.
///
/// Parsing enforces the envelope rules in security-cases.md §2.B: a size cap before anything else, exactly
/// three segments, strict base64url, header and payload as strict JSON objects, and refusal of every header
/// parameter that would change how the token must be processed (`crit`, `b64`, `zip`, `enc`) or that names
/// a key outside the issuer's configured set (`jwk`, `jku`, `x5u`, `x5c`).
public struct UnverifiedToken: Sendable {
    /// The header's `alg`, known to be one wif supports.
    public let algorithm: JWSAlgorithm
    public let keyID: String?
    public let type: String?
    /// The payload's members.
    public let claims: JSONValue
    /// The `iss` claim, used only to select the issuer's configuration.
    public let issuer: String
    let signingInput: Substring.UTF8View
    let signature: [UInt8]

    private static let refusedHeaderParameters = ["crit", "b64", "zip", "enc", "jwk", "jku", "x5u", "x5c"]

    public init(parsing token: String) throws(ExchangeError) {
        guard token.utf8.count <= TokenLimits.maxTokenLength else {
            throw ExchangeError(.tokenTooLarge, "subject token is too large", detail: "\(token.utf8.count) bytes")
        }
        let utf8 = token.utf8
        var dots: [String.UTF8View.Index] = []
        for index in utf8.indices where utf8[index] == UInt8(ascii: ".") {
            dots.append(index)
            guard dots.count <= 2 else { throw .malformedToken("more than three segments") }
        }
        guard dots.count == 2 else { throw .malformedToken("fewer than three segments") }
        let headerPart = token[..<dots[0]].utf8
        let payloadPart = token[token.utf8.index(after: dots[0])..<dots[1]].utf8
        let signaturePart = token[token.utf8.index(after: dots[1])...].utf8
        guard !headerPart.isEmpty, !payloadPart.isEmpty, !signaturePart.isEmpty else { throw .malformedToken("empty segment") }
        guard let headerBytes = Base64URL.decode(headerPart), let payloadBytes = Base64URL.decode(payloadPart),
            let signature = Base64URL.decode(signaturePart)
        else { throw .malformedToken("segment is not strict base64url") }

        let headerJSON: JSONValue
        do {
            headerJSON = try JSONValue.parse(headerBytes)
        } catch {
            throw .badHeader("header JSON: \(error)")
        }
        guard let header = headerJSON.objectValue else { throw .badHeader("header is not a JSON object") }
        for name in Self.refusedHeaderParameters where header[name] != nil {
            throw ExchangeError(.tokenHeaderUnsupported, "subject token header uses an unsupported parameter", detail: "header has \(name)")
        }
        guard let algName = header["alg"]?.stringValue else { throw .badHeader("alg missing or not a string") }
        guard let algorithm = JWSAlgorithm(rawValue: algName) else {
            throw ExchangeError(.algorithmNotAllowed, "subject token algorithm is not allowed", detail: "alg \(algName.debugDescription)")
        }
        var keyID: String?
        if let kid = header["kid"] {
            guard let s = kid.stringValue, !s.isEmpty, s.utf8.count <= TokenLimits.maxKeyIDLength else {
                throw .badHeader("kid is not a short non-empty string")
            }
            keyID = s
        }
        var type: String?
        if let typ = header["typ"] {
            guard let s = typ.stringValue else { throw .badHeader("typ is not a string") }
            type = s
        }

        let claims: JSONValue
        do {
            claims = try JSONValue.parse(payloadBytes)
        } catch {
            throw .badClaims("payload JSON: \(error)")
        }
        guard claims.objectValue != nil else { throw .badClaims("payload is not a JSON object") }
        guard let iss = claims["iss"] else {
            throw ExchangeError(.issuerNotTrusted, "subject token issuer is not trusted", detail: "iss missing")
        }
        guard let issuer = iss.stringValue else { throw .badClaims("iss is not a string") }

        self.algorithm = algorithm
        self.keyID = keyID
        self.type = type
        self.claims = claims
        self.issuer = issuer
        self.signingInput = token[..<dots[1]].utf8
        self.signature = signature
    }
}
