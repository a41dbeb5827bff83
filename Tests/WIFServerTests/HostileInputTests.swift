import AsyncHTTPClient
import NIOHTTP1
import Synchronization
import Testing
import WIFCore
import WIFTesting

/// security-cases.md §2 against the real server over loopback: each case is one request to a fresh wif
/// trusting a real test issuer, and must be refused with the exact status, OAuth `error` and audit reason,
/// issue nothing, echo nothing, and cause no key fetch the case does not justify (§1.2).
///
/// Each section's cases run one after another, the sections side by side: every case starts its own issuer
/// and server, and hundreds at once would crowd out the timing-sensitive tests that run beside this suite.
@Suite("Hostile input over real HTTP (security-cases.md §2)")
struct HostileInputTests {
    @Suite("§2.A request shape", .serialized) struct RequestShape {
        @Test("refused", arguments: HostileCases.requestShape)
        func refused(_ hostile: HostileCase) async throws { try await HostileInputTests.run(hostile) }
    }

    @Suite("§2.B token envelope and encoding", .serialized) struct Envelope {
        @Test("refused", arguments: HostileCases.envelope)
        func refused(_ hostile: HostileCase) async throws { try await HostileInputTests.run(hostile) }
    }

    @Suite("§2.C algorithm and key selection", .serialized) struct Algorithms {
        @Test("refused", arguments: HostileCases.algorithms)
        func refused(_ hostile: HostileCase) async throws { try await HostileInputTests.run(hostile) }
    }

    @Suite("§2.C the issuer's JWKS: weak, wrong or ambiguous keys are dropped", .serialized) struct KeySets {
        @Test("refused", arguments: HostileCases.keySets)
        func refused(_ hostile: HostileCase) async throws { try await HostileInputTests.run(hostile) }
    }

    @Suite("§2.D time claims", .serialized) struct Time {
        @Test("refused", arguments: HostileCases.time)
        func refused(_ hostile: HostileCase) async throws { try await HostileInputTests.run(hostile) }
    }

    @Suite("§2.E issuer, audience, subject and type", .serialized) struct Identity {
        @Test("refused", arguments: HostileCases.identity)
        func refused(_ hostile: HostileCase) async throws { try await HostileInputTests.run(hostile) }
    }

    @Suite("§2.F policy pattern traps and claim confusion", .serialized) struct Policy {
        @Test("refused", arguments: HostileCases.policy)
        func refused(_ hostile: HostileCase) async throws { try await HostileInputTests.run(hostile) }
    }

    @Suite("§2.G what may be issued", .serialized) struct Grant {
        @Test("refused", arguments: HostileCases.grant)
        func refused(_ hostile: HostileCase) async throws { try await HostileInputTests.run(hostile) }
    }

    @Suite("D1: jwt-bearer and client_credentials share the pipeline, with their own error codes", .serialized) struct OtherGrants {
        @Test("refused", arguments: HostileCases.otherGrants)
        func refused(_ hostile: HostileCase) async throws { try await HostileInputTests.run(hostile) }
    }

    @Test("the suite covers well over 60 cases")
    func caseCount() {
        let all =
            HostileCases.requestShape + HostileCases.envelope + HostileCases.algorithms + HostileCases.keySets + HostileCases.time
            + HostileCases.identity
            + HostileCases.policy + HostileCases.grant + HostileCases.otherGrants
        #expect(all.count > 250)
        #expect(Set(all.map(\.name)).count == all.count, "case names are unique")
    }

    static func run(_ hostile: HostileCase) async throws {
        let attacker = hostile.usesAttacker ? try await TestIssuer.start(keys: [SharedKeys.otherRSA]) : nil
        do {
            try await ExchangeHarness.with { harness in
                let request = try await hostile.build(HostileContext(harness: harness, attacker: attacker))
                // A case may have set the stage with a real exchange (e.g. to obtain wif's own token).
                harness.auditBox.lines.withLock { $0.removeAll() }
                let before = harness.issuer.hits
                let answer = try await harness.send(
                    method: request.method,
                    path: request.path,
                    contentType: request.contentType,
                    headers: request.headers,
                    body: request.body
                )
                let record = harness.expectRefusal(answer, status: hostile.status, error: hostile.error, reason: hostile.reason)
                if hostile.status == 401 { #expect(answer.headers["WWW-Authenticate"].first == #"Basic realm="wif""#) }
                if hostile.status == 405 { #expect(answer.headers["Allow"].first == "POST") }

                let hits = Array(harness.issuer.hits.dropFirst(before.count))
                switch hostile.fetch {
                case .none:
                    #expect(hits.isEmpty, "refused before any key lookup: no fetch")
                    #expect(record?["subject"] == nil && record?["issuer"] == nil, "no identity recorded for an unverified token")
                case .initialOnly:
                    #expect(hits.count <= 2 && hits.allSatisfy { ["/.well-known/openid-configuration", "/jwks"].contains($0) }, "\(hits)")
                }
                if let attacker { #expect(attacker.hits.isEmpty, "nothing in a token makes wif contact another host") }
                let logged = String(decoding: (record ?? .null).serialized(), as: UTF8.self)
                for secret in request.secrets {
                    #expect(!answer.text.contains(secret), "the response never echoes the token")
                    #expect(!logged.contains(secret), "the audit log never holds the token")
                }
            }
        } catch {
            await attacker?.stop()
            throw error
        }
        await attacker?.stop()
    }
}
