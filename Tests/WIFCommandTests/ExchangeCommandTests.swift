import Foundation
import Testing
import WIFCore
import WIFTesting

/// `wif exchange` and `wif whoami` as processes against `wif serve` as a process, trusting a real test
/// issuer over loopback. The policy grants 4-second tokens so that refreshes happen within the test.
@Suite("wif exchange and wif whoami as processes")
struct ExchangeCommandTests {
    /// A test issuer, a trust-config trusting it, and a subject token file for `payments/api`.
    struct Setup {
        let folder: URL
        let issuer: TestIssuer
        let port: Int
        var url: String { "http://127.0.0.1:\(port)" }
        var tokenFile: String { folder.appendingPathComponent("subject-token").path }

        static func make() async throws -> Setup {
            let folder = try WIFProcess.temporaryFolder()
            let issuer = try await TestIssuer.start(keys: [try TestKey.rsa(keyID: "cluster-1")])
            let config = folder.appendingPathComponent("trust-config")
            try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
            try """
            issuers:
              - name: cluster
                issuer: \(issuer.issuerURL)
                keys:
                  discovery: true
                allow_insecure_loopback: true
                audiences: [wif]
                algorithms: [RS256]
            policies:
              - name: ledger
                issuer: cluster
                conditions:
                  - claim: sub
                    equals: system:serviceaccount:payments:api
                grant:
                  audiences: [https://ledger.internal]
                  scopes: [ledger.read]
                  default_scopes: [ledger.read]
                  max_lifetime: 4s
            """.write(to: config.appendingPathComponent("cluster.yaml"), atomically: true, encoding: .utf8)
            let token = try issuer.kubernetesToken(audience: "wif", namespace: "payments", serviceAccount: "api", now: Date().timeIntervalSince1970)
            try (token + "\n").write(toFile: folder.appendingPathComponent("subject-token").path, atomically: true, encoding: .utf8)
            return Setup(folder: folder, issuer: issuer, port: try await LoopbackServer.reservePort())
        }

        /// Starts `wif serve` on the setup's port and waits until it answers.
        func serve(dryRun: Bool = false, tls: TestCertificateAuthority? = nil) async throws -> WIFProcess.Background {
            var arguments = [
                "serve", "--port", "\(port)", "--trust-config", folder.appendingPathComponent("trust-config").path,
                "--state-dir", folder.appendingPathComponent("state").path, "--audit-log", folder.appendingPathComponent("audit.log").path,
            ]
            if dryRun { arguments.append("--enable-dry-run") }
            if let tls { arguments += ["--tls-certificate", tls.certificateFile.path, "--tls-key", tls.keyFile.path] }
            let server = try WIFProcess.Background(arguments, log: folder.appendingPathComponent("serve.log"))
            #expect(try await WIFProcess.eventually { server.output.contains("SIGHUP reloads it") }, "serve started: \(server.output)")
            return server
        }

        func stop() async {
            await issuer.stop()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    @Test("one shot: the token, its JSON, env lines or a 0600 file; refusals and outages say why")
    func oneShot() async throws {
        let setup = try await Setup.make()
        let server = try await setup.serve()
        let common = ["exchange", "--url", setup.url, "--token-file", setup.tokenFile, "--audience", "https://ledger.internal"]

        let json = try await WIFProcess.run(common + ["--output", "json"])
        #expect(json.status == 0, "\(json.errorText)")
        let response = try JSONValue.parse(Array(json.output.utf8))
        #expect(response["access_token"]?.stringValue?.split(separator: ".").count == 3)
        #expect(response["token_type"] == "Bearer")
        #expect(response["scope"] == "ledger.read")
        #expect((response["expires_in"]?.numberValue ?? 0) <= 4)
        #expect(response["expires_at"]?.stringValue?.hasSuffix("Z") == true)

        let env = try await WIFProcess.run(common + ["--output", "env"])
        let lines = env.output.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("WIF_ACCESS_TOKEN='ey") == true)
        #expect(lines.last?.hasPrefix("WIF_ACCESS_TOKEN_EXPIRES_AT='") == true)

        let file = setup.folder.appendingPathComponent("out/token")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let written = try await WIFProcess.run(common + ["--write", file.path])
        #expect(written.status == 0)
        #expect(written.output.isEmpty)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let content = try String(contentsOf: file, encoding: .utf8)
        #expect(content.hasSuffix("\n") && content.split(separator: ".").count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["token"])

        let refused = try await WIFProcess.run([
            "exchange", "--url", setup.url, "--token-file", setup.tokenFile, "--audience", "https://nope.internal",
        ])
        #expect(refused.status == 1)
        #expect(refused.output.isEmpty)
        #expect(refused.errorText.hasPrefix("wif exchange: the exchanger refused the request (HTTP 400): invalid_target: "), "\(refused.errorText)")

        try await server.stop()
        let started = ContinuousClock.now
        let down = try await WIFProcess.run(common + ["--timeout", "2"])
        #expect(down.status == 1)
        #expect(down.errorText.contains("wif exchange: no token within 2s: no answer from the exchanger at \(setup.url)/token"), "\(down.errorText)")
        #expect(ContinuousClock.now - started < .seconds(10))

        let usage = try await WIFProcess.run(["exchange", "--url", setup.url, "--audience", "x"])
        #expect(usage.status == 64)
        #expect(usage.errorText.contains("give exactly one subject token source"))
        await setup.stop()
    }

    @Test("--refresh replaces the file before expiry and keeps the valid token while the exchanger is down")
    func refresh() async throws {
        let setup = try await Setup.make()
        var server = try await setup.serve()
        let file = setup.folder.appendingPathComponent("access-token")
        let refresher = try WIFProcess.Background(
            [
                "exchange", "--url", setup.url, "--token-file", setup.tokenFile, "--audience", "https://ledger.internal", "--write", file.path,
                "--refresh",
            ],
            log: setup.folder.appendingPathComponent("exchange.log")
        )
        func current() -> String? { try? String(contentsOf: file, encoding: .utf8) }

        #expect(try await WIFProcess.eventually { current() != nil }, "first token written: \(refresher.output)")
        let first = try #require(current())
        // 4-second tokens are refreshed 3.2 to 2.8 seconds after they were issued.
        #expect(try await WIFProcess.eventually(seconds: 8) { current() != first }, "refreshed: \(refresher.output)")
        let second = try #require(current())
        #expect(refresher.output.contains("wrote a new token"))

        try await server.stop()
        #expect(try await WIFProcess.eventually(seconds: 8) { refresher.output.contains("refresh failed") }, "\(refresher.output)")
        #expect(current() == second, "the file keeps the last token while the exchanger is down")
        #expect(refresher.process.isRunning)

        server = try await setup.serve()
        #expect(try await WIFProcess.eventually(seconds: 20) { current() != second }, "a new token once the exchanger is back: \(refresher.output)")
        #expect(refresher.process.isRunning)
        try await refresher.stop()
        try await server.stop()
        await setup.stop()
    }

    @Test("--ca-file trusts an exchanger whose certificate comes from a private CA")
    func privateCertificateAuthority() async throws {
        let setup = try await Setup.make()
        let authority = try TestCertificateAuthority(in: setup.folder)
        let server = try await setup.serve(tls: authority)
        let https = "https://127.0.0.1:\(setup.port)"
        let common = ["exchange", "--url", https, "--token-file", setup.tokenFile, "--audience", "https://ledger.internal"]
        let trusted = try await WIFProcess.run(common + ["--ca-file", authority.caFile.path])
        #expect(trusted.status == 0, "\(trusted.errorText)")
        #expect(trusted.output.split(separator: ".").count == 3)
        let untrusted = try await WIFProcess.run(common + ["--timeout", "1"])
        #expect(untrusted.status == 1)
        let missing = try await WIFProcess.run(common + ["--ca-file", setup.folder.appendingPathComponent("nope.pem").path])
        #expect(missing.status == 1)
        #expect(missing.errorText.contains("--ca-file"))
        try await server.stop()
        await setup.stop()
    }

    @Test("whoami shows the subject token, and the dry run's decision when the exchanger serves one")
    func whoami() async throws {
        let setup = try await Setup.make()
        let server = try await setup.serve(dryRun: true)

        let local = try await WIFProcess.run(["whoami", "--token-file", setup.tokenFile])
        #expect(local.status == 0, "\(local.errorText)")
        #expect(local.output.contains("subject    system:serviceaccount:payments:api"))
        #expect(local.output.contains("issuer     \(setup.issuer.issuerURL)"))
        #expect(local.output.contains("kubernetes namespace payments, service account api"))

        let granted = try await WIFProcess.run(["whoami", "--token-file", setup.tokenFile, "--url", setup.url])
        #expect(granted.status == 0, "\(granted.errorText)")
        #expect(granted.output.contains("granted by policy ledger"), "\(granted.output)")
        #expect(granted.output.contains("scope      ledger.read"))

        let refused = try await WIFProcess.run(["whoami", "--token-file", setup.tokenFile, "--url", setup.url, "--audience", "https://nope.internal"])
        #expect(refused.status == 1)
        #expect(refused.output.contains("refused: invalid_target"), "\(refused.output)")

        let json = try await WIFProcess.run(["whoami", "--token-file", setup.tokenFile, "--url", setup.url, "--json"])
        let document = try JSONValue.parse(Array(json.output.utf8))
        #expect(document["subject_token"]?["claims"]?["sub"] == "system:serviceaccount:payments:api")
        #expect(document["dry_run"]?["answer"]?["decision"]?["policy"] == "ledger")
        try await server.stop()

        let plain = try await setup.serve()
        let off = try await WIFProcess.run(["whoami", "--token-file", setup.tokenFile, "--url", setup.url])
        #expect(off.status != 0)
        #expect(off.errorText.contains("serves no dry run"), "\(off.errorText)")
        try await plain.stop()
        await setup.stop()
    }
}
