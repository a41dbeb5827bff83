import Foundation
import Testing
import WIFCore
import WIFTesting

/// `wif explain` end to end: tokens from `wif dev-token`, explained against the embedded trust-config.
@Suite("wif explain")
struct ExplainCommandTests {
    /// A fresh state folder and a development token for `serviceAccount` in namespace demo.
    static func devToken(serviceAccount: String = "app") async throws -> (state: URL, token: String) {
        let state = try WIFProcess.temporaryFolder()
        let run = try await WIFProcess.run(["dev-token", "--state-dir", state.path, "--service-account", serviceAccount])
        #expect(run.status == 0, "\(run.errorText)")
        return (state, run.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("a granted token from a file: exit 0, every step shown, the issued claims")
    func granted() async throws {
        let (state, token) = try await Self.devToken()
        defer { try? FileManager.default.removeItem(at: state) }
        let file = state.appendingPathComponent("token")
        try (token + "\n").write(to: file, atomically: true, encoding: .utf8)
        let run = try await WIFProcess.run([
            "explain", "--state-dir", state.path, "--token", file.path, "--audience", "https://api.demo.internal", "--scope", "read", "--scope",
            "write",
        ])
        #expect(run.status == 0, "\(run.output)\n\(run.errorText)")
        for expected in [
            #"  iss "https://dev.wif.localhost" is issuer local-dev (keys: development)"#,
            "  pass  signature  valid ES256 signature",
            "  1. demo-app: matched, GRANTED",
            "  2. demo-readers: not reached (an earlier policy granted)",
            "  GRANTED by policy demo-app",
            "    scope      read write",
            #"    "wif_policy": "demo-app""#,
        ] {
            #expect(run.output.contains(expected), "missing \(expected.debugDescription) in\n\(run.output)")
        }
    }

    @Test("a denied token on standard input: exit 1, the failed condition, the client's error")
    func denied() async throws {
        let (state, token) = try await Self.devToken(serviceAccount: "intruder")
        defer { try? FileManager.default.removeItem(at: state) }
        let run = try await WIFProcess.run(["explain", "--state-dir", state.path, "--token", "-"], input: token)
        #expect(run.status == 1)
        #expect(run.output.contains("  1. demo-app: not matched (1 of 2 conditions failed)"))
        #expect(run.output.contains(#"FAIL  [kubernetes.io][serviceaccount][name]  equals "app"   actual "intruder""#))
        #expect(run.output.contains("  DENIED: no_policy_matched (stage: policy)"))
        #expect(run.output.contains(#"{"error":"invalid_request","error_description":"subject token is not permitted by any trust policy"}"#))
    }

    @Test("--offline with the development issuer's JWKS, --json: stable keys")
    func offlineJSON() async throws {
        let (state, token) = try await Self.devToken()
        defer { try? FileManager.default.removeItem(at: state) }
        let pem = try String(contentsOf: state.appendingPathComponent("dev-issuer/key.pem"), encoding: .utf8)
        let jwks = state.appendingPathComponent("jwks.json")
        try Data(publishedJWKS([try SigningKey(pem: pem)]).serialized()).write(to: jwks)
        let other = try WIFProcess.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: other) }
        // The state folder is another one: only the offline file can verify the token.
        let run = try await WIFProcess.run(["explain", "--state-dir", other.path, "--offline", jwks.path, "--token", "-", "--json"], input: token)
        #expect(run.status == 0, "\(run.output)\n\(run.errorText)")
        let report = try JSONValue.parse(Array(run.output.utf8))
        #expect(report["keys_from"] == .string("the offline JWKS file \(jwks.path)"))
        #expect(report["verified"] == true)
        #expect(report["decision"]?["granted"] == true)
        #expect(report["decision"]?["policy"] == "demo-app")
        #expect(report["issued_token"]?["claims"]?["scope"] == "read")
        #expect(report["policies"]?["evaluations"]?.arrayValue?.map { $0["status"] } == ["granted", "not_reached"])
    }

    @Test("without the key, the signature cannot be checked, and the policies are evaluated hypothetically")
    func unverifiable() async throws {
        let (state, token) = try await Self.devToken()
        defer { try? FileManager.default.removeItem(at: state) }
        let other = try WIFProcess.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: other) }
        let run = try await WIFProcess.run(["explain", "--state-dir", other.path, "--token", "-"], input: token)
        #expect(run.status == 1)
        #expect(run.output.contains("  FAIL  keys"))
        #expect(run.output.contains("HYPOTHETICAL, as if the token and request were acceptable"))
        #expect(run.output.contains("  if the token were valid: granted by demo-app"))
        #expect(run.output.contains("  DENIED: issuer_keys_unavailable"))
    }

    @Test("--at a later instant: the token is expired")
    func at() async throws {
        let (state, token) = try await Self.devToken()
        defer { try? FileManager.default.removeItem(at: state) }
        let run = try await WIFProcess.run(["explain", "--state-dir", state.path, "--token", "-", "--at", "2100-01-01T00:00:00Z"], input: token)
        #expect(run.status == 1)
        #expect(run.output.contains("Claims (at 2100-01-01T00:00:00Z)"))
        #expect(run.output.contains("  FAIL  exp"))
        #expect(run.output.contains("  DENIED: token_expired (stage: claims)"))
    }

    @Test("an unreadable token file: exit 2 with a message")
    func unreadable() async throws {
        let run = try await WIFProcess.run(["explain", "--token", "/nonexistent/token"])
        #expect(run.status == 2)
        #expect(run.errorText.contains("wif explain: /nonexistent/token: cannot read the token file"))
    }
}
