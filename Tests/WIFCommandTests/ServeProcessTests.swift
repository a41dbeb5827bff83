import Foundation
import Testing
import WIFTesting

/// `wif serve` as a process: hot reload on SIGHUP and on a broken edit, seen in its log.
@Suite("wif serve as a process")
struct ServeProcessTests {
    @Test("SIGHUP reloads the trust-config; a broken edit is logged and the last good config keeps serving")
    func reloadOnSignal() async throws {
        let folder = try WIFProcess.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("trust-config")
        try FileManager.default.copyItem(at: WIFProcess.root.appendingPathComponent("trust-config"), to: config)
        try? FileManager.default.removeItem(at: config.appendingPathComponent("tests"))
        let port = try await LoopbackServer.reservePort()
        let server = try WIFProcess.Background(
            [
                "serve", "--port", "\(port)", "--trust-config", config.path, "--state-dir", folder.appendingPathComponent("state").path,
                "--audit-log", folder.appendingPathComponent("audit.log").path,
            ],
            log: folder.appendingPathComponent("serve.log")
        )
        func logged(_ text: String) async throws -> Bool { try await WIFProcess.eventually(seconds: 30) { server.output.contains(text) } }
        #expect(try await logged("wif serving"), "serve started")
        // SIGHUP before the reloader traps it would end the process: wait until it says it listens.
        #expect(try await logged("SIGHUP reloads it"), "the reloader traps SIGHUP")

        kill(server.process.processIdentifier, SIGHUP)
        #expect(try await logged("trust-config reloaded"), "reloaded on SIGHUP")
        #expect(try await logged("reason=SIGHUP"))

        try "policies: [".write(to: config.appendingPathComponent("zz-broken.yaml"), atomically: true, encoding: .utf8)
        #expect(try await logged("trust-config not reloaded"), "a broken edit is refused")
        #expect(server.process.isRunning, "serve keeps running on the last good config")

        try await server.stop()
        #expect(!server.process.isRunning, "serve stops on SIGTERM")
    }
}
