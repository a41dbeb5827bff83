import Crypto
import CryptoExtras
import FoundationEssentials

/// An issuer's usable public keys, imported from a JWKS document (RFC 7517).
///
/// Import is forgiving per key and strict per document: a key that is malformed, of an unsupported type,
/// too small, meant for encryption or ambiguous is skipped with a reason (``skipped``) and never fails the
/// others; a document that is not a JWKS at all is an error.
public struct JWKSet: Sendable {
    /// The keys that can verify signatures.
    public let keys: [VerificationKey]
    /// Keys that were left out, each with why (for the log; never sent to a client).
    public let skipped: [SkippedKey]

    public struct SkippedKey: Sendable, Hashable, CustomStringConvertible {
        public let keyID: String?
        public let reason: String
        public var description: String { "key \(keyID.map { "kid=\($0.debugDescription)" } ?? "without kid"): \(reason)" }
    }

    private let byID: [String: Int]

    public init(keys: [VerificationKey], skipped: [SkippedKey] = []) {
        var byID: [String: Int] = [:]
        var kept: [VerificationKey] = []
        var skipped = skipped
        let duplicated = Set(Dictionary(grouping: keys.compactMap(\.keyID), by: { $0 }).filter { $0.value.count > 1 }.keys)
        for key in keys {
            if let kid = key.keyID, duplicated.contains(kid) {
                skipped.append(SkippedKey(keyID: kid, reason: "two keys share this kid"))
                continue
            }
            if let kid = key.keyID { byID[kid] = kept.count }
            kept.append(key)
        }
        self.keys = kept
        self.byID = byID
        self.skipped = skipped
    }

    /// The key for a token header: the key with exactly this `kid`, or, when the header has no `kid`, the
    /// set's only key. Never a fallback to another key.
    public func key(for keyID: String?) -> VerificationKey? {
        if let keyID {
            return byID[keyID].map { keys[$0] }
        }
        return keys.count == 1 ? keys[0] : nil
    }

    /// Parses a JWKS document.
    public static func parse(_ document: some Collection<UInt8>) throws(JWKSetError) -> JWKSet {
        let json: JSONValue
        do {
            json = try JSONValue.parse(document)
        } catch {
            throw JWKSetError("JWKS is not valid JSON: \(error)")
        }
        guard let entries = json["keys"]?.arrayValue else {
            throw JWKSetError("JWKS has no \"keys\" array")
        }
        var keys: [VerificationKey] = []
        var skipped: [SkippedKey] = []
        for entry in entries {
            let kid = entry["kid"]?.stringValue
            do {
                keys.append(try importKey(entry))
            } catch {
                skipped.append(SkippedKey(keyID: kid, reason: error.message))
            }
        }
        return JWKSet(keys: keys, skipped: skipped)
    }

    private static func importKey(_ jwk: JSONValue) throws(JWKSetError) -> VerificationKey {
        guard case .object(let members) = jwk else { throw JWKSetError("not a JSON object") }
        func string(_ name: String) throws(JWKSetError) -> String? {
            guard let value = members[name] else { return nil }
            guard let s = value.stringValue else { throw JWKSetError("\"\(name)\" is not a string") }
            return s
        }
        func bytes(_ name: String) throws(JWKSetError) -> [UInt8] {
            guard let text = try string(name), let decoded = Base64URL.decode(text), !decoded.isEmpty else {
                throw JWKSetError("\"\(name)\" is missing or not base64url")
            }
            return decoded
        }
        let kid = try string("kid")
        if let kid, kid.isEmpty || kid.utf8.count > TokenLimits.maxKeyIDLength { throw JWKSetError("kid is empty or too long") }
        if let use = try string("use"), use != "sig" { throw JWKSetError("use is \"\(use)\", not \"sig\"") }
        if let ops = members["key_ops"] {
            guard let list = ops.arrayValue?.compactMap(\.stringValue), list.contains("verify") else {
                throw JWKSetError("key_ops does not allow verify")
            }
        }
        if members["d"] != nil { throw JWKSetError("private key material in a JWKS") }
        var pinned: JWSAlgorithm?
        if let alg = try string("alg") {
            guard let known = JWSAlgorithm(rawValue: alg) else { throw JWKSetError("unsupported alg \"\(alg)\"") }
            pinned = known
        }
        let material: VerificationKey.Material
        switch try string("kty") {
        case "RSA":
            let n = try bytes("n")
            let e = try bytes("e")
            guard e.count <= 4, let last = e.last, last & 1 == 1, e.reduce(0, { $0 << 8 | UInt64($1) }) >= 65537 else {
                throw JWKSetError("unacceptable RSA public exponent")
            }
            let key: _RSA.Signing.PublicKey
            do {
                key = try _RSA.Signing.PublicKey(n: n, e: e)
            } catch {
                throw JWKSetError("RSA key is invalid or smaller than 2048 bits")
            }
            material = .rsa(key)
        case "EC":
            let x = try bytes("x")
            let y = try bytes("y")
            do {
                switch try string("crv") {
                case "P-256":
                    guard x.count == 32, y.count == 32 else { throw JWKSetError("P-256 coordinates must be 32 bytes") }
                    material = .p256(try P256.Signing.PublicKey(rawRepresentation: x + y))
                case "P-384":
                    guard x.count == 48, y.count == 48 else { throw JWKSetError("P-384 coordinates must be 48 bytes") }
                    material = .p384(try P384.Signing.PublicKey(rawRepresentation: x + y))
                default:
                    throw JWKSetError("unsupported EC curve")
                }
            } catch let error as JWKSetError {
                throw error
            } catch {
                throw JWKSetError("EC point is not on the curve")
            }
        case "OKP":
            guard try string("crv") == "Ed25519" else { throw JWKSetError("unsupported OKP curve") }
            let x = try bytes("x")
            guard x.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else {
                throw JWKSetError("Ed25519 key must be 32 bytes")
            }
            material = .ed25519(key)
        case let other:
            throw JWKSetError("unsupported key type \(other.map { "\"\($0)\"" } ?? "(missing)")")
        }
        let key = VerificationKey(keyID: kid, pinnedAlgorithm: pinned, material: material)
        if let pinned, pinned.keyFamily != key.family { throw JWKSetError("alg \(pinned.rawValue) does not fit a \(key.family.rawValue) key") }
        return key
    }
}

/// Why a JWKS document could not be used at all.
public struct JWKSetError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
