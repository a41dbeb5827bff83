import Foundation
import Testing

/// `wif validate` end to end: the built `wif` executable on the shipped trust-config, every example folder,
/// and broken fixtures in `Tests/Fixtures/validate/`, with its exact output and exit code.
@Suite("wif validate, through the executable")
struct ValidateCommandTests {
    static let root: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    /// The `wif` built beside this test bundle (`swift build --build-tests` builds both).
    static let executable: String? = {
        let bundle = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("wif").path }
        return [bundle, root + "/.build/debug/wif"].compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Runs `wif validate ARGUMENTS` in the repository root; its standard output and exit status.
    static func validate(_ arguments: String...) throws -> (status: Int32, lines: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(executable, "the wif executable is not built"))
        process.arguments = ["validate"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.environment = [:]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        return (process.terminationStatus, text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty })
    }

    static let examples: [String] = {
        let folder = root + "/examples/trust-config"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted().map { "examples/trust-config/" + $0 }
    }()

    @Test("the shipped trust-config and every example pass, without a warning even with --strict")
    func shippedFolders() throws {
        #expect(Self.examples.count >= 7, "\(Self.examples)")
        for folder in ["trust-config"] + Self.examples {
            let result = try Self.validate(folder, "--strict")
            #expect(result.status == 0, "\(folder): \(result.lines)")
            #expect(result.lines.count == 1, "\(folder): \(result.lines)")
            #expect(result.lines.last?.hasPrefix("\(folder): valid (") == true, "\(result.lines)")
            #expect(result.lines.last?.hasSuffix("; 0 warnings)") == true, "\(result.lines)")
        }
    }

    @Test("with no folder argument it validates ./trust-config")
    func defaultFolder() throws {
        let result = try Self.validate()
        #expect(result.status == 0)
        #expect(result.lines == ["trust-config: valid (1 issuer, 2 policies; 0 warnings)"])
    }

    @Test("every problem and warning of a broken folder, in order, located; exit 1")
    func brokenFolder() throws {
        let result = try Self.validate("Tests/Fixtures/validate/mixed/")
        let issuers = "Tests/Fixtures/validate/mixed/10-issuers.yaml"
        let policies = "Tests/Fixtures/validate/mixed/20-policies.yaml"
        #expect(result.status == 1)
        #expect(
            result.lines == [
                "\(issuers):9: issuers[0].max_token_lifetme: unknown key (allowed: algorithms, allow_insecure_loopback, audiences, issuer, key_cache, keys, kubernetes, leeway, max_token_lifetime, name, profile)",
                "\(issuers):6: issuers[0].keys.jwks_url: must be an https URL (plain http only for loopback test issuers)",
                "\(issuers):7: issuers[0].audiences: must list at least one value",
                "\(policies):6: policies[0].conditions[0].regex: regular expression does not compile: expected ')'",
                "\(policies):10: policies[1]: duplicate policy name \"payments\" (first at \(policies):2)",
                "\(policies):18: policies[2].issuer: no issuer is named \"prod-clustr\"",
                "\(policies):14: warning: policies[1].conditions[0].glob: \"system:serviceaccount:*:*\" pins no namespace: it admits every namespace on this issuer; write the namespace literally, e.g. system:serviceaccount:NAMESPACE:*",
                "\(policies):17: warning: policies[1].grant.scopes: the policy grants no scope: its tokens carry only an audience; list the scopes the API checks, or keep [] if the audience alone authorizes",
                "Tests/Fixtures/validate/mixed: not valid (6 errors, 2 warnings)",
            ]
        )
    }

    @Test("a GitHub Actions policy that does not pin the owner by id is refused")
    func ownerNotPinned() throws {
        let result = try Self.validate("Tests/Fixtures/validate/owner-not-pinned")
        #expect(result.status == 1)
        #expect(
            result.lines == [
                "Tests/Fixtures/validate/owner-not-pinned/github.yaml:11: policies[0].conditions: https://token.actions.githubusercontent.com is shared by every GitHub repository: pin the owner with an exact condition (equals or one_of) on repository_owner_id or repository_id, or this policy admits tokens of anyone on it (repository is a name, which someone else can register once it is free; it does not pin the owner)",
                "Tests/Fixtures/validate/owner-not-pinned: not valid (1 error, 0 warnings)",
            ]
        )
    }

    @Test("warnings alone pass, and fail with --strict")
    func warningsOnly() throws {
        let folder = "Tests/Fixtures/validate/warnings-only"
        let lenient = try Self.validate(folder)
        #expect(lenient.status == 0)
        #expect(lenient.lines.count == 3)
        #expect(lenient.lines.first?.hasPrefix("\(folder)/cluster.yaml:16: warning: policies[0].conditions[0].regex: ") == true)
        #expect(lenient.lines[1].hasPrefix("\(folder)/cluster.yaml:19: warning: policies[0].grant.scopes: ") == true)
        #expect(lenient.lines.last == "\(folder): valid (1 issuer, 1 policy, 1 in audit mode; 2 warnings)")
        let strict = try Self.validate(folder, "--strict")
        #expect(strict.status == 1)
        #expect(strict.lines.dropLast() == lenient.lines.dropLast())
        #expect(strict.lines.last == "\(folder): not valid with --strict (0 errors, 2 warnings)")
    }

    @Test("--json prints one object with the same findings")
    func json() throws {
        let result = try Self.validate("Tests/Fixtures/validate/warnings-only", "--json", "--strict")
        #expect(result.status == 1)
        #expect(result.lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.lines[0].utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        #expect(object["strict"] as? Bool == true)
        #expect((object["errors"] as? [Any])?.isEmpty == true)
        let warnings = try #require(object["warnings"] as? [[String: Any]])
        #expect(warnings.map { $0["line"] as? Int } == [16, 19])
        #expect(warnings.map { $0["field"] as? String } == ["policies[0].conditions[0].regex", "policies[0].grant.scopes"])
        #expect(object["audit_policies"] as? Int == 1)
    }

    @Test("a jwks_file that is not there is a problem")
    func missingKeyFile() throws {
        let result = try Self.validate("Tests/Fixtures/validate/missing-jwks")
        #expect(result.status == 1)
        #expect(
            result.lines == [
                "Tests/Fixtures/validate/missing-jwks/cluster.yaml:6: issuers[0].keys.jwks_file: cannot read \"cluster-jwks.json\" (a path relative to the trust-config folder)",
                "Tests/Fixtures/validate/missing-jwks: not valid (1 error, 0 warnings)",
            ]
        )
    }

    @Test("a folder that cannot be read, or holds no config, is a problem")
    func unreadableFolders() throws {
        let missing = try Self.validate("Tests/Fixtures/validate/no-such-folder")
        #expect(missing.status == 1)
        #expect(
            missing.lines == [
                "Tests/Fixtures/validate/no-such-folder: cannot read the trust-config folder",
                "Tests/Fixtures/validate/no-such-folder: not valid (1 error, 0 warnings)",
            ]
        )
        let empty = try Self.validate("Tests/Fixtures")
        #expect(empty.status == 1)
        #expect(empty.lines.first == "Tests/Fixtures: the folder has no .yaml files")
    }
}
