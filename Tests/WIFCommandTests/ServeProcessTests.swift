import Foundation
import Testing
import WIFTesting

/// `wif serve` as a process: hot reload on SIGHUP and on a broken edit, seen in its log.
@Suite("wif serve as a process")
struct ServeProcessTests {
    /// Waits (bounded) until the file at `path` contains `text`.
    static func waitFor(_ text: String, in path: URL, seconds: Int = 30) async throws -> Bool {
        for _ in 0..<(seconds * 20) {
            if let data = try? Data(contentsOf: path), String(decoding: data, as: UTF8.self).contains(text) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test("SIGHUP reloads the trust-config; a broken edit is logged and the last good config keeps serving")
    func reloadOnSignal() async throws {
        let executable = try #require(WIFProcess.executable, "the wif executable was not found: run swift build --build-tests")
        let folder = try WIFProcess.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("trust-config")
        try FileManager.default.copyItem(at: WIFProcess.root.appendingPathComponent("trust-config"), to: config)
        try? FileManager.default.removeItem(at: config.appendingPathComponent("tests"))
        let port = try await LoopbackServer.reservePort()
        let log = folder.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "serve", "--port", "\(port)", "--trust-config", config.path, "--state-dir", folder.appendingPathComponent("state").path,
            "--audit-log", folder.appendingPathComponent("audit.log").path,
        ]
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            try? logHandle.close()
        }
        #expect(try await Self.waitFor("wif serving", in: log), "serve started")
        // SIGHUP before the reloader traps it would end the process: wait until it says it listens.
        #expect(try await Self.waitFor("SIGHUP reloads it", in: log), "the reloader traps SIGHUP")

        kill(process.processIdentifier, SIGHUP)
        #expect(try await Self.waitFor("trust-config reloaded", in: log), "reloaded on SIGHUP")
        #expect(try await Self.waitFor("reason=SIGHUP", in: log))

        try "policies: [".write(to: config.appendingPathComponent("zz-broken.yaml"), atomically: true, encoding: .utf8)
        #expect(try await Self.waitFor("trust-config not reloaded", in: log), "a broken edit is refused")
        #expect(process.isRunning, "serve keeps running on the last good config")

        process.terminate()
        for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "serve stops on SIGTERM")
    }
}
