import Testing
import WIFServer

@Suite("ServerSettings")
struct ServerSettingsTests {
    @Test("the default issuer URL follows the scheme and brackets an IPv6 host once")
    func defaultIssuerURL() {
        #expect(ServerSettings(host: "127.0.0.1", port: 8080).issuerURL == "http://127.0.0.1:8080")
        #expect(ServerSettings(host: "::1", port: 8080).issuerURL == "http://[::1]:8080")
        #expect(ServerSettings(host: "[::1]", port: 8080).issuerURL == "http://[::1]:8080")
        let tls = TLSFiles(certificateChain: "tls.crt", privateKey: "tls.key")
        #expect(ServerSettings(host: "127.0.0.1", port: 8443, tls: tls).issuerURL == "https://127.0.0.1:8443")
    }

    @Test(
        "an issuer URL clients cannot compare exactly is refused",
        arguments: [
            "wif.example.com", "https://wif.example.com/", "https://wif.example.com?x=1", "https://wif.example.com#f", "ftp://wif", "https://wïf",
            "http://wif.corp",
        ]
    )
    func badIssuerURL(url: String) {
        #expect(ServerSettings.issuerURLProblem(url) != nil)
    }

    @Test("plain issuer URLs are accepted", arguments: ["https://wif.example.com", "https://sts.example.com/wif", "http://127.0.0.1:8080"])
    func goodIssuerURL(url: String) {
        #expect(ServerSettings.issuerURLProblem(url, loopback: url.hasPrefix("http://")) == nil)
    }
}
