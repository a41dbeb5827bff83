import Foundation
import Testing

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

    struct Run: Sendable {
        let status: Int32
        let output: String
        let errorText: String
    }

    /// Runs `wif ARGUMENTS` in the repository root, with `input` on standard input.
    static func run(_ arguments: [String], input: String? = nil) async throws -> Run {
        let executable = try #require(executable, "the wif executable was not found next to the test bundle: run swift build --build-tests")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = root
        var environment = ProcessInfo.processInfo.environment
        environment["WIF_TRUST_CONFIG"] = nil
        environment["WIF_STATE_DIR"] = nil
        environment["WIF_ISSUER_URL"] = nil
        process.environment = environment
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out")
        let err = folder.appendingPathComponent("err")
        let inFile = folder.appendingPathComponent("in")
        try (input ?? "").write(to: inFile, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        let inHandle = try FileHandle(forReadingFrom: inFile)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try outHandle.close()
        try errHandle.close()
        try inHandle.close()
        return Run(
            status: status,
            output: String(decoding: try Data(contentsOf: out), as: UTF8.self),
            errorText: String(decoding: try Data(contentsOf: err), as: UTF8.self)
        )
    }

    /// A new empty folder under the system's temporary folder.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-command-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
