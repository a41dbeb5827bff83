import Testing
import WIFCore

@Suite("Base64URL: strict unpadded base64url")
struct Base64URLTests {
    @Test(
        "encodes the RFC 4648 test vectors without padding",
        arguments: [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ]
    )
    func vectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test("uses '-' and '_' for the last two alphabet values")
    func urlAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.encode([0xFF, 0xFF, 0xFE]) == "___-")
    }

    @Test("round-trips every byte value at every length modulo 3")
    func roundTrip() {
        let bytes = (0...255).map(UInt8.init)
        for length in [0, 1, 2, 3, 254, 255, 256] {
            let slice = Array(bytes.prefix(length))
            #expect(Base64URL.decode(Base64URL.encode(slice)) == slice)
        }
    }

    @Test(
        "refuses anything but canonical unpadded base64url",
        arguments: [
            Case("standard alphabet '+'", "+_8"),
            Case("standard alphabet '/'", "-/8"),
            Case("padding", "Zg=="),
            Case("single padding character", "Zm8="),
            Case("embedded padding", "Zg==Zm8"),
            Case("space", "Zm9v Yg"),
            Case("newline", "Zm9v\nYg"),
            Case("length 1 modulo 4", "Zm9vY"),
            Case("non-canonical trailing bits (2 characters)", "Zh"),
            Case("non-canonical trailing bits (3 characters)", "Zm9"),
            Case("non-ASCII letter", "Zm9vÝg"),
            Case("NUL", "Zm9v\u{0}"),
        ]
    )
    func refuses(_ input: Case<String>) {
        #expect(Base64URL.decode(input.value) == nil)
    }

    @Test("each byte sequence has exactly one accepted encoding")
    func canonical() {
        // "Zg" decodes to "f"; flipping any of the four unused low bits of 'g' must be refused.
        let accepted = (UInt8(ascii: "A")...UInt8(ascii: "z")).compactMap { last -> String? in
            let text = "Z" + String(UnicodeScalar(last))
            return Base64URL.decode(text) == [UInt8(ascii: "f")] ? text : nil
        }
        #expect(accepted == ["Zg"])
    }

    @Test("decodes a substring view without copying the token")
    func substring() {
        let token = "Zm9v.YmFy"
        let dot = token.firstIndex(of: ".")!
        #expect(Base64URL.decode(token[token.index(after: dot)...].utf8) == Array("bar".utf8))
    }
}
