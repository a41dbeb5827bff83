import Crypto
import CryptoExtras
import NIOHTTP1
import Testing
import WIFCore
import WIFTesting

/// One request of the hostile-input suite (security-cases.md §2): what is sent, verbatim.
struct HostileRequest: Sendable {
    var method: HTTPMethod = .POST
    var path = "/token"
    var contentType: String? = "application/x-www-form-urlencoded"
    var headers: [(String, String)] = []
    var body: String
    /// Text that must appear neither in the response nor in the audit log (tokens, their signatures).
    var secrets: [String] = []

    /// A token exchange of `token` with extra form fields.
    static func exchange(_ token: String, _ extra: [(String, String)] = []) -> HostileRequest {
        let fields = [("grant_type", GrantType.tokenExchange.rawValue), ("subject_token_type", TokenTypeURI.jwt), ("subject_token", token)] + extra
        return HostileRequest(body: FormEncoding.body(fields), secrets: secrets(of: token))
    }

    /// A form body with exactly these fields, percent-encoded.
    static func form(_ fields: [(String, String)]) -> HostileRequest {
        HostileRequest(body: FormEncoding.body(fields), secrets: fields.flatMap { secrets(of: $0.1) })
    }

    /// The parts of a token-shaped value that would betray it if echoed: the value and its signature.
    static func secrets(of token: String) -> [String] {
        guard token.utf8.count >= 40, token.contains(".") else { return [] }
        let signature = token.split(separator: ".", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        return signature.utf8.count >= 40 ? [token, signature] : [token]
    }
}

/// What a hostile case may cause at the trusted issuer: nothing (refused before any key lookup), or the
/// one initial discovery + JWKS fetch every first token of an issuer causes.
enum HostileFetch: Sendable {
    case none
    case initialOnly
}

/// A case: its number and name in security-cases.md, the request, and the exact refusal.
struct HostileCase: Sendable, CustomTestStringConvertible {
    let name: String
    let status: Int
    let error: String
    let reason: String
    let fetch: HostileFetch
    /// Whether the case needs the untrusted attacker issuer (its hits must stay zero).
    let usesAttacker: Bool
    let build: @Sendable (HostileContext) async throws -> HostileRequest

    var testDescription: String { name }

    /// A token-exchange request; by default refused as a subject-token problem (400 `invalid_request`).
    static func token(
        _ name: String,
        _ reason: String,
        fetch: HostileFetch = .none,
        status: Int = 400,
        error: String = "invalid_request",
        extra: [(String, String)] = [],
        attacker: Bool = false,
        _ token: @escaping @Sendable (HostileContext) async throws -> String
    ) -> HostileCase {
        HostileCase(name: name, status: status, error: error, reason: reason, fetch: fetch, usesAttacker: attacker) { context in
            .exchange(try await token(context), extra)
        }
    }

    /// Any request.
    static func request(
        _ name: String,
        _ reason: String,
        status: Int = 400,
        error: String = "invalid_request",
        fetch: HostileFetch = .none,
        _ build: @escaping @Sendable (HostileContext) async throws -> HostileRequest
    ) -> HostileCase {
        HostileCase(name: name, status: status, error: error, reason: reason, fetch: fetch, usesAttacker: false, build: build)
    }
}

/// What a case builds its request from: the running harness, and an untrusted issuer for the cases that
/// need one.
struct HostileContext: Sendable {
    let harness: ExchangeHarness
    let attacker: TestIssuer?

    var rsa: TestKey { SharedKeys.issuerRSA }
    var ec: TestKey { SharedKeys.issuerEC }

    /// The default header of a cluster RSA token, with `extra` JSON members (verbatim text) appended.
    static func header(alg: String = "RS256", kid: String = "cluster-rsa-1", _ extra: String = "") -> [UInt8] {
        Array((#"{"alg":"\#(alg)","kid":"\#(kid)","typ":"JWT""# + (extra.isEmpty ? "" : "," + extra) + "}").utf8)
    }

    /// The claims of a valid `payments/api` token as JSON bytes, with `changes`.
    func payload(_ changes: [String: JSONValue?] = [:]) -> [UInt8] {
        harness.claims(changes).serialized()
    }

    /// The valid payload with `member` (verbatim JSON text, e.g. `"sub":"admin"`) inserted first, so that
    /// the object has it twice when it names an existing claim.
    func payload(prefixing member: String) -> [UInt8] {
        Array("{\(member),".utf8) + payload().dropFirst()
    }

    /// The valid payload with claim `name` set to `value`, verbatim JSON text (e.g. `"1800003600"`, `1e400`).
    func payload(replacing name: String, with value: String) -> [UInt8] {
        var claims = harness.claims().objectValue!
        claims[name] = nil
        return Array("{\"\(name)\":\(value),".utf8) + JSONValue.object(claims).serialized().dropFirst()
    }

    /// A compact JWS of exactly these bytes, signed by `key` (default the cluster RSA key) with `algorithm`.
    func raw(
        header: [UInt8] = header(),
        payload: [UInt8]? = nil,
        key: TestKey? = SharedKeys.issuerRSA,
        algorithm: JWSAlgorithm? = nil
    ) throws
        -> String
    {
        try TokenFactory.raw(header: header, payload: payload ?? self.payload(), key: key, algorithm: algorithm)
    }

    /// A token with valid claims changed by `changes`, signed by the cluster RSA key.
    func claims(_ changes: [String: JSONValue?]) throws -> String {
        try harness.validToken(changes)
    }

    /// A valid token whose signature segment is replaced by `signature`.
    func resigned(_ token: String, _ signature: [UInt8]) -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        return parts[0] + "." + parts[1] + "." + Base64URL.encode(signature)
    }

    /// The signature bytes of a compact token.
    func signature(of token: String) -> [UInt8] {
        Base64URL.decode(String(token.split(separator: ".", omittingEmptySubsequences: false)[2])) ?? []
    }
}

/// Big-endian arithmetic on fixed-width unsigned integers, for building ECDSA signatures by hand.
enum BigEndian {
    /// `a - b` (a ≥ b), both of the same width.
    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: a.count)
        var borrow = 0
        for index in stride(from: a.count - 1, through: 0, by: -1) {
            var difference = Int(a[index]) - Int(b[index]) - borrow
            borrow = difference < 0 ? 1 : 0
            if difference < 0 { difference += 256 }
            result[index] = UInt8(difference)
        }
        return result
    }

    /// The order of P-256's base point.
    static let p256Order: [UInt8] = hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551")

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}

/// HMAC of a message with arbitrary key bytes (the classic "public key as HMAC secret" confusion).
enum HostileMAC {
    static func mac(_ algorithm: String, key: [UInt8], message: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch algorithm {
        case "HS384": return Array(HMAC<SHA384>.authenticationCode(for: message, using: key))
        case "HS512": return Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        default: return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        }
    }
}
