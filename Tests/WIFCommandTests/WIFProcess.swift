import Foundation
import Testing
import WIFTesting

/// Runs the built `wif` executable as a child process, as a user or CI would.
enum WIFProcess {
    /// The repository root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `wif` executable beside this test bundle in the build folder (`swift build --build-tests` builds it).
    static let executable: URL? = {
        var folder = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            guard let current = folder else { break }
            let candidate = current.appendingPathComponent("wif")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = current.deletingLastPathComponent()
        }
        let fallback = root.appendingPathComponent(".build/debug/wif")
        return FileManager.default.isExecutableFile(atPath: fallback.path) ? fallback : nil
    }()

    /// Runs `wif ARGUMENTS` in the repository root, with `input` on standard input.
    static func run(_ arguments: [String], input: String? = nil) async throws -> ChildProcess.Result {
        let executable = try #require(executable, "the wif executable was not found next to the test bundle: run swift build --build-tests")
        return try await ChildProcess.run(
            executable,
            arguments,
            environment: ["WIF_TRUST_CONFIG": nil, "WIF_STATE_DIR": nil, "WIF_ISSUER_URL": nil],
            currentDirectory: root,
            input: input
        )
    }

    /// A new empty folder under the system's temporary folder.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-command-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
