import Foundation
import Logging
import Synchronization
import Testing
import WIFCore
import WIFServer
import WIFSources
import WIFTesting

@Suite("Trust-config hot reload")
struct ReloadTests {
    /// The harness's trust-config in a folder a reloader watches, with a policy admitting `extra` (a
    /// service account of namespace payments) when given, and a comment that makes each version distinct.
    static func write(_ harness: ExchangeHarness, to folder: URL, version: Int, extra: String? = nil) throws {
        var yaml = "# version \(version)\n" + ExchangeHarness.trustConfigYAML(issuerURL: harness.issuer.issuerURL)
        if let extra {
            yaml += """

                  - name: reloaded-\(extra)
                    issuer: cluster
                    conditions:
                      - claim: sub
                        equals: system:serviceaccount:payments:\(extra)
                    grant:
                      audiences: [https://ledger.internal]
                      scopes: [ledger.read]
                """
        }
        let staged = folder.appendingPathComponent(".staged")
        try yaml.write(to: staged, atomically: false, encoding: .utf8)
        guard rename(staged.path, folder.appendingPathComponent("config.yaml").path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    static func reloader(_ harness: ExchangeHarness, folder: URL) -> TrustConfigReloader {
        let directory = TrustConfigDirectory(path: folder.path)
        var logger = Logger(label: "wif-test")
        logger.logLevel = .critical
        return TrustConfigReloader(
            live: harness.live,
            interval: .milliseconds(20),
            handleSignals: false,
            logger: logger,
            stamp: { directory.stamp() },
            load: { try directory.load() }
        )
    }

    @Test("20 reloads under a bounded load: every request that should succeed does; a broken edit changes nothing")
    func reloadUnderLoad() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await ExchangeHarness.with { harness in
            try Self.write(harness, to: folder, version: 0)
            let reloader = Self.reloader(harness, folder: folder)
            let token = try harness.validToken()
            let done = Flag()
            let completed = Tally()
            let load = Task {
                try await withThrowingTaskGroup(of: [Int].self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            var statuses: [Int] = []
                            while !done.value.withLock({ $0 }) {
                                statuses.append(try await harness.exchange(token).status)
                                completed.count.withLock { $0 += 1 }
                            }
                            return statuses
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            for version in 1...20 {
                try Self.write(harness, to: folder, version: version, extra: version.isMultiple(of: 2) ? "billing-\(version)" : nil)
                #expect(reloader.reload(reason: "test"), "reload \(version)")
                // Let the load run on this config before the next reload (bounded: the suite shares 2 cores).
                let target = completed.count.withLock { $0 } + 4
                for _ in 0..<1_000 where completed.count.withLock({ $0 }) < target { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(harness.live.generation == 21)
            // A broken edit: logged, not served.
            try "issuers: [ {name: broken".write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
            #expect(reloader.reload(reason: "test") == false)
            #expect(harness.live.generation == 21)
            done.value.withLock { $0 = true }
            let statuses = try await load.value
            #expect(statuses.count > 20, "the load ran across the reloads (\(statuses.count) requests)")
            #expect(statuses.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
            // The last good config (version 20) serves: its extra policy admits billing-20.
            let admitted = try await harness.exchange(try harness.workloadToken(namespace: "payments", serviceAccount: "billing-20"))
            #expect(admitted.status == 200, "\(admitted.text)")
        }
    }

    @Test("the watcher notices a changed file in the folder and reloads it")
    func watcherNoticesChange() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await ExchangeHarness.with { harness in
            try Self.write(harness, to: folder, version: 0)
            let watcher = Task { try await Self.reloader(harness, folder: folder).run() }
            defer { watcher.cancel() }
            try await Task.sleep(for: .milliseconds(100))
            try Self.write(harness, to: folder, version: 1, extra: "watched")
            // Bounded generously: the whole suite shares two cores.
            for _ in 0..<3_000 where harness.live.generation < 2 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(harness.live.generation == 2)
            let admitted = try await harness.exchange(try harness.workloadToken(namespace: "payments", serviceAccount: "watched"))
            #expect(admitted.status == 200)
        }
    }

    @Test("a reload changes the decision for new requests: a policy added is used, one removed is gone")
    func reloadChangesDecision() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await ExchangeHarness.with { harness in
            let reloader = Self.reloader(harness, folder: folder)
            let newcomer = try harness.workloadToken(namespace: "payments", serviceAccount: "newcomer")
            #expect(try await harness.exchange(newcomer).status == 400)
            try Self.write(harness, to: folder, version: 1, extra: "newcomer")
            #expect(reloader.reload(reason: "test"))
            #expect(try await harness.exchange(newcomer).status == 200)
            try Self.write(harness, to: folder, version: 2)
            #expect(reloader.reload(reason: "test"))
            #expect(try await harness.exchange(newcomer).status == 400)
            try "policies: 7".write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
            #expect(reloader.reload(reason: "test") == false)
            #expect(harness.live.generation == 3)
            #expect(try await harness.exchange(try harness.validToken()).status == 200)
        }
    }
}

final class Tally: Sendable {
    let count = Mutex(0)
}
