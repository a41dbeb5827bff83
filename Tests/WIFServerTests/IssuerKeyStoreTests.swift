import AsyncHTTPClient
import Foundation
import Logging
import MetricsTestKit
import Testing
import WIFCore
import WIFSources
import WIFTesting

/// The issuer-key store against a real local issuer over HTTP that a test makes slow, failing, rotating or
/// hostile, with an injected clock.
@Suite("Issuer keys: caching, refresh, outages and limits")
struct IssuerKeyStoreTests {
    static let keyA = TestKey.p256(keyID: "key-a")
    static let keyB = TestKey.p256(keyID: "key-b")

    /// A running issuer, a store with a fixed clock, and helpers to ask for keys.
    final class Setup: Sendable {
        let issuer: TestIssuer
        let client: HTTPClient
        let clock: FixedClock
        let store: IssuerKeyStore

        let metrics = TestMetrics()

        init(keys: [TestKey], limits: IssuerKeyStore.Limits = .init(), folder: TrustConfigDirectory? = nil) async throws {
            issuer = try await TestIssuer.start(keys: keys)
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
            clock = FixedClock(ExchangeHarness.now)
            var logger = Logger(label: "wif-test")
            logger.logLevel = .critical
            store = IssuerKeyStore(
                httpClient: client,
                trustConfigFolder: folder,
                development: nil,
                clock: clock,
                limits: limits,
                logger: logger,
                metrics: metrics
            )
        }

        func trusted(
            _ source: TrustedIssuer.KeySource = .discovery,
            cache: KeyCachePolicy = KeyCachePolicy(),
            pinned: String? = nil
        ) -> TrustedIssuer {
            TrustedIssuer(
                name: "cluster",
                issuer: issuer.issuerURL,
                keySource: source,
                audiences: ["wif"],
                algorithms: [.es256],
                allowInsecureLoopback: true,
                pinnedKeysFile: pinned,
                keyCache: cache
            )
        }

        func keyIDs(_ trusted: TrustedIssuer, kid: String? = "key-a") async throws -> [String] {
            try await store.keys(for: trusted, keyID: kid).keys.compactMap(\.keyID).sorted()
        }

        func jwksHits() -> Int { issuer.hits.filter { $0 == "/jwks" }.count }

        /// Waits (bounded) until `condition` holds, for work the store runs in the background.
        func eventually(_ condition: () -> Bool) async throws -> Bool {
            for _ in 0..<100 {
                if condition() { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return condition()
        }

        func stop() async {
            await issuer.stop()
            try? await client.shutdown()
        }
    }

    static func with(keys: [TestKey] = [keyA], limits: IssuerKeyStore.Limits = .init(), _ body: (Setup) async throws -> Void) async throws {
        let setup = try await Setup(keys: keys, limits: limits)
        do {
            try await body(setup)
        } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    @Test("keys are fetched once and shared: 100 concurrent requests cause one fetch")
    func singleFlight() async throws {
        try await Self.with { (setup) async throws in
            let trusted = setup.trusted()
            try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<100 { group.addTask { try await setup.keyIDs(trusted) } }
                for try await ids in group { #expect(ids == ["key-a"]) }
            }
            #expect(setup.issuer.hits == ["/.well-known/openid-configuration", "/jwks"])
        }
    }

    @Test("a due refresh never holds a request: cached keys answer at once and the refresh runs behind")
    func backgroundRefresh() async throws {
        try await Self.with { (setup) async throws in
            let trusted = setup.trusted()
            _ = try await setup.keyIDs(trusted)
            setup.clock.advance(by: 301)
            setup.issuer.trickleJWKS(true)
            let started = ContinuousClock.now
            #expect(try await setup.keyIDs(trusted) == ["key-a"])
            #expect(ContinuousClock.now - started < .milliseconds(500))
            #expect(try await setup.eventually { setup.jwksHits() == 2 }, "the refresh started")
        }
    }

    @Test(
        "Cache-Control max-age sets the schedule, clamped to min_refresh and max_refresh",
        arguments: [
            ("max-age=120", 120), ("max-age=5", 60), ("public, max-age=999999", 3600), ("no-store", 60), (nil, 300), ("public,=", 300), ("=", 300),
        ] as [(String?, Int)]
    )
    func cacheControl(header: String?, interval: Int) async throws {
        try await Self.with { (setup) async throws in
            setup.issuer.cacheControl(header)
            let trusted = setup.trusted(.jwksURL(setup.issuer.jwksURL))
            _ = try await setup.keyIDs(trusted)
            setup.clock.advance(by: Double(interval - 1))
            await setup.store.maintain([trusted])
            #expect(setup.jwksHits() == 1, "not due before \(interval) s")
            setup.clock.advance(by: 2)
            await setup.store.maintain([trusted])
            #expect(setup.jwksHits() == 2, "due after \(interval) s")
        }
    }

    @Test("a flood of 1,000 tokens with random kids causes at most one fetch per interval")
    func randomKidFlood() async throws {
        try await Self.with { (setup) async throws in
            let trusted = setup.trusted()
            _ = try await setup.keyIDs(trusted)
            for round in 1...2 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<1_000 {
                        group.addTask { _ = try await setup.store.keys(for: trusted, keyID: UUID().uuidString) }
                    }
                    try await group.waitForAll()
                }
                #expect(setup.jwksHits() == 1 + round, "round \(round)")
                setup.clock.advance(by: 31)
            }
        }
    }

    @Test("a new kid is found by one refresh; a removed key is gone after it")
    func rotationByUnknownKid() async throws {
        try await Self.with { (setup) async throws in
            let trusted = setup.trusted()
            #expect(try await setup.keyIDs(trusted) == ["key-a"])
            setup.issuer.publish([Self.keyB])
            #expect(try await setup.keyIDs(trusted, kid: "key-b") == ["key-b"])
            #expect(setup.jwksHits() == 2)
        }
    }

    @Test("an outage: the last good keys serve for max_stale with backoff between retries, then 503; recovery")
    func outage() async throws {
        var limits = IssuerKeyStore.Limits()
        limits.retryDelay = 5
        try await Self.with(limits: limits) { (setup) async throws in
            let trusted = setup.trusted(cache: KeyCachePolicy(maxStale: 3600))
            _ = try await setup.keyIDs(trusted)
            #expect(await setup.store.status(of: [trusted]).first?.state == .fresh)
            setup.issuer.fail(with: 503)

            setup.clock.advance(by: 301)
            await setup.store.maintain([trusted])
            #expect(setup.jwksHits() == 1, "discovery failed first")
            #expect(try await setup.keyIDs(trusted) == ["key-a"], "stale keys serve")
            #expect(await setup.store.status(of: [trusted]).first?.state == .stale)

            // Backoff: 5 s, then 10 s between attempts.
            let discoveryHits = { setup.issuer.hits.filter { $0.hasPrefix("/.well-known") }.count }
            let before = discoveryHits()
            setup.clock.advance(by: 4)
            await setup.store.maintain([trusted])
            #expect(discoveryHits() == before, "no retry before the backoff")
            setup.clock.advance(by: 2)
            await setup.store.maintain([trusted])
            #expect(discoveryHits() == before + 1)
            setup.clock.advance(by: 9)
            await setup.store.maintain([trusted])
            #expect(discoveryHits() == before + 1, "the second wait is 10 s")

            // Past max_stale after the last good fetch: unavailable.
            setup.clock.advance(by: 3600)
            await #expect(throws: ExchangeError(.issuerKeysUnavailable, "")) { try await setup.keyIDs(trusted) }
            #expect(await setup.store.status(of: [trusted]).first?.state == .unavailable)

            // Recovery once the issuer answers and the backoff allows.
            setup.issuer.fail(with: nil)
            setup.clock.advance(by: 301)
            #expect(try await setup.keyIDs(trusted) == ["key-a"])
            #expect(await setup.store.status(of: [trusted]).first?.state == .fresh)
        }
    }

    @Test("fetches by result, keys per issuer, usability and last fetch time are reported as metrics")
    func metrics() async throws {
        try await Self.with { (setup) async throws in
            let trusted = setup.trusted()
            _ = try await setup.keyIDs(trusted)
            setup.issuer.fail(with: 503)
            setup.clock.advance(by: 301)
            await setup.store.maintain([trusted])
            let fetches = { (result: String) in
                try setup.metrics.expectCounter("wif_jwks_fetches_total", [("issuer", "cluster"), ("result", result)]).totalValue
            }
            #expect(try fetches("success") == 1)
            #expect(try fetches("failure") == 1)
            #expect(try setup.metrics.expectGauge("wif_issuer_keys", [("issuer", "cluster")]).lastValue == 1)
            #expect(try setup.metrics.expectGauge("wif_issuer_keys_usable", [("issuer", "cluster")]).lastValue == 1)
            let fetchedAt = try setup.metrics.expectGauge("wif_issuer_keys_last_fetch_timestamp_seconds", [("issuer", "cluster")]).lastValue
            #expect(fetchedAt == ExchangeHarness.now)
        }
    }

    @Test("with no keys and a failing source, requests fail fast until the backoff allows a retry")
    func failFast() async throws {
        try await Self.with { (setup) async throws in
            setup.issuer.fail(with: 500)
            let trusted = setup.trusted()
            await #expect(throws: ExchangeError(.issuerKeysUnavailable, "")) { try await setup.keyIDs(trusted) }
            for _ in 0..<20 {
                await #expect(throws: ExchangeError(.issuerKeysUnavailable, "")) { try await setup.keyIDs(trusted) }
            }
            #expect(setup.issuer.hits.count == 1, "one attempt until the retry delay passes")
        }
    }

    @Test("pinned keys serve beside discovered ones, through an outage, and win a kid clash")
    func pinnedKeys() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-pinned-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pinned = TestKey.p256(keyID: "pinned")
        let clash = TestKey.p256(keyID: "key-a")
        let file = folder.appendingPathComponent("pinned.json")
        try Data(JSONValue.object(["keys": .array([pinned.publicJWK, clash.publicJWK])]).serialized()).write(to: file)
        try await Self.with { (setup) async throws in
            let trusted = setup.trusted(cache: KeyCachePolicy(maxStale: 600), pinned: file.path)
            let keys = try await setup.store.keys(for: trusted, keyID: "pinned")
            #expect(keys.keys.compactMap(\.keyID).sorted() == ["key-a", "pinned"])
            // The pinned key-a (clash) is the one used, not the discovered one.
            let chosen = try #require(keys.key(for: "key-a"))
            let input = Array("header.payload".utf8)
            let byPinned = try clash.sign(input)
            let byDiscovered = try Self.keyA.sign(input)
            #expect(chosen.isValidSignature(byPinned, over: input, algorithm: .es256))
            #expect(!chosen.isValidSignature(byDiscovered, over: input, algorithm: .es256))

            setup.issuer.fail(with: 503)
            setup.clock.advance(by: 10_000)
            #expect(try await setup.keyIDs(trusted, kid: "pinned") == ["key-a", "pinned"])
            #expect(await setup.store.status(of: [trusted]).first?.state == .stale)

            // A file that does not parse keeps the last good pin; one emptied of keys pins nothing.
            try Data("{\"keys\": [".utf8).write(to: file)
            await setup.store.maintain([trusted])
            #expect(try await setup.keyIDs(trusted, kid: "pinned") == ["key-a", "pinned"])
            try Data(#"{"keys": []}"#.utf8).write(to: file)
            await setup.store.maintain([trusted])
            await #expect(throws: ExchangeError(.issuerKeysUnavailable, "")) { try await setup.keyIDs(trusted, kid: "pinned") }
        }
    }

    @Test(
        "one redirect is followed within the same origin; never two, never to another scheme, host or port",
        arguments: [
            ("/moved/jwks", true), ("/moved/twice", false), ("/moved/loop", false), ("/moved/https", false),
        ]
    )
    func redirects(path: String, follows: Bool) async throws {
        try await Self.with { (setup) async throws in
            let trusted = setup.trusted(.jwksURL(setup.issuer.issuerURL + path))
            if follows {
                #expect(try await setup.keyIDs(trusted) == ["key-a"])
            } else {
                await #expect(throws: ExchangeError(.issuerKeysUnavailable, "")) { try await setup.keyIDs(trusted) }
                #expect(setup.jwksHits() == 0)
            }
            if path == "/moved/loop" { #expect(setup.issuer.hits.count == 2, "the first request and one redirect") }
        }
    }

    @Test("an issuer a reload removed is forgotten: added again, its keys are fetched afresh")
    func prunedOnReload() async throws {
        try await Self.with { (setup) async throws in
            let trusted = setup.trusted()
            _ = try await setup.keyIDs(trusted)
            await setup.store.maintain([])
            #expect(await setup.store.status(of: [trusted]).first?.state == .pending)
            setup.issuer.publish([Self.keyB])
            #expect(try await setup.keyIDs(trusted, kid: "key-b") == ["key-b"])
            #expect(setup.jwksHits() == 2)
        }
    }

    @Test("a discovery document naming another issuer is refused, and its jwks_uri never fetched")
    func discoveryIssuerMismatch() async throws {
        try await Self.with { (setup) async throws in
            let trusted = TrustedIssuer(
                name: "cluster",
                issuer: setup.issuer.issuerURL + "/",
                keySource: .discovery,
                audiences: ["wif"],
                algorithms: [.es256],
                allowInsecureLoopback: true
            )
            await #expect(throws: ExchangeError(.issuerKeysUnavailable, "")) { try await setup.keyIDs(trusted) }
            #expect(setup.jwksHits() == 0)
        }
    }

    @Test("a JWKS file is re-read when a symlink swap changes it")
    func fileSwap() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-jwks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, key) in [("a.json", Self.keyA), ("b.json", Self.keyB)] {
            try Data(JSONValue.object(["keys": [key.publicJWK]]).serialized()).write(to: folder.appendingPathComponent(name))
        }
        let link = folder.appendingPathComponent("cluster-jwks.json")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "a.json")
        try await Self.with { (setup) async throws in
            let trusted = setup.trusted(.jwksFile(link.path))
            #expect(try await setup.keyIDs(trusted) == ["key-a"])
            // As kubelet updates a mounted ConfigMap: a new target, then an atomic rename of the link.
            let staged = folder.appendingPathComponent("next-link")
            try FileManager.default.createSymbolicLink(atPath: staged.path, withDestinationPath: "b.json")
            #expect(rename(staged.path, link.path) == 0)
            await setup.store.maintain([trusted])
            #expect(try await setup.keyIDs(trusted, kid: "key-b") == ["key-b"])
            #expect(setup.issuer.hits.isEmpty, "a file source fetches nothing")
        }
    }
}
