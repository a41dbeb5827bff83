import FoundationEssentials
public import WIFCore

/// Reads a trust-config folder from disk: every `*.yaml` / `*.yml` file at its top level, in name order.
public struct TrustConfigDirectory: Sendable {
    /// The folder, as given.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Loads and checks the whole folder; throws ``TrustConfigError`` listing every problem.
    public func load() throws(TrustConfigError) -> TrustConfig {
        try loadWithWarnings().config
    }

    /// Loads and checks the whole folder, also returning the warnings `wif validate` would print.
    public func loadWithWarnings() throws(TrustConfigError) -> (config: TrustConfig, warnings: [TrustConfigProblem]) {
        let (files, unreadable) = read()
        let report = TrustConfigLoader.loadReport(files)
        guard unreadable.isEmpty, var config = report.config else { throw TrustConfigError(problems: unreadable + report.problems) }
        config.version = TrustConfig.version(of: files)
        return (config, report.warnings)
    }

    /// The folder's trust-config files: every `*.yaml`/`*.yml` at the top level, not hidden, in name
    /// order, with a problem for each that cannot be read (and for a folder without any).
    public func read() -> (files: [TrustConfigLoader.File], problems: [TrustConfigProblem]) {
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

    /// What identifies the folder's current content cheaply: its `*.yaml`/`*.yml` names and each file's
    /// stamp (following symlinks, so a Kubernetes ConfigMap's `..data` swap changes it).
    public func stamp() -> [String: String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        var stamps: [String: String] = [:]
        for name in names where (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) && !name.hasPrefix(".") {
            stamps[name] = FileStamp(path: path + "/" + name).map { "\($0)" } ?? "unreadable"
        }
        return stamps
    }

    /// The absolute path of a `jwks_file` named in this folder's config.
    public func resolve(_ file: String) -> String {
        file.hasPrefix("/") ? file : path + "/" + file
    }
}
