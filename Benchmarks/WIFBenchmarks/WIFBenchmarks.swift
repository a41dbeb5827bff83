import Benchmark
import Foundation
import WIFCore
import WIFTesting

// Micro-benchmarks of the exchange path's parts, with allocation counts (ordo-one/benchmark). Kept out of
// the build and the tests: run them with
//
//   WIF_BENCHMARKS=1 swift package benchmark --target WIFBenchmarks
//
// docs/performance.md has the results and how they relate to `wif bench`.

/// One RSA-signed subject token, its issuer and keys, and trust-configs of several sizes.
struct World: Sendable {
    static let now = Date().timeIntervalSince1970.rounded(.down)
    let issuer: TrustedIssuer
    let keys: JWKSet
    let token: String
    let form: [UInt8]
    let verified: VerifiedToken
    let request: ExchangeRequest

    init() {
        let key = try! TestKey.rsa(keyID: "bench")
        issuer = TrustedIssuer(
            name: "cluster",
            issuer: "https://issuer.bench",
            keySource: .jwksURL("https://issuer.bench/jwks"),
            audiences: ["wif"],
            algorithms: [.rs256],
            maxTokenLifetime: 24 * 3600,
            leeway: 60
        )
        keys = try! JWKSet.parse(JSONValue.object(["keys": [key.publicJWK]]).serialized())
        let claims: JSONValue = [
            "iss": "https://issuer.bench", "sub": "system:serviceaccount:bench:svc-0", "aud": ["wif"], "iat": .number(Self.now),
            "nbf": .number(Self.now), "exp": .number(Self.now + 3600), "jti": "0f6b0b9e-1c6f-4f0e-8a55-2c9f6f0d9d11",
        ]
        token = try! TokenFactory.token(claims: claims, key: key)
        let pairs: [(name: String, value: String)] = [
            ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token_type", TokenTypeURI.jwt), ("subject_token", token),
            ("audience", "https://bench.internal"),
        ]
        form = Array(FormBody(pairs: pairs).encoded.utf8)
        request = try! ExchangeRequest(form: FormBody(pairs: pairs))
        verified = try! UnverifiedToken(parsing: token).verify(issuer: issuer, keys: keys, now: Self.now)
    }

    /// `count` policies; the token's (svc-0) is the last, so every other one is passed over. `keyed` uses
    /// `sub equals` (indexed); otherwise a glob each, which the index cannot key.
    func policies(_ count: Int, keyed: Bool) -> IssuerPolicies {
        IssuerPolicies(
            (0..<count).map { index in
                let subject = "system:serviceaccount:bench:svc-\(count - 1 - index)"
                let matcher: ClaimCondition.Matcher = keyed ? .equals(.string(subject)) : .glob(GlobPattern(subject))
                return TrustPolicy(
                    name: "svc-\(index)",
                    issuer: "cluster",
                    conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: matcher)],
                    grant: .init(audiences: ["https://bench.internal"], scopes: ["read"], maxLifetime: 900, clientID: "svc-\(index)")
                )
            }
        )
    }
}

let benchmarks: @Sendable () -> Void = {
    let world = World()
    let configuration = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(3))

    Benchmark("form: parse the /token body into a request", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ExchangeRequest(form: FormBody(parsing: world.form)))
        }
    }

    Benchmark("token: parse and verify an RS256 subject token", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try UnverifiedToken(parsing: world.token).verify(issuer: world.issuer, keys: world.keys, now: World.now))
        }
    }

    for (count, keyed) in [(1, true), (1000, true), (10_000, true), (1000, false)] {
        let policies = world.policies(count, keyed: keyed)
        Benchmark("policy: decide over \(count) policies (\(keyed ? "sub equals" : "glob"))", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(PolicyEvaluator.decide(token: world.verified, request: world.request, policies: policies, now: World.now))
            }
        }
    }

    let minter = AccessTokenMinter(issuerURL: "https://wif.bench", signingKey: SigningKey.generate())
    let grant = try! PolicyEvaluator.decide(token: world.verified, request: world.request, policies: world.policies(1, keyed: true), now: World.now)
        .result.get()
    Benchmark("mint: sign an ES256 access token", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try minter.mint(grant))
        }
    }

    let exchanger = TokenExchanger(
        config: TrustConfig(issuers: [world.issuer], policies: world.policies(10, keyed: true).all),
        keySource: InMemoryKeySource(["cluster": world.keys]),
        minter: minter
    )
    Benchmark("pipeline: one exchange without HTTP (10 policies)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(await exchanger.exchange(world.request, now: World.now))
        }
    }
}
