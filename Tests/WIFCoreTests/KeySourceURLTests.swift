import Testing
import WIFCore

@Suite("Key-source URL rule")
struct KeySourceURLTests {
    @Test(
        "allowed URLs",
        arguments: [
            ("https://issuer.example.com", false), ("https://issuer.example.com/.well-known/jwks.json", false),
            ("http://127.0.0.1:8080/jwks", true), ("http://localhost/jwks", true), ("http://[::1]:9000", true), ("http://127.0.0.1", true),
        ]
    )
    func allowed(url: String, insecureLoopback: Bool) {
        #expect(KeySourceURL.problem(url, insecureLoopback: insecureLoopback) == nil)
    }

    @Test(
        "refused URLs",
        arguments: [
            ("http://localhost:1@evil.example.com/jwks", true),  // user information hides the real host
            ("https://user@issuer.example.com", false),
            ("http://127.0.0.1:8080/jwks", false),  // loopback http without the explicit switch
            ("http://issuer.example.com", true),
            ("http://127.0.0.1.evil.example.com/", true),
            ("file:///etc/passwd", true), ("gopher://x", true), ("https://", false), ("https://issuer example.com", false),
        ]
    )
    func refused(url: String, insecureLoopback: Bool) {
        #expect(KeySourceURL.problem(url, insecureLoopback: insecureLoopback) != nil)
    }
}
