import ArgumentParser
import FoundationEssentials
import WIFSources

#if canImport(Glibc)
import Glibc
#endif

/// Options shared by the commands that read trust-config and the state folder. Each falls back to an
/// environment variable, then to the embedded default.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("trust-config"), help: "The trust-config folder (env WIF_TRUST_CONFIG; default: trust-config).")
    var trustConfig: String?

    @Option(name: .customLong("state-dir"), help: "wif's local state folder for generated keys (env WIF_STATE_DIR; default: .wif).")
    var stateDir: String?

    var trustConfigPath: String { trustConfig ?? environment("WIF_TRUST_CONFIG") ?? "trust-config" }
    var stateDirectory: StateDirectory { StateDirectory(path: stateDir ?? environment("WIF_STATE_DIR") ?? ".wif") }
}

func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}

/// A failure the command reports in one plain sentence.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
