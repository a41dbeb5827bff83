import ExtrasBase64

/// Strict base64url (RFC 7515 §2, RFC 4648 §5 without padding, canonical trailing bits per RFC 4648 §3.5).
public enum Base64URL {
    /// Encodes bytes as unpadded base64url.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    /// Decodes unpadded base64url, refusing padding, the standard alphabet, white space and non-canonical
    /// trailing bits, so that exactly one string decodes to each byte sequence (security-cases.md case 22).
    public static func decode(_ text: Substring.UTF8View) -> [UInt8]? {
        var last: UInt8 = 0
        for byte in text {
            guard alphabetValue(byte) != nil else { return nil }
            last = byte
        }
        switch text.count % 4 {
        case 1: return nil
        case 2: guard let v = alphabetValue(last), v & 0x0F == 0 else { return nil }
        case 3: guard let v = alphabetValue(last), v & 0x03 == 0 else { return nil }
        default: break
        }
        return try? Base64.decode(bytes: text, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    /// Decodes unpadded base64url text held in a `String`.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(text[...].utf8)
    }

    private static func alphabetValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
