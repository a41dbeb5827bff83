import ArgumentParser
import FoundationEssentials
import WIFCore
import WIFSources

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a trust-config folder: every problem and warning with its file, line and field.",
        discussion: """
            Loads the folder exactly as `wif serve` would, without fetching anything, and prints every problem \
            (`file:line: field: message`), then every warning (`file:line: warning: field: message`), then a \
            summary. Exits 1 when the config has a problem (with --strict, a warning too), 0 otherwise. Also \
            checks that each jwks_file holds a usable key set.
            """
    )

    @Argument(help: "The trust-config folder (env WIF_TRUST_CONFIG; default: trust-config).")
    var directory: String?

    @Flag(help: "Fail on warnings too.")
    var strict = false

    @Flag(help: "Print the report as one JSON object, for tools.")
    var json = false

    func run() throws {
        var path = directory ?? environment("WIF_TRUST_CONFIG") ?? "trust-config"
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        let folder = TrustConfigDirectory(path: path)
        let (files, unreadable) = folder.read()
        let report = TrustConfigLoader.loadReport(files)
            .prepending(problems: unreadable)
            .checkingKeyFiles { file in
                FileManager.default.contents(atPath: folder.resolve(file)).map { Array($0) }
            }
        print(json ? report.json(source: path, strict: strict) : report.text(source: path, strict: strict))
        if !report.passes(strict: strict) { throw ExitCode.failure }
    }
}
