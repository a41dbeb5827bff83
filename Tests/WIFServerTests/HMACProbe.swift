import Crypto

/// Builds the HMAC an attacker would send when confusing HS256 with the issuer's public key.
enum HMACProbe {
    static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}
