import ArgumentParser
import FoundationEssentials
import WIFCore

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
        let (files, unreadable) = Self.read(folder: path)
        let report = TrustConfigLoader.loadReport(files)
            .prepending(problems: unreadable)
            .checkingKeyFiles { file in
                FileManager.default.contents(atPath: file.hasPrefix("/") ? file : path + "/" + file).map { Array($0) }
            }
        print(json ? report.json(source: path, strict: strict) : report.text(source: path, strict: strict))
        if !report.passes(strict: strict) { throw ExitCode.failure }
    }

    /// The folder's trust-config files, selected and read as `TrustConfigDirectory.load()` does (every
    /// `*.yaml`/`*.yml` at the top level, not hidden, in name order), with what could not be read.
    static func read(folder path: String) -> ([TrustConfigLoader.File], [TrustConfigProblem]) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
                .sorted()
        } catch {
            return ([], [TrustConfigProblem(file: path, line: nil, field: "", message: "cannot read the trust-config folder")])
        }
        var files: [TrustConfigLoader.File] = []
        var problems: [TrustConfigProblem] = []
        for name in names {
            let filePath = path + "/" + name
            guard let data = FileManager.default.contents(atPath: filePath) else {
                problems.append(TrustConfigProblem(file: filePath, line: nil, field: "", message: "cannot read the file"))
                continue
            }
            guard data.count <= TrustConfigLoader.maxFileSize, let text = String(validating: data, as: UTF8.self) else {
                problems.append(TrustConfigProblem(file: filePath, line: nil, field: "", message: "file is too large or not UTF-8"))
                continue
            }
            files.append(TrustConfigLoader.File(name: filePath, contents: text))
        }
        if files.isEmpty && problems.isEmpty {
            problems.append(TrustConfigProblem(file: path, line: nil, field: "", message: "the folder has no .yaml files"))
        }
        return (files, problems)
    }
}
