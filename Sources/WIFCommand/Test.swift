import ArgumentParser
import FoundationEssentials
import WIFCore
import WIFSources

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Test: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the policy test cases in DIR/tests/*.yaml against DIR's trust-config, with no network.",
        discussion: """
            Each case gives a subject token's claims, the request, and the expected decision. The claims are \
            signed with a throwaway key of an algorithm the issuer allows, served as that issuer's only key, and \
            the request goes through the same pipeline as in `wif serve`. Prints a table and a summary. Exits 0 \
            when every case passes, 1 when one fails, 2 when the trust-config or a case file has a problem. \
            See docs/trust-config.md#policy-tests.
            """
    )

    @Argument(help: "The trust-config folder (env WIF_TRUST_CONFIG; default: trust-config). Cases are read from its tests/ folder.")
    var directory: String?

    @Option(help: "Run the cases at this instant: RFC 3339 (2026-01-15T08:00:00Z) or unix seconds (default: now).")
    var at: String?

    @Option(name: .customLong("issuer-url"), help: "wif's issuer URL, the iss of issued tokens (env WIF_ISSUER_URL; default http://127.0.0.1:8080).")
    var issuerURL: String?

    @Flag(help: "Print the results as one JSON object, for tools.")
    var json = false

    func run() async throws {
        var folder = directory ?? environment("WIF_TRUST_CONFIG") ?? "trust-config"
        while folder.count > 1, folder.hasSuffix("/") { folder.removeLast() }
        let now: Double
        if let at {
            guard let instant = Instant.parse(at) else { throw ValidationError("--at must be RFC 3339 (2026-01-15T08:00:00Z) or unix seconds") }
            now = instant
        } else {
            now = SystemClock().now().rounded(.down)
        }
        let config: TrustConfig
        do {
            config = try TrustConfigDirectory(path: folder).load()
        } catch {
            throw Self.cannotRun("\(error)")
        }
        let files = try Self.caseFiles(in: folder + "/tests")
        let cases: [PolicyTestCase]
        do {
            cases = try PolicyTestSuite.load(files, config: config)
        } catch {
            throw Self.cannotRun("\(error)")
        }
        guard !cases.isEmpty else { throw Self.cannotRun("\(folder)/tests has no test cases (each file lists them under `cases:`)") }
        let runner = PolicyTestRunner(config: config, issuerURL: issuerURL ?? environment("WIF_ISSUER_URL") ?? "http://127.0.0.1:8080")
        let report = try await runner.run(cases, now: now)
        print(json ? report.json.prettyPrinted() : report.table())
        if !report.allPassed { throw ExitCode.failure }
    }

    /// Every `*.yaml`/`*.yml` file at the top level of `folder` (not hidden), in name order, read as the
    /// trust-config folder is.
    static func caseFiles(in folder: String) throws -> [TrustConfigLoader.File] {
        guard FileManager.default.fileExists(atPath: folder) else {
            throw cannotRun("\(folder): no such folder; policy test cases go in DIR/tests/*.yaml")
        }
        let (files, problems) = TrustConfigDirectory(path: folder).read()
        guard problems.isEmpty else { throw cannotRun(problems.map(\.description).joined(separator: "\n  ")) }
        return files
    }

    /// Prints `message` to standard error; the command exits 2 (nothing was tested).
    static func cannotRun(_ message: String) -> ExitCode {
        let line = Array("wif test: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        return ExitCode(2)
    }
}
