import Foundation
import Testing
import WIFCore
import WIFTesting

/// `wif test` end to end: the built executable on the shipped trust-configs and on folders made here.
@Suite("wif test")
struct TestCommandTests {
    /// Every shipped trust-config: the embedded default and each folder under examples/trust-config/.
    static let shippedFolders: [String] = {
        let examples = WIFProcess.root.appendingPathComponent("examples/trust-config")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
        let folders = names.sorted().filter { name in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: examples.appendingPathComponent(name).path, isDirectory: &isFolder) && isFolder.boolValue
        }
        return ["trust-config"] + folders.map { "examples/trust-config/\($0)" }
    }()

    @Test("every shipped trust-config has policy tests, and they all pass", arguments: shippedFolders)
    func shipped(folder: String) async throws {
        let run = try await WIFProcess.run(["test", folder])
        #expect(run.status == 0, "\(run.output)\n\(run.errorText)")
        #expect(run.output.contains(" passed, 0 failed"))
    }

    @Test("every policy of every shipped trust-config has a granted case and its issuer a denied one")
    func coverage() async throws {
        for folder in Self.shippedFolders {
            let run = try await WIFProcess.run(["test", folder, "--json"])
            let report = try JSONValue.parse(Array(run.output.utf8))
            let cases = try #require(report["cases"]?.arrayValue, "\(folder): \(run.errorText)")
            let granted = Set(cases.compactMap { $0["expected"]?["granted"] == true ? $0["expected"]?["policy"]?.stringValue : nil })
            let deniedIssuers = Set(cases.compactMap { $0["expected"]?["granted"] == false ? $0["issuer"]?.stringValue : nil })
            let config = try Self.policies(in: folder)
            for (policy, issuer, audit) in config {
                if !audit { #expect(granted.contains(policy), "\(folder): no case expects policy \(policy) to grant") }
                #expect(deniedIssuers.contains(issuer), "\(folder): no case expects a denial for issuer \(issuer)")
            }
        }
    }

    /// (policy, issuer, audit mode) of every policy in a shipped folder, loaded as wif loads it.
    static func policies(in folder: String) throws -> [(String, String, Bool)] {
        let url = WIFProcess.root.appendingPathComponent(folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
            .map { TrustConfigLoader.File(name: $0, contents: try String(contentsOf: url.appendingPathComponent($0), encoding: .utf8)) }
        return try TrustConfigLoader.load(files).policies.map { ($0.name, $0.issuer, $0.mode == .audit) }
    }

    /// A trust-config folder with one issuer and policy, and `tests/cases.yaml` holding `cases`.
    static func folder(cases: String) throws -> URL {
        let folder = try WIFProcess.temporaryFolder()
        try """
        issuers:
          - name: cluster
            issuer: https://cluster.test
            keys: {jwks_url: https://cluster.test/jwks}
            audiences: [wif]
            algorithms: [RS256]
        policies:
          - name: app
            issuer: cluster
            conditions:
              - claim: sub
                equals: system:serviceaccount:demo:app
            grant:
              audiences: [https://api.test]
              scopes: [read]
        """.write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tests"), withIntermediateDirectories: true)
        try cases.write(to: folder.appendingPathComponent("tests/cases.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    static let cases = """
        cases:
          - name: app reads
            issuer: cluster
            claims: {sub: "system:serviceaccount:demo:app"}
            expect: {granted: {policy: app, scope: [read], lifetime: 1h}}
          - name: app writes
            issuer: cluster
            claims: {sub: "system:serviceaccount:demo:app"}
            request: {scope: write}
            expect: {granted: {policy: app, scope: [write]}}
        """

    @Test("a failing case: exit 1, the table marks it, and the failure says what differs")
    func failing() async throws {
        let folder = try Self.folder(cases: Self.cases)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try await WIFProcess.run(["test", folder.path])
        #expect(run.status == 1)
        let lines = run.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("app reads ") && $0.hasSuffix("pass") })
        #expect(lines.contains { $0.hasPrefix("app writes ") && $0.contains("denied scope_not_allowed (invalid_scope)") && $0.hasSuffix("FAIL") })
        #expect(
            run.output.contains(#"    - denied with scope_not_allowed (invalid_scope "requested scope is not allowed"), expected a grant by app"#)
        )
        #expect(lines.last == "2 cases: 1 passed, 1 failed")
    }

    @Test("--json: one JSON object with the cases and the summary")
    func json() async throws {
        let folder = try Self.folder(cases: Self.cases)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try await WIFProcess.run(["test", folder.path, "--json", "--at", "2027-01-15T08:00:00Z"])
        #expect(run.status == 1)
        let report = try JSONValue.parse(Array(run.output.utf8))
        #expect(report["summary"] == ["total": 2, "passed": 1, "failed": 1])
        #expect(report["cases"]?.arrayValue?.map { $0["passed"] } == [true, false])
        #expect(report["cases"]?.arrayValue?.first?["issued_claims"]?["iat"] == 1_800_000_000)
    }

    @Test("a malformed case file: exit 2, and every problem with file, line and field on standard error")
    func malformed() async throws {
        let folder = try Self.folder(
            cases: """
                cases:
                  - name: typo
                    issuer: cluster
                    claims: {sub: a}
                    expect:
                      granted: {polcy: app}
                """
        )
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try await WIFProcess.run(["test", folder.path])
        #expect(run.status == 2)
        #expect(run.output.isEmpty)
        #expect(run.errorText.contains("wif test: policy tests have 2 problems:"))
        #expect(run.errorText.contains("\(folder.path)/tests/cases.yaml:6: cases[0].expect.granted.polcy: unknown key"))
        #expect(run.errorText.contains("\(folder.path)/tests/cases.yaml:6: cases[0].expect.granted.policy: is required"))
    }

    @Test("a folder without tests: exit 2")
    func noTests() async throws {
        let folder = try Self.folder(cases: "")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("tests"))
        let run = try await WIFProcess.run(["test", folder.path])
        #expect(run.status == 2)
        #expect(run.errorText.contains("tests: no such folder"))
    }
}
