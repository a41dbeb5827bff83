import AsyncHTTPClient
import Crypto
import Testing
import WIFCore
import WIFServer
import WIFTesting

/// The controls of the hostile suite: what security-cases.md says must still be *accepted*, so that the
/// refusals in ``HostileInputTests`` are refusals of the hostile part and not of everything near it.
@Suite("Hostile input: the near misses that must still succeed")
struct HostileControlTests {
    @Test("#16 unknown parameters are ignored: they change nothing in the issued token and are not echoed")
    func unknownParameters() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(
                try harness.validToken(),
                [("expires_in", "999999999"), ("lifetime", "31536000"), ("admin", "true"), ("foo", "bar")]
            )
            let claims = try await harness.issuedClaims(answer)
            #expect(answer.body["expires_in"] == 900)
            #expect(claims["exp"]?.numberValue == ExchangeHarness.now + 900)
            #expect(claims["admin"] == nil && claims["foo"] == nil)
            #expect(!answer.text.contains("999999999") && !answer.text.contains("bar"))
        }
    }

    @Test("#45 the high-S twin of a valid ES256 signature verifies like the original (not a forgery)")
    func highS() async throws {
        try await ExchangeHarness.with { harness in
            let token = try harness.validToken(key: SharedKeys.issuerEC)
            let parts = token.split(separator: ".").map(String.init)
            let signature = try #require(Base64URL.decode(parts[2]))
            let s = Array(signature[32...])
            let twin = Array(signature[..<32]) + BigEndian.subtract(BigEndian.p256Order, s)
            #expect(twin != signature)
            let answer = try await harness.exchange(parts[0] + "." + parts[1] + "." + Base64URL.encode(twin))
            _ = try await harness.issuedClaims(answer)
        }
    }

    @Test("#53 a fractional exp is valid and the issued lifetime is a whole number of seconds within it")
    func fractionalExpiry() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(["exp": .number(ExchangeHarness.now + 120.9)]))
            let claims = try await harness.issuedClaims(answer)
            #expect(answer.body["expires_in"] == 120)
            #expect(try #require(claims["exp"]?.numberValue) <= ExchangeHarness.now + 120.9)
        }
    }

    @Test("#63 a token for several audiences is accepted when one of them is wif's")
    func multiAudience() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken(["aud": ["other-svc", "wif"]]))
            _ = try await harness.issuedClaims(answer)
        }
    }

    @Test(
        "#68 #70 the pattern-trap policies do admit the subjects they were written for",
        arguments: [
            ("system:serviceaccount:rx:main", "https://regex.internal"),
            ("system:serviceaccount:rx:develop", "https://regex.internal"),
            ("system:serviceaccount:globs:app", "https://glob.internal"),
            ("system:serviceaccount:globs:app-1", "https://glob.internal"),
        ]
    )
    func trapPoliciesAdmit(_ subject: String, _ audience: String) async throws {
        try await ExchangeHarness.with { harness in
            try HostileCases.withTrapPolicies(HostileContext(harness: harness, attacker: nil))
            let token = try harness.workloadToken(namespace: "traps", serviceAccount: "x", key: SharedKeys.issuerRSA, ["sub": .string(subject)])
            let claims = try await harness.issuedClaims(try await harness.exchange(token))
            #expect(claims["aud"]?.stringValue == audience)
        }
    }

    @Test("#42 a flood of unknown kids costs at most one refresh beyond the first fetch, and valid tokens still pass")
    func unknownKidFlood() async throws {
        try await ExchangeHarness.with { harness in
            _ = try await harness.issuedClaims(try await harness.exchange(try harness.validToken()))
            let context = HostileContext(harness: harness, attacker: nil)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let token = try context.raw(header: HostileContext.header(kid: "random-\(index)"))
                        return try await harness.exchange(token).status
                    }
                }
                for try await status in group { #expect(status == 400) }
            }
            #expect(harness.issuer.hits.filter { $0 == "/jwks" }.count <= 2, "\(harness.issuer.hits)")
            _ = try await harness.issuedClaims(try await harness.exchange(try harness.validToken()))
        }
    }
}
