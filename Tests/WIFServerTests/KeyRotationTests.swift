import NIOHTTP1
import Synchronization
import Testing
import WIFCore
import WIFTesting

@Suite("Issuer key rotation and readiness over real HTTP")
struct KeyRotationTests {
    /// One answer of the load: which key signed the token, whether it started after wif had accepted the
    /// new key once, and what came back.
    struct Outcome {
        let newKey: Bool
        let afterRotationSeen: Bool
        let status: Int
        let error: String?
    }

    @Test("rotating the issuer's key under a bounded load: zero wrong answers, one refresh")
    func rotationUnderLoad() async throws {
        try await ExchangeHarness.with { harness in
            let newKey = TestKey.p256(keyID: "cluster-ec-2")
            let oldToken = try harness.validToken(key: SharedKeys.issuerEC)
            let newToken = try harness.validToken(key: newKey)
            // Before the rotation: 8 workers × 25 exchanges, all granted on one fetch.
            let warm = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<8 {
                    group.addTask { try await (0..<25).asyncMap { _ in try await harness.exchange(oldToken).status } }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(warm.count == 200 && warm.allSatisfy { $0 == 200 })

            // The issuer replaces its key; the load goes on with tokens of both keys. A slow JWKS makes the
            // first new-kid requests overlap the refresh they trigger.
            harness.issuer.publish([newKey])
            harness.issuer.delayJWKS(.milliseconds(300))
            let seen = Flag()
            let outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var results: [Outcome] = []
                        for index in 0..<30 {
                            let useNew = (worker + index) % 2 == 0
                            let after = seen.value.withLock { $0 }
                            let answer = try await harness.exchange(useNew ? newToken : oldToken)
                            if useNew, answer.status == 200 { seen.value.withLock { $0 = true } }
                            results.append(
                                Outcome(newKey: useNew, afterRotationSeen: after, status: answer.status, error: answer.body["error"]?.stringValue)
                            )
                        }
                        return results
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(outcomes.count == 240)
            #expect(outcomes.filter(\.newKey).allSatisfy { $0.status == 200 }, "every token of the new key is granted")
            let oldAfter = outcomes.filter { !$0.newKey && $0.afterRotationSeen }
            #expect(!oldAfter.isEmpty)
            #expect(oldAfter.allSatisfy { $0.status == 400 && $0.error == "invalid_request" }, "the removed key is refused once the new set is known")
            #expect(outcomes.allSatisfy { $0.status < 500 }, "no 5xx")
            #expect(harness.issuer.hits.filter { $0 == "/jwks" }.count == 2, "one fetch at start, one refresh for the new kid")
            let refusals = harness.audit.filter { $0["outcome"] == "denied" }
            #expect(refusals.allSatisfy { $0["reason"] == "key_not_found" })
        }
    }

    @Test("/readyz names each issuer's state: fresh once fetched, unavailable after an outage outlives max_stale")
    func readiness() async throws {
        try await ExchangeHarness.with(refresher: true) { harness in
            var ready = try await harness.send(method: .GET, path: "/readyz", contentType: nil, body: "")
            for _ in 0..<50 where ready.body["issuers"]?["cluster"]?["state"] != "fresh" {
                try await Task.sleep(for: .milliseconds(50))
                ready = try await harness.send(method: .GET, path: "/readyz", contentType: nil, body: "")
            }
            #expect(ready.status == 200)
            #expect(ready.body["status"] == "ready")
            #expect(ready.body["issuers"]?["cluster"]?["state"] == "fresh")
            #expect(ready.body["issuers"]?["cluster"]?["keys"] == 2)

            harness.issuer.fail(with: 503)
            harness.clock.advance(by: Double(KeyCachePolicy.defaults.maxStale) + 1)
            var notReady = try await harness.send(method: .GET, path: "/readyz", contentType: nil, body: "")
            for _ in 0..<50 where notReady.status != 503 {
                try await Task.sleep(for: .milliseconds(50))
                notReady = try await harness.send(method: .GET, path: "/readyz", contentType: nil, body: "")
            }
            #expect(notReady.status == 503)
            #expect(notReady.body["issuers"]?["cluster"]?["state"] == "unavailable")
            let answer = try await harness.exchange(try harness.validToken())
            #expect(answer.status == 503)
            #expect(answer.body["error"] == "temporarily_unavailable")
        }
    }

    @Test(
        "readiness: one usable issuer is enough; none usable is not ready",
        arguments: [
            ([], true), ([.fresh], true), ([.unavailable, .stale], true), ([.unavailable, .pending], false), ([.pending], false),
            ([.unavailable], false),
        ] as [([IssuerKeyStatus.State], Bool)]
    )
    func readinessRule(states: [IssuerKeyStatus.State], ready: Bool) {
        let statuses = states.enumerated().map { IssuerKeyStatus(issuer: "i\($0)", state: $1, keyCount: 0, ageSeconds: nil, failures: 0) }
        #expect(IssuerKeyStatus.isReady(statuses) == ready)
    }
}

final class Flag: Sendable {
    let value = Mutex(false)
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
