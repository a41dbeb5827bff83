import Foundation
import Testing
import WIFCore
import WIFTesting

/// Seeded random-mutation fuzzing of the parsers that take untrusted bytes: the compact-token parser and
/// verifier, the `/token` form parser, JWKS import and the trust-config loader. Kept out of the default run:
///
///     WIF_FUZZ_SECONDS=300 swift test --filter Fuzz            # each target runs 300 s
///     WIF_FUZZ_SECONDS=60 WIF_FUZZ_SEED=1234 swift test --filter Fuzz
///
/// Each target prints its seed and iteration count. A crash or trap kills the test process, and the
/// printed seed reproduces the run. A property violation is reported with the input that caused it.
@Suite("Fuzz (WIF_FUZZ_SECONDS)", .enabled(if: Fuzz.seconds != nil, "set WIF_FUZZ_SECONDS to run"))
struct FuzzTests {
    @Test("token parser and verifier: no crash; nothing verifies unless a trusted key signed it; JSON round-trips")
    func token() {
        Fuzz.run("token") { random in
            let seed = Fuzz.tokenSeeds[random.index(Fuzz.tokenSeeds.count)]
            if random.chance(0.5) {
                // Mutate the compact string: the envelope and base64url layers.
                let mutated = Fuzz.mutate(Array(seed.token.utf8), &random)
                let text = String(decoding: mutated, as: UTF8.self)
                Fuzz.checkToken(text, signedByTrustedKey: text == seed.token, input: mutated)
            } else {
                // Mutate the header or payload JSON and sign it again: the JSON and claim layers.
                let parts = seed.token.split(separator: ".").map(String.init)
                var header = Base64URL.decode(parts[0]) ?? []
                var payload = Base64URL.decode(parts[1]) ?? []
                if random.chance(0.3) { header = Fuzz.mutate(header, &random) } else { payload = Fuzz.mutate(payload, &random) }
                Fuzz.checkJSONRoundTrip(payload)
                Fuzz.checkJSONRoundTrip(header)
                guard let token = try? TokenFactory.raw(header: header, payload: payload, key: seed.key) else { return }
                Fuzz.checkToken(token, signedByTrustedKey: true, input: header + [0x2E] + payload)
            }
        }
    }

    @Test("form parser and request: no crash; a parsed form re-encodes to the same pairs")
    func form() {
        Fuzz.run("form") { random in
            let seed = Fuzz.formSeeds[random.index(Fuzz.formSeeds.count)]
            let mutated = Fuzz.mutate(Array(seed.utf8), &random)
            guard let form = try? FormBody(parsing: mutated) else { return }
            let reparsed = try? FormBody(parsing: Array(FormEncoding.body(form.pairs.map { ($0.name, $0.value) }).utf8))
            #expect(reparsed == form, "round trip of \(Fuzz.describe(mutated))")
            let authorization: String? =
                random.chance(0.2) ? String(decoding: Fuzz.mutate(Array("Basic cGF5bWVudHMtYXBpOg==".utf8), &random), as: UTF8.self) : nil
            if let request = try? ExchangeRequest(form: form, authorization: authorization) {
                #expect(!request.subjectToken.isEmpty, "a request always has a token: \(Fuzz.describe(mutated))")
                #expect(request.scopes?.allSatisfy { !$0.isEmpty && !$0.contains(" ") } ?? true)
            }
        }
    }

    @Test("JWKS import: no crash; every imported key is bound to algorithms of its own type")
    func jwks() {
        let seed = Array(JSONValue.object(["keys": .array(Fuzz.signingKeys.map(\.publicJWK))]).serialized())
        Fuzz.run("jwks") { random in
            let mutated = Fuzz.mutate(seed, &random)
            guard let set = try? JWKSet.parse(mutated) else { return }
            for key in set.keys {
                let accepted = JWSAlgorithm.allCases.filter { key.accepts($0) }
                #expect(accepted.allSatisfy { $0.keyFamily == key.family }, "\(accepted) on \(key.family): \(Fuzz.describe(mutated))")
                if let pinned = key.pinnedAlgorithm { #expect(accepted == [pinned]) }
            }
            let kids = set.keys.compactMap(\.keyID)
            #expect(Set(kids).count == kids.count, "no kid is served twice: \(Fuzz.describe(mutated))")
        }
    }

    @Test("trust-config loader: no crash, bounded time per document")
    func trustConfig() {
        Fuzz.run("trust-config") { random in
            let seed = Fuzz.yamlSeeds[random.index(Fuzz.yamlSeeds.count)]
            let mutated = Fuzz.mutateLines(Array(seed.utf8), &random)
            let started = ContinuousClock.now
            let report = TrustConfigLoader.loadReport([.init(name: "fuzz.yaml", contents: String(decoding: mutated, as: UTF8.self))])
            _ = report.config
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < .seconds(2), "\(elapsed) for \(Fuzz.describe(mutated))")
        }
    }
}

/// The fuzzing machinery: a seeded generator, the mutations, the seeds and the properties.
enum Fuzz {
    static let seconds: Double? = ProcessInfo.processInfo.environment["WIF_FUZZ_SECONDS"].flatMap(Double.init)
    static let seed: UInt64 = ProcessInfo.processInfo.environment["WIF_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)

    /// SplitMix64: small, fast and reproducible from its seed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func index(_ count: Int) -> Int { Int(next() % UInt64(max(1, count))) }
        mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
        mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    }

    /// Runs `body` repeatedly for ``seconds`` and prints the count.
    static func run(_ name: String, _ body: (inout Random) -> Void) {
        guard let seconds else { return }
        let targetSeed = seed &+ name.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) }
        var random = Random(state: targetSeed)
        print("fuzz \(name): seed \(seed), running \(seconds) s")
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var iterations = 0
        while ContinuousClock.now < deadline {
            for _ in 0..<64 {
                body(&random)
                iterations += 1
            }
        }
        print("fuzz \(name): \(iterations) iterations in \(seconds) s, seed \(seed), no crash")
        #expect(iterations > 0)
    }

    /// Fragments that matter to the parsers, spliced in by the mutator.
    static let dictionary: [[UInt8]] = [
        ".", "..", "{", "}", "[", "]", "\"", ",", ":", "=", "==", "%", "%00", "%zz", "%FF", "%C0%AF", "&", "+", "\\", "\\u0000",
        "\\ud800", "\\u006c", "null", "true", "false", "1e999", "-0", "9223372036854775808", "1.8e308", "\"alg\":\"none\"",
        "\"alg\":\"HS256\"", "\"crit\":[\"b64\"]", "\"b64\":false", "\"jku\":\"http://x\"", "\"kid\":\"../../x\"", "\"kid\":\"ec-1\"",
        "\"iss\":\"https://issuer.test\"", "\"exp\":1e300", "\"aud\":[]", "\"aud\":{}", "\"sub\":\"\"", "\"sub\":\"a\\nb\"",
        "\u{FEFF}", "\u{200D}", "\r\n", "\t", " ", "grant_type=", "subject_token=", "audience=", "scope=", "resource=",
        "client_assertion=", "urn:ietf:params:oauth:grant-type:token-exchange", "client_credentials", "eyJhbGciOiJub25lIn0",
        "&a ", "*a", "<<: *a", "- ", ": ", "? ", "~", "'", "!!binary ", "!!python/object ", "%YAML 1.1\n", "---\n", "...\n",
        "{{", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "\"\\u", "0x10", "0o17", "no", "on", "2026-01-01",
    ].map { Array($0.utf8) }

    /// One to four random byte-level mutations.
    static func mutate(_ input: [UInt8], _ random: inout Random) -> [UInt8] {
        var bytes = input
        for _ in 0...random.index(4) {
            let at = random.index(bytes.count + 1)
            switch random.index(9) {
            case 0 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] ^= 1 << UInt8(random.index(8))
            case 1 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] = random.byte()
            case 2: bytes.insert(random.byte(), at: at)
            case 3 where !bytes.isEmpty: bytes.remove(at: min(at, bytes.count - 1))
            case 4: bytes.insert(contentsOf: dictionary[random.index(dictionary.count)], at: at)
            case 5 where at < bytes.count:
                // Duplicate a chunk (duplicate members, repeated parameters, nesting).
                let end = min(bytes.count, at + 1 + random.index(32))
                bytes.insert(contentsOf: bytes[at..<end], at: random.index(bytes.count + 1))
            case 6 where at < bytes.count: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.index(16)))
            case 7: bytes = Array(bytes.prefix(at))
            default:
                // Repeat one fragment many times (floods, deep nesting, long values).
                let fragment = dictionary[random.index(dictionary.count)]
                bytes.insert(contentsOf: Array([[UInt8]](repeating: fragment, count: 1 + random.index(2000)).joined()), at: at)
            }
            if bytes.count > 256 * 1024 { bytes = Array(bytes.prefix(256 * 1024)) }
        }
        return bytes
    }

    /// Line-level mutations for YAML (indentation, duplicated and dropped lines), then byte-level ones.
    static func mutateLines(_ input: [UInt8], _ random: inout Random) -> [UInt8] {
        var lines = input.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        for _ in 0...random.index(3) where !lines.isEmpty {
            let at = random.index(lines.count)
            switch random.index(5) {
            case 0: lines.insert(lines[random.index(lines.count)], at: at)
            case 1: lines.remove(at: at)
            case 2: lines[at] = Array(repeating: 0x20, count: random.index(12)) + lines[at].drop { $0 == 0x20 }
            case 3: lines.swapAt(at, random.index(lines.count))
            default:
                // An alias bomb or a deep document.
                let bomb =
                    random.chance(0.5)
                    ? "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]"
                    : String(repeating: "[", count: 1 + random.index(5000))
                lines.insert(Array(bomb.utf8), at: at)
            }
        }
        let joined = Array(lines.joined(separator: [0x0A]))
        return random.chance(0.5) ? mutate(joined, &random) : joined
    }

    /// A token must never verify unless a trusted key signed exactly its signing input; one that verifies
    /// must satisfy the claim rules when checked independently.
    static func checkToken(_ token: String, signedByTrustedKey: Bool, input: [UInt8]) {
        guard let unverified = try? UnverifiedToken(parsing: token) else { return }
        guard let verified = try? unverified.verify(issuer: issuer, keys: keys, now: now) else { return }
        #expect(signedByTrustedKey, "a token verified without a trusted signature: \(describe(input))")
        #expect(verified.issuer.issuer == issuer.issuer && verified.claims["iss"]?.stringValue == issuer.issuer)
        #expect(TokenLimits.isUsableSubject(verified.subject) && verified.claims["sub"]?.stringValue == verified.subject)
        #expect(verified.expiresAt > now - Double(issuer.leeway), "accepted an expired token: \(describe(input))")
        let audiences: [String] =
            switch verified.claims["aud"] {
            case .string(let single)?: [single]
            case .array(let list)?: list.compactMap(\.stringValue)
            default: []
            }
        #expect(audiences.contains("wif"), "accepted a token for another audience: \(describe(input))")
        if let nbf = verified.claims["nbf"]?.numberValue { #expect(nbf <= now + Double(issuer.leeway)) }
    }

    /// JSON that parses serializes to text that parses to the same value.
    static func checkJSONRoundTrip(_ bytes: [UInt8]) {
        guard let value = try? JSONValue.parse(bytes) else { return }
        #expect((try? JSONValue.parse(value.serialized())) == value, "round trip of \(describe(bytes))")
    }

    static func describe(_ bytes: [UInt8]) -> String {
        let prefix = bytes.prefix(300)
        return "\(bytes.count) bytes, base64 " + Data(prefix).base64EncodedString() + (bytes.count > 300 ? "…" : "")
    }

    // MARK: Seeds

    static let now: Double = 1_800_000_000
    static let issuer = TrustedIssuer(
        name: "cluster",
        issuer: "https://issuer.test",
        keySource: .jwksURL("https://issuer.test/jwks"),
        audiences: ["wif"],
        algorithms: Set(JWSAlgorithm.allCases),
        maxTokenLifetime: 24 * 3600,
        leeway: 60,
        kubernetes: KubernetesIntake()
    )
    static let signingKeys: [TestKey] = [
        try! TestKey.rsa(keyID: "rsa-1"), TestKey.p256(keyID: "ec-1"), TestKey.p384(keyID: "ec384-1"), TestKey.ed25519(keyID: "ed-1"),
    ]
    static let keys = try! JWKSet.parse(JSONValue.object(["keys": .array(signingKeys.map(\.publicJWK))]).serialized())

    static let tokenSeeds: [(token: String, key: TestKey)] = signingKeys.map { key in
        let claims = TokenFactory.kubernetesClaims(issuer: issuer.issuer, audience: "wif", namespace: "payments", serviceAccount: "api", now: now)
        return (try! TokenFactory.token(claims: claims, key: key), key)
    }

    static let formSeeds: [String] = [
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&subject_token=\(tokenSeeds[1].token)&audience=https%3A%2F%2Fledger.internal&scope=ledger.read+ledger.write",
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(tokenSeeds[1].token)",
        "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=\(tokenSeeds[1].token)&scope=api%3A%2F%2Fpayments%2F.default&client_id=abc",
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&subject_token=a.b.c&actor_token=d.e.f&actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb",
    ]

    /// The shipped trust-configs: the embedded default and every example.
    static let yamlSeeds: [String] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var files: [String] = []
        for folder in ["trust-config", "examples/trust-config"] {
            guard let walker = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil) else {
                continue
            }
            for case let url as URL in walker where url.pathExtension == "yaml" {
                if let text = try? String(contentsOf: url, encoding: .utf8) { files.append(text) }
            }
        }
        return files.isEmpty ? ["issuers: []\npolicies: []\n"] : files
    }()
}
