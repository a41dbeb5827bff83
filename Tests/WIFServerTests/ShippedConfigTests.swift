import FoundationEssentials
import Testing
import WIFCore
import WIFServer
import WIFSources

/// The trust-configs the repository ships must load, and the development issuer must stay on loopback.
@Suite("Shipped trust-configs")
struct ShippedConfigTests {
    static let root: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    @Test(
        "every shipped folder loads without a problem",
        arguments: [
            "trust-config", "examples/trust-config/kubernetes-discovery", "examples/trust-config/kubernetes-static-jwks",
            "examples/trust-config/github-actions",
        ]
    )
    func loads(folder: String) throws {
        let config = try TrustConfigDirectory(path: Self.root + "/" + folder).load()
        #expect(!config.issuers.isEmpty)
        #expect(!config.policies.isEmpty)
    }

    @Test("the static-JWKS example's key file imports one usable RSA key")
    func staticJWKS() throws {
        let folder = TrustConfigDirectory(path: Self.root + "/examples/trust-config/kubernetes-static-jwks")
        let config = try folder.load()
        guard case .jwksFile(let file) = config.issuers[0].keySource else {
            Issue.record("expected a jwks_file key source")
            return
        }
        let bytes = try #require(FileManager.default.contents(atPath: folder.resolve(file)))
        let keys = try JWKSet.parse(Array(bytes))
        #expect(keys.keys.count == 1)
        #expect(keys.skipped.isEmpty)
    }

    @Test("the embedded default trusts the development issuer only on loopback")
    func developmentIssuerStaysOnLoopback() throws {
        let config = try TrustConfigDirectory(path: Self.root + "/trust-config").load()
        for host in ["127.0.0.1", "127.0.0.2", "localhost", "::1"] {
            #expect(throws: Never.self) { try ServerSettings(host: host).checkDevelopmentIssuers(in: config) }
        }
        for host in ["0.0.0.0", "10.0.0.5", "::", "127.example.com", "wif.internal"] {
            #expect(throws: DevelopmentIssuerRefused.self) { try ServerSettings(host: host).checkDevelopmentIssuers(in: config) }
        }
    }
}
