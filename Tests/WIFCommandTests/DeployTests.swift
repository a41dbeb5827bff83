import Foundation
import Testing
import WIFCore
import WIFTesting

/// deploy/ stays correct as wif changes: the Kubernetes manifests validate against the Kubernetes API
/// schema (kubernetes-validate, offline), the trust-config they carry passes `wif validate --strict`, and
/// every `wif` command line in the manifests and systemd units uses only flags `wif` has.
@Suite("deploy/: manifests and units")
struct DeployTests {
    static let kubernetes = WIFProcess.root.appendingPathComponent("deploy/kubernetes")
    static let systemd = WIFProcess.root.appendingPathComponent("deploy/systemd")

    static func files(in folder: URL, ending suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(suffix) }.sorted()
            .map { folder.appendingPathComponent($0).path }
    }

    /// Runs a Python snippet in the interop venv (it has PyYAML, as kubernetes-validate needs it) over the
    /// manifests and returns what it printed as JSON.
    static func python(_ script: String) async throws -> JSONValue {
        let manifests = try files(in: kubernetes, ending: ".yaml")
        let result = try await ChildProcess.run(URL(fileURLWithPath: try await InteropVenv.python()), ["-c", script] + manifests)
        try #require(result.status == 0, "\(result.errorText)")
        return try JSONValue.parse(Array(result.output.utf8))
    }

    @Test func kubernetesManifestsValidateAgainstTheSchema() async throws {
        let manifests = try Self.files(in: Self.kubernetes, ending: ".yaml")
        #expect(manifests.count >= 2)
        let validate = try await InteropVenv.program("kubernetes-validate")
        let result = try await ChildProcess.run(URL(fileURLWithPath: validate), ["--strict", "--quiet"] + manifests)
        #expect(result.status == 0, "\(result.output)\(result.errorText)")
    }

    @Test func theTrustConfigInTheManifestPassesStrictValidation() async throws {
        let files = try await Self.python(
            """
            import json, sys, yaml
            out = {}
            for path in sys.argv[1:]:
                for doc in yaml.safe_load_all(open(path)):
                    if doc and doc.get("kind") == "ConfigMap" and "trust-config" in doc["metadata"]["name"]:
                        out.update(doc["data"])
            print(json.dumps(out))
            """
        )
        let contents = try #require(files.objectValue)
        #expect(!contents.isEmpty)
        let folder = try WIFProcess.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in contents {
            try #require(text.stringValue).write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let validate = try await WIFProcess.run(["validate", "--strict", folder.path])
        #expect(validate.status == 0, "\(validate.output)\(validate.errorText)")
    }

    @Test func everyWifCommandLineUsesFlagsWifHas() async throws {
        // Container args of every container running the wif image, from the manifests…
        let containers = try await Self.python(
            """
            import json, sys, yaml
            out = []
            for path in sys.argv[1:]:
                for doc in yaml.safe_load_all(open(path)):
                    spec = ((doc or {}).get("spec") or {}).get("template", {}).get("spec", {})
                    for c in spec.get("initContainers", []) + spec.get("containers", []):
                        if "/wif:" in c["image"]:
                            out.append(c.get("args", []))
            print(json.dumps(out))
            """
        )
        var commandLines = try #require(containers.arrayValue).map { $0.arrayValue?.compactMap(\.stringValue) ?? [] }
        // …and the ExecStart lines of the systemd units (continuation lines joined).
        for unit in try Self.files(in: Self.systemd, ending: ".service") {
            let text = try String(contentsOfFile: unit, encoding: .utf8).replacingOccurrences(of: "\\\n", with: " ")
            for line in text.split(separator: "\n") where line.hasPrefix("ExecStart=/usr/local/bin/wif ") {
                commandLines.append(line.dropFirst("ExecStart=/usr/local/bin/wif ".count).split(separator: " ").map(String.init))
            }
        }
        #expect(commandLines.count >= 5, "the manifests and units run wif: \(commandLines)")
        for arguments in commandLines {
            let subcommand = try #require(arguments.first)
            let help = try await WIFProcess.run([subcommand, "--help"])
            #expect(help.status == 0, "wif \(subcommand) exists")
            for flag in arguments where flag.hasPrefix("--") {
                #expect(help.output.contains(flag + " ") || help.output.contains(flag + "\n"), "wif \(subcommand) has \(flag)")
            }
        }
    }
}
