import Foundation
import Prometheus
import Testing
import WIFCore
import WIFTesting

/// Real client libraries from PyPI against the real server over TLS on loopback: Google's `google-auth`,
/// Microsoft's `azure-identity` and `msal` obtain tokens unmodified; `PyJWT` and `joserfc` verify them from
/// the JWKS found through discovery. The clients live in Tests/Interop/wif_interop.py and run in the venv
/// scripts/interop-setup.sh builds (made here on first use). A missing library fails the test loudly.
@Suite("Interop: real client libraries against wif over TLS")
struct InteropTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tenant = "contoso.onmicrosoft.com"

    /// How one client case ran.
    struct Run {
        let status: Int32
        let output: JSONValue
        let errorText: String
    }

    /// Runs one client case against `harness` (which listens with TLS) in a child process.
    static func client(_ name: String, harness: ExchangeHarness, subjectToken: String? = nil, accessToken: String? = nil) async throws -> Run {
        let tls = try #require(harness.tls)
        var environment: [String: String?] = [
            "WIF_ISSUER": harness.wifIssuerURL, "WIF_CA_FILE": tls.caFile.path, "WIF_AUDIENCE": "api://payments", "WIF_SCOPE": "payments.read",
            "WIF_CLIENT_ID": ExchangeHarness.billingClientID, "WIF_TENANT": tenant,
        ]
        let tokenFile = tls.caFile.deletingLastPathComponent().appendingPathComponent("token-\(UUID().uuidString)")
        if let subjectToken {
            // As kubelet writes it; clients send the bytes verbatim, newline included.
            try (subjectToken + "\n").write(to: tokenFile, atomically: true, encoding: .utf8)
            environment["WIF_SUBJECT_TOKEN_FILE"] = tokenFile.path
        }
        environment["WIF_ACCESS_TOKEN"] = accessToken
        let script = root.appendingPathComponent("Tests/Interop/wif_interop.py").path
        let result = try await ChildProcess.run(URL(fileURLWithPath: try await InteropVenv.python()), [script, name], environment: environment)
        if result.status == 3 { Issue.record("interop library missing for \(name): \(result.errorText)") }
        let output = (try? JSONValue.parse(Array(result.output.utf8))) ?? .null
        return Run(status: result.status, output: output, errorText: result.errorText)
    }

    /// A harness on TLS with the real clock: the libraries check `exp` and `iat` against the real time.
    static func withTLS(metrics: PrometheusCollectorRegistry? = nil, _ body: (ExchangeHarness) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let authority = try TestCertificateAuthority(in: folder)
        try await ExchangeHarness.with(tls: authority, clock: FixedClock(Date().timeIntervalSince1970.rounded(.down)), metrics: metrics, body)
    }

    static let grantOf = [
        "google-auth": GrantType.tokenExchange, "azure-client-assertion": .clientCredentials, "azure-workload-identity": .clientCredentials,
        "msal": .clientCredentials,
    ]

    @Test(
        "a client library obtains a wif token with the workload's token file",
        arguments: ["google-auth", "azure-client-assertion", "azure-workload-identity", "msal"]
    )
    func obtain(library: String) async throws {
        try await Self.withTLS { harness in
            let subjectToken = try harness.workloadToken(namespace: "payments", serviceAccount: "billing")
            let run = try await Self.client(library, harness: harness, subjectToken: subjectToken)
            try #require(run.status == 0, "\(library) failed: \(run.errorText)")
            let token = try #require(run.output["access_token"]?.stringValue)
            let claims = try await harness.verifiedClaims(token)
            #expect(claims["iss"]?.stringValue == harness.wifIssuerURL)
            #expect(claims["sub"] == "system:serviceaccount:payments:billing")
            #expect(claims["aud"] == "api://payments")
            #expect(claims["scope"] == "payments.read")
            #expect(claims["client_id"] == .string(ExchangeHarness.billingClientID))
            let granted = harness.audit.filter { $0["outcome"] == "granted" }
            #expect(granted.count == 1)
            #expect(granted.first?["grant_type"]?.stringValue == Self.grantOf[library]?.rawValue)
        }
    }

    @Test("a client library refused by wif reports wif's error, and no token", arguments: ["google-auth", "msal"])
    func refused(library: String) async throws {
        try await Self.withTLS { harness in
            // A workload no policy admits.
            let subjectToken = try harness.workloadToken(namespace: "payments", serviceAccount: "intruder")
            let run = try await Self.client(library, harness: harness, subjectToken: subjectToken)
            #expect(run.status == 1, "\(library) should fail: \(run.output)")
            #expect(run.output["access_token"] == nil)
            #expect(run.errorText.contains("invalid_request") || run.errorText.contains("invalid_client"), "\(run.errorText)")
            #expect(harness.audit.last?["reason"] == "no_policy_matched")
        }
    }

    @Test("a JOSE library verifies a wif token from the JWKS found through discovery", arguments: ["pyjwt-verify", "joserfc-verify"])
    func verify(library: String) async throws {
        try await Self.withTLS { harness in
            let answer = try await harness.exchange(
                try harness.workloadToken(namespace: "payments", serviceAccount: "billing"),
                [("audience", "api://payments")]
            )
            let token = try #require(answer.body["access_token"]?.stringValue)
            let run = try await Self.client(library, harness: harness, accessToken: token)
            try #require(run.status == 0, "\(library) failed: \(run.errorText)")
            #expect(run.output["header"]?["typ"] == "at+jwt")
            #expect(run.output["claims"]?["sub"] == "system:serviceaccount:payments:billing")
            #expect(run.output["claims"]?["iss"]?.stringValue == harness.wifIssuerURL)

            // The same library refuses the token once one signature byte changes.
            var parts = token.split(separator: ".").map(String.init)
            var signature = try #require(Base64URL.decode(parts[2]))
            signature[5] ^= 0x01
            parts[2] = Base64URL.encode(signature)
            let tampered = try await Self.client(library, harness: harness, accessToken: parts.joined(separator: "."))
            #expect(tampered.status == 1, "\(library) accepted a tampered signature")
        }
    }

    @Test("/metrics parses with prometheus_client and counts exchanges, latency, key fetches")
    func metrics() async throws {
        try await Self.withTLS(metrics: PrometheusCollectorRegistry()) { harness in
            _ = try await harness.exchange(try harness.workloadToken(namespace: "payments", serviceAccount: "billing"))
            _ = try await harness.exchange(try harness.workloadToken(namespace: "payments", serviceAccount: "intruder"))
            let run = try await Self.client("metrics-parse", harness: harness)
            try #require(run.status == 0, "metrics-parse failed: \(run.errorText)")
            let families = try #require(run.output["families"])
            let exchanges = try #require(families["wif_exchanges"]?["samples"]?.arrayValue)
            let granted = exchanges.first { $0["labels"]?["outcome"] == "granted" && $0["name"] == "wif_exchanges_total" }
            #expect(granted?["labels"]?["policy"] == "billing")
            #expect(granted?["value"] == 1)
            let denied = exchanges.first { $0["labels"]?["outcome"] == "denied" && $0["name"] == "wif_exchanges_total" }
            #expect(denied?["labels"]?["error"] == "no_policy_matched")
            #expect(families["wif_exchange_duration_seconds"]?["type"] == "histogram")
            #expect(families["wif_jwks_fetches"]?["samples"]?.arrayValue?.isEmpty == false)
            #expect(families["wif_issuer_keys"]?["type"] == "gauge")
        }
    }
}

struct InteropFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
