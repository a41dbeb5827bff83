public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to completion, for ``CommandTokenProvider`` and the command and interop tests: output and
/// errors captured through files (no pipe can fill up), standard input from `input` (or nothing), and the
/// wait done without blocking a thread of the cooperative pool (a server in the same process needs those
/// threads).
public enum ChildProcess {
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
        public let errorText: String
        /// The program was still running at the deadline and was terminated (SIGTERM, then SIGKILL).
        public let timedOut: Bool
    }

    /// Runs `executable ARGUMENTS` with the current environment plus `environment` (a nil value removes a
    /// variable), terminating it if it runs longer than `timeout`.
    public static func run(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String?] = [:],
        currentDirectory: URL? = nil,
        input: String? = nil,
        timeout: Duration? = nil
    ) async throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (name, value) in environment { merged[name] = value }
        process.environment = merged
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
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
        var watchdog: Task<Bool, Never>?
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            do {
                try process.run()
                if let timeout { watchdog = terminate(process.processIdentifier, after: timeout) }
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        watchdog?.cancel()
        let timedOut = await watchdog?.value ?? false
        try outHandle.close()
        try errHandle.close()
        try inHandle.close()
        return Result(
            status: status,
            output: String(decoding: try Data(contentsOf: out), as: UTF8.self),
            errorText: String(decoding: try Data(contentsOf: err), as: UTF8.self),
            timedOut: timedOut
        )
    }

    /// Sends SIGTERM at `timeout` and SIGKILL two seconds later, to the program's whole process group (it
    /// leads one): the program is not seen to end while a child of it, such as a shell's command, still
    /// runs. True when it had to. Cancelled when the program ends first.
    private static func terminate(_ pid: Int32, after timeout: Duration) -> Task<Bool, Never> {
        Task {
            do { try await Task.sleep(for: timeout) } catch { return false }
            kill(-pid, SIGTERM)
            do { try await Task.sleep(for: .seconds(2)) } catch { return true }
            kill(-pid, SIGKILL)
            return true
        }
    }
}
