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

    /// A running `wif serve` (or any long-running wif command), its output in a log file.
    final class Background {
        let process = Process()
        let log: URL

        init(_ arguments: [String], log: URL) throws {
            let executable = try #require(WIFProcess.executable, "the wif executable was not found: run swift build --build-tests")
            self.log = log
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            handle.seekToEndOfFile()
            process.executableURL = executable
            process.arguments = arguments
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        func stop() async throws {
            if process.isRunning { process.terminate() }
            for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        }

        deinit { if process.isRunning { process.terminate() } }
    }

    /// Polls `condition` every 50 ms for at most `seconds`.
    static func eventually(seconds: Double = 20, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }
}
