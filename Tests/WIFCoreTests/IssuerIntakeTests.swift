import Testing
import WIFCore
import WIFTesting

/// What verification makes of a token: accepted with its effective expiry, or refused with a code and the
/// client's `error_description`.
enum VerificationOutcome: Equatable, Sendable {
    case accepted(expiresAt: Double)
    case refused(ExchangeError.Code, String)
}

/// An issuer's `kubernetes:` intake options, as ``UnverifiedToken/verify(issuer:keys:now:acceptedTypes:)``
/// enforces them (security-cases.md D2).
@Suite("Kubernetes intake: token age, pod binding, warnafter")
struct KubernetesIntakeTests {
    static let now = Fixtures.now

    static func outcome(_ claims: JSONValue, issuer: TrustedIssuer) -> VerificationOutcome {
        do throws(ExchangeError) {
            return .accepted(expiresAt: try Fixtures.verify(Fixtures.token(claims), issuer: issuer).expiresAt)
        } catch {
            return .refused(error.code, error.description)
        }
    }

    /// The default `kubernetes.io` claim with `changes` applied (a `nil` value removes a member).
    static func kubernetesClaim(_ changes: [String: JSONValue?] = [:]) -> JSONValue {
        var members = Fixtures.claims()["kubernetes.io"]?.objectValue ?? [:]
        for (name, value) in changes {
            members[name] = value
        }
        return .object(members)
    }

    @Test("the defaults add no check: no age limit, no pod binding required, warnafter is the expiry")
    func defaults() {
        #expect(KubernetesIntake() == KubernetesIntake(maxTokenAge: nil, requirePodBinding: false, warnAfterAsExpiry: true))
        #expect(
            TrustedIssuer(name: "x", issuer: "https://x.test", keySource: .discovery, audiences: ["wif"], algorithms: [.es256]).kubernetes
                == KubernetesIntake()
        )
        let old = Fixtures.claims(["iat": .number(Self.now - 20 * 3600), "nbf": nil])
        #expect(Self.outcome(old, issuer: Fixtures.issuer()) == .accepted(expiresAt: Self.now + 600))
        #expect(Self.outcome(Fixtures.claims(["iat": nil]), issuer: Fixtures.issuer()) == .accepted(expiresAt: Self.now + 600))
    }

    // MARK: - max_token_age

    /// Token age (now − `iat`) against `max_token_age: 600` with the issuer's leeway on top.
    @Test(
        "max_token_age refuses tokens issued longer ago than the limit plus the leeway",
        arguments: [
            Case("issued 10 s ago", (age: 10.0, leeway: 60, accepted: true)),
            Case("exactly the max age", (age: 600.0, leeway: 60, accepted: true)),
            Case("max age plus the whole leeway", (age: 660.0, leeway: 60, accepted: true)),
            Case("half a second beyond max age plus leeway", (age: 660.5, leeway: 60, accepted: false)),
            Case("one second beyond max age plus leeway", (age: 661.0, leeway: 60, accepted: false)),
            Case("an hour old", (age: 3600.0, leeway: 60, accepted: false)),
            Case("no leeway: exactly the max age", (age: 600.0, leeway: 0, accepted: true)),
            Case("no leeway: one second beyond", (age: 601.0, leeway: 0, accepted: false)),
            Case("iat in the future within the leeway", (age: -30.0, leeway: 60, accepted: true)),
        ]
    )
    func maxTokenAge(_ input: Case<(age: Double, leeway: Int, accepted: Bool)>) {
        let issuer = Fixtures.issuer(leeway: input.value.leeway, kubernetes: KubernetesIntake(maxTokenAge: 600))
        // exp stays in the future and the lifetime within 24 h: only the age can refuse.
        let claims = Fixtures.claims(["iat": .number(Self.now - input.value.age), "nbf": nil, "exp": .number(Self.now + 600)])
        let expected: VerificationOutcome =
            input.value.accepted ? .accepted(expiresAt: Self.now + 600) : .refused(.tokenExpired, "subject token is too old")
        #expect(Self.outcome(claims, issuer: issuer) == expected)
        // Without the option the same token is accepted.
        #expect(Self.outcome(claims, issuer: Fixtures.issuer(leeway: input.value.leeway)) == .accepted(expiresAt: Self.now + 600))
    }

    @Test("max_token_age refuses a token without iat, which it cannot judge")
    func maxTokenAgeNeedsIssuedAt() throws {
        let claims = Fixtures.claims(["iat": nil, "nbf": .number(Self.now - 10)])
        #expect(Self.outcome(claims, issuer: Fixtures.issuer()) == .accepted(expiresAt: Self.now + 600))
        let issuer = Fixtures.issuer(kubernetes: KubernetesIntake(maxTokenAge: 3600))
        let error = try #require(refusal { () throws(ExchangeError) -> VerifiedToken in try Fixtures.verify(Fixtures.token(claims), issuer: issuer) })
        #expect(error.code == .tokenClaimsInvalid)
        #expect(error.description == "subject token claims are invalid")
        #expect(error.detail == "iat missing; issuer cluster limits the token age")
    }

    // MARK: - require_pod_binding

    static let podBindings: [Case<(claim: JSONValue?, bound: Bool)>] = [
        Case("pod with name and uid", (kubernetesClaim(["pod": ["name": "app-7d9c6b5f4-x2x8q", "uid": "0f6b0b9e"]]), true)),
        Case("pod with only a name", (kubernetesClaim(["pod": ["name": "app-1"]]), true)),
        Case("no pod member", (kubernetesClaim(), false)),
        Case("no kubernetes.io claim", (nil, false)),
        Case("kubernetes.io not an object", (.string("pod"), false)),
        Case("pod a string", (kubernetesClaim(["pod": "app-1"]), false)),
        Case("pod a list", (kubernetesClaim(["pod": .array([["name": "app-1"]])]), false)),
        Case("pod null", (kubernetesClaim(["pod": .null]), false)),
        Case("pod with only a uid", (kubernetesClaim(["pod": ["uid": "0f6b0b9e"]]), false)),
        Case("name a number", (kubernetesClaim(["pod": ["name": .number(42)]]), false)),
        Case("name a list", (kubernetesClaim(["pod": ["name": .array(["app-1"])]]), false)),
        Case("name an object", (kubernetesClaim(["pod": ["name": ["first": "app-1"]]]), false)),
        Case("name null", (kubernetesClaim(["pod": ["name": .null]]), false)),
        Case("name true", (kubernetesClaim(["pod": ["name": .bool(true)]]), false)),
    ]

    @Test("require_pod_binding accepts only a kubernetes.io.pod object with a string name", arguments: podBindings)
    func podBinding(_ input: Case<(claim: JSONValue?, bound: Bool)>) throws {
        let claims = Fixtures.claims(["kubernetes.io": input.value.claim])
        #expect(Self.outcome(claims, issuer: Fixtures.issuer()) == .accepted(expiresAt: Self.now + 600))
        let issuer = Fixtures.issuer(kubernetes: KubernetesIntake(requirePodBinding: true))
        let error = refusal { () throws(ExchangeError) -> VerifiedToken in try Fixtures.verify(Fixtures.token(claims), issuer: issuer) }
        if input.value.bound {
            #expect(error == nil)
        } else {
            #expect(error?.code == .tokenClaimsInvalid)
            #expect(error?.description == "subject token claims are invalid")
            #expect(error?.detail == "no pod binding (kubernetes.io.pod.name); issuer cluster requires pod-bound tokens")
        }
    }

    // MARK: - warnafter_as_expiry

    static let iat = now - 10

    /// Tokens with a `kubernetes.io.warnafter`, against an issuer with `max_token_lifetime: 1h`.
    static let warnAfterTokens: [Case<(claims: JSONValue, whenOn: VerificationOutcome, whenOff: VerificationOutcome)>] = [
        Case(
            "before warnafter",
            (
                Fixtures.claims(["exp": .number(now + 3000), "kubernetes.io": kubernetesClaim(["warnafter": .number(now + 200)])]),
                .accepted(expiresAt: now + 200), .accepted(expiresAt: now + 3000)
            )
        ),
        Case(
            "past warnafter by more than the leeway",
            (
                Fixtures.claims(["exp": .number(now + 3000), "kubernetes.io": kubernetesClaim(["warnafter": .number(now - 61)])]),
                .refused(.tokenExpired, "subject token expired"), .accepted(expiresAt: now + 3000)
            )
        ),
        Case(
            "past warnafter within the leeway",
            (
                Fixtures.claims(["exp": .number(now + 3000), "kubernetes.io": kubernetesClaim(["warnafter": .number(now - 59)])]),
                .accepted(expiresAt: now - 59), .accepted(expiresAt: now + 3000)
            )
        ),
        Case(
            "warnafter later than exp",
            (
                Fixtures.claims(["exp": .number(now + 100), "kubernetes.io": kubernetesClaim(["warnafter": .number(now + 200)])]),
                .accepted(expiresAt: now + 100), .accepted(expiresAt: now + 100)
            )
        ),
        Case(
            "exp − iat over max_token_lifetime, warnafter − iat within it",
            (
                Fixtures.claims([
                    "iat": .number(iat), "nbf": nil, "exp": .number(iat + 7200),
                    "kubernetes.io": kubernetesClaim(["warnafter": .number(iat + 3000)]),
                ]),
                // The lifetime is measured to warnafter either way; off, the token lives to its exp.
                .accepted(expiresAt: iat + 3000), .accepted(expiresAt: iat + 7200)
            )
        ),
        Case(
            "a warnafter that is not a NumericDate",
            (
                Fixtures.claims(["kubernetes.io": kubernetesClaim(["warnafter": "1800000100"])]),
                .refused(.tokenClaimsInvalid, "subject token claims are invalid"), .refused(.tokenClaimsInvalid, "subject token claims are invalid")
            )
        ),
    ]

    @Test(
        "warnafter_as_expiry: on, warnafter caps the expiry; off, exp does; the lifetime is measured to warnafter either way",
        arguments: warnAfterTokens
    )
    func warnAfterAsExpiry(_ input: Case<(claims: JSONValue, whenOn: VerificationOutcome, whenOff: VerificationOutcome)>) {
        let on = Fixtures.issuer(maxTokenLifetime: 3600, kubernetes: KubernetesIntake(warnAfterAsExpiry: true))
        let off = Fixtures.issuer(maxTokenLifetime: 3600, kubernetes: KubernetesIntake(warnAfterAsExpiry: false))
        #expect(Self.outcome(input.value.claims, issuer: on) == input.value.whenOn)
        #expect(Self.outcome(input.value.claims, issuer: Fixtures.issuer(maxTokenLifetime: 3600)) == input.value.whenOn)
        #expect(Self.outcome(input.value.claims, issuer: off) == input.value.whenOff)
    }
}

/// ``KeyCachePolicy``: how a JWKS response's `max-age` becomes the next scheduled refresh.
@Suite("Key-cache policy: refresh interval clamped to min and max")
struct KeyCachePolicyTests {
    @Test("the defaults: refresh between 1 min and 1 h, 5 min without max-age, unknown kid every 30 s, stale for 24 h")
    func defaults() {
        let policy = KeyCachePolicy()
        #expect(policy.minRefresh == 60)
        #expect(policy.maxRefresh == 3600)
        #expect(policy.defaultRefresh == 300)
        #expect(policy.unknownKeyInterval == 30)
        #expect(policy.maxStale == 86_400)
        #expect(KeyCachePolicy.defaults == policy)
    }

    typealias Row = Case<(maxAge: Int?, seconds: Int)>

    static let defaultTable: [Row] = [
        Case("no max-age: the default", (nil, 300)),
        Case("max-age=0 (no-cache): the minimum", (0, 60)),
        Case("negative: the minimum", (-5, 60)),
        Case("below the minimum", (30, 60)),
        Case("exactly the minimum", (60, 60)),
        Case("within", (600, 600)),
        Case("exactly the maximum", (3600, 3600)),
        Case("above the maximum", (7200, 3600)),
        Case("a huge max-age", (Int.max, 3600)),
    ]

    @Test("refreshInterval(maxAge:) with the defaults (min 60, max 3600, default 300)", arguments: defaultTable)
    func defaultClamping(_ input: Row) {
        #expect(KeyCachePolicy().refreshInterval(maxAge: input.value.maxAge) == input.value.seconds)
    }

    static let customTable: [Row] = [
        Case("no max-age", (nil, 50)),
        Case("zero", (0, 10)),
        Case("below the minimum", (9, 10)),
        Case("within", (42, 42)),
        Case("above the maximum", (101, 100)),
    ]

    @Test("refreshInterval(maxAge:) with min 10, max 100, default 50", arguments: customTable)
    func customClamping(_ input: Row) {
        let policy = KeyCachePolicy(minRefresh: 10, maxRefresh: 100, defaultRefresh: 50)
        #expect(policy.refreshInterval(maxAge: input.value.maxAge) == input.value.seconds)
    }

    @Test("a default_refresh outside min and max is clamped too")
    func defaultOutsideBounds() {
        #expect(KeyCachePolicy(minRefresh: 60, maxRefresh: 120, defaultRefresh: 300).refreshInterval(maxAge: nil) == 120)
        #expect(KeyCachePolicy(minRefresh: 60, maxRefresh: 120, defaultRefresh: 10).refreshInterval(maxAge: nil) == 60)
    }

    @Test("a maximum below the minimum is raised to the minimum")
    func maxBelowMin() {
        let policy = KeyCachePolicy(minRefresh: 600, maxRefresh: 60)
        #expect(policy.minRefresh == 600)
        #expect(policy.maxRefresh == 600)
        for maxAge in [nil, 0, 60, 599, 600, 601, 7200] {
            #expect(policy.refreshInterval(maxAge: maxAge) == 600)
        }
    }
}

/// The trust-config sections for issuer keys and intake: `keys:` with a pinned `jwks_file`, `key_cache:`
/// and `kubernetes:`.
@Suite("TrustConfigLoader: key_cache, kubernetes and pinned jwks_file")
struct IssuerSectionLoaderTests {
    static func problems(_ issuerLines: [String]) -> [TrustConfigProblem] {
        TrustConfigLoaderTests.problems(TrustConfigLoaderTests.minimal(issuerLines: issuerLines))
    }

    static func issuer(_ issuerLines: [String]) throws -> TrustedIssuer {
        try #require(try TrustConfigLoaderTests.config(TrustConfigLoaderTests.minimal(issuerLines: issuerLines)).issuers.first)
    }

    /// The minimal config with its `keys:` section (line 5, `jwks_url: https://issuer.test/jwks`) replaced.
    static func withKeys(_ lines: [String]) -> String {
        TrustConfigLoaderTests.minimal().replacing(
            "      jwks_url: https://issuer.test/jwks",
            with: lines.map { "      " + $0 }.joined(separator: "\n")
        )
    }

    static let oneSourceMessage = "name one of discovery, jwks_url, jwks_file, development (jwks_file may pin keys beside discovery or jwks_url)"

    // MARK: - Defaults

    @Test("without the new sections an issuer gets the default key cache, no Kubernetes checks and no pinned keys")
    func defaultsWhenAbsent() throws {
        let issuer = try Self.issuer([])
        #expect(issuer.keyCache == KeyCachePolicy())
        #expect(issuer.kubernetes == KubernetesIntake())
        #expect(issuer.pinnedKeysFile == nil)
        #expect(issuer.keySource == .jwksURL("https://issuer.test/jwks"))
    }

    @Test("empty key_cache and kubernetes sections mean the defaults")
    func emptySections() throws {
        let issuer = try Self.issuer(["key_cache: {}", "kubernetes: {}"])
        #expect(issuer.keyCache == KeyCachePolicy())
        #expect(issuer.kubernetes == KubernetesIntake())
    }

    // MARK: - key_cache

    @Test("key_cache: every field, as durations")
    func keyCacheFields() throws {
        let issuer = try Self.issuer([
            "key_cache:",
            "  min_refresh: 30s",
            "  max_refresh: 2h",
            "  default_refresh: 5m",
            "  unknown_kid_interval: 1m",
            "  max_stale: 12h",
        ])
        #expect(issuer.keyCache.minRefresh == 30)
        #expect(issuer.keyCache.maxRefresh == 7200)
        #expect(issuer.keyCache.defaultRefresh == 300)
        #expect(issuer.keyCache.unknownKeyInterval == 60)
        #expect(issuer.keyCache.maxStale == 43_200)
    }

    @Test(
        "key_cache: each field alone, the others keep their defaults",
        arguments: [
            Case("min_refresh: 45s", KeyCachePolicy(minRefresh: 45)),
            Case("max_refresh: 20m", KeyCachePolicy(maxRefresh: 1200)),
            Case("default_refresh: 90", KeyCachePolicy(defaultRefresh: 90)),
            Case("unknown_kid_interval: 5m", KeyCachePolicy(unknownKeyInterval: 300)),
            Case("max_stale: 1h30m", KeyCachePolicy(maxStale: 5400)),
        ]
    )
    func keyCacheOneField(_ input: Case<KeyCachePolicy>) throws {
        #expect(try Self.issuer(["key_cache:", "  " + input.name]).keyCache == input.value)
    }

    @Test("key_cache: max_refresh defaults to at least min_refresh")
    func maxRefreshFollowsMin() throws {
        let cache = try Self.issuer(["key_cache:", "  min_refresh: 2h"]).keyCache
        #expect(cache.minRefresh == 7200)
        #expect(cache.maxRefresh == 7200)
    }

    @Test("key_cache: max_refresh shorter than min_refresh is refused; equal is fine")
    func maxRefreshShorterThanMin() throws {
        let problems = Self.problems(["key_cache:", "  min_refresh: 10m", "  max_refresh: 5m"])
        #expect(
            problems == [
                TrustConfigProblem(
                    file: "config.yaml",
                    line: 10,
                    field: "issuers[0].key_cache.max_refresh",
                    message: "must not be shorter than min_refresh"
                )
            ]
        )
        let equal = try Self.issuer(["key_cache:", "  min_refresh: 10m", "  max_refresh: 600"]).keyCache
        #expect(equal.minRefresh == 600)
        #expect(equal.maxRefresh == 600)
    }

    /// The stale window counts from the last successful fetch: shorter than the refresh interval, keys would
    /// lapse before their scheduled refresh and every token of the issuer would wait for a fetch (with
    /// `max_stale: 0`, be refused outright).
    @Test(
        "key_cache: max_stale shorter than max_refresh is refused",
        arguments: [
            Case("zero", ["max_stale: 0"]),
            Case("below the default max_refresh", ["max_stale: 59m"]),
            Case("below an explicit max_refresh", ["max_refresh: 2h", "max_stale: 1h"]),
        ]
    )
    func maxStaleShorterThanRefresh(_ lines: Case<[String]>) {
        let problems = Self.problems(["key_cache:"] + lines.value.map { "  " + $0 })
        #expect(problems.map(\.field) == ["issuers[0].key_cache.max_stale"])
        #expect(problems.map(\.message) == ["must not be shorter than max_refresh"])
    }

    @Test("key_cache: max_stale may equal max_refresh, and defaults to at least max_refresh")
    func maxStaleFollowsMaxRefresh() throws {
        #expect(try Self.issuer(["key_cache:", "  max_refresh: 2h", "  max_stale: 2h"]).keyCache.maxStale == 7200)
        let long = try Self.issuer(["key_cache:", "  max_refresh: 48h"]).keyCache
        #expect(long.maxRefresh == 172_800)
        #expect(long.maxStale == 172_800)
    }

    // MARK: - kubernetes

    @Test(
        "kubernetes: every field",
        arguments: [
            Case(
                "age limit, pod binding, warnafter off",
                (
                    ["max_token_age: 90m", "require_pod_binding: true", "warnafter_as_expiry: false"],
                    KubernetesIntake(maxTokenAge: 5400, requirePodBinding: true, warnAfterAsExpiry: false)
                )
            ),
            Case(
                "explicit opposites",
                (
                    ["max_token_age: 30s", "require_pod_binding: false", "warnafter_as_expiry: true"],
                    KubernetesIntake(maxTokenAge: 30, requirePodBinding: false, warnAfterAsExpiry: true)
                )
            ),
            Case("only max_token_age", (["max_token_age: 3600"], KubernetesIntake(maxTokenAge: 3600))),
            Case("only require_pod_binding", (["require_pod_binding: true"], KubernetesIntake(requirePodBinding: true))),
            Case("only warnafter_as_expiry", (["warnafter_as_expiry: false"], KubernetesIntake(warnAfterAsExpiry: false))),
        ]
    )
    func kubernetesFields(_ input: Case<([String], KubernetesIntake)>) throws {
        #expect(try Self.issuer(["kubernetes:"] + input.value.0.map { "  " + $0 }).kubernetes == input.value.1)
    }

    @Test(
        "kubernetes: booleans are exactly true or false",
        arguments: ["require_pod_binding: yes", "require_pod_binding: 1", "warnafter_as_expiry: off", "warnafter_as_expiry: False"]
    )
    func kubernetesBooleans(_ line: String) {
        let problems = Self.problems(["kubernetes:", "  " + line])
        let key = String(line.prefix { $0 != ":" })
        #expect(problems.map(\.field) == ["issuers[0].kubernetes.\(key)"])
        #expect(problems.map(\.message) == ["expected true or false"])
        #expect(problems.map(\.line) == [9])
    }

    // MARK: - Unknown keys, wrong shapes, bad durations

    @Test(
        "unknown keys inside key_cache and kubernetes are refused, naming the allowed ones",
        arguments: [
            Case(
                "key_cache.refresh",
                (
                    ["key_cache:", "  refresh: 5m"],
                    "unknown key (allowed: default_refresh, max_refresh, max_stale, min_refresh, unknown_kid_interval)"
                )
            ),
            Case(
                "key_cache.max_age",
                (
                    ["key_cache:", "  min_refresh: 1m", "  max_age: 5m"],
                    "unknown key (allowed: default_refresh, max_refresh, max_stale, min_refresh, unknown_kid_interval)"
                )
            ),
            Case(
                "kubernetes.max_age",
                (["kubernetes:", "  max_age: 1h"], "unknown key (allowed: max_token_age, require_pod_binding, warnafter_as_expiry)")
            ),
            Case(
                "kubernetes.warnafter",
                (
                    ["kubernetes:", "  require_pod_binding: true", "  warnafter: false"],
                    "unknown key (allowed: max_token_age, require_pod_binding, warnafter_as_expiry)"
                )
            ),
        ]
    )
    func unknownKeys(_ input: Case<([String], String)>) {
        let problems = Self.problems(input.value.0)
        #expect(problems.map(\.field) == ["issuers[0].\(input.name)"])
        #expect(problems.map(\.message) == [input.value.1])
        #expect(problems.map(\.line) == [7 + input.value.0.count])
    }

    @Test("key_cache and kubernetes must be mappings", arguments: ["key_cache: 5m", "kubernetes: true", "key_cache: [1m]", "kubernetes:"])
    func sectionsAreMappings(_ line: String) {
        let problems = Self.problems([line])
        #expect(problems.map(\.field) == ["issuers[0].\(line.prefix { $0 != ":" })"])
        #expect(problems.map(\.message) == ["expected a mapping"])
    }

    static let durationFields: [(section: String, key: String, min: Int, max: Int)] = [
        ("key_cache", "min_refresh", 1, 86_400),
        ("key_cache", "max_refresh", 1, 604_800),
        ("key_cache", "default_refresh", 1, 604_800),
        ("key_cache", "unknown_kid_interval", 1, 3600),
        ("key_cache", "max_stale", 0, 2_592_000),
        ("kubernetes", "max_token_age", 1, 604_800),
    ]

    @Test(
        "malformed durations in the new sections are refused",
        arguments: durationFields.map { "\($0.section).\($0.key)" },
        ["1d", "-5", "m", "1.5h", "5 m", "ten", "99999999"]
    )
    func badDurations(_ field: String, _ text: String) {
        let (section, key) = (String(field.prefix { $0 != "." }), String(field.drop { $0 != "." }.dropFirst()))
        let problems = Self.problems(["\(section):", "  \(key): \"\(text)\""])
        #expect(problems.map(\.field) == ["issuers[0].\(field)"])
        #expect(problems.map(\.message) == ["expected a duration such as 60s, 15m or 1h"])
        #expect(problems.map(\.line) == [9])
    }

    @Test("durations in the new sections are bounded", arguments: durationFields.map { Case("\($0.section).\($0.key)", $0) })
    func durationBounds(_ input: Case<(section: String, key: String, min: Int, max: Int)>) throws {
        let field = input.value
        let message = "must be between \(field.min) and \(field.max) seconds"
        let over = Self.problems(["\(field.section):", "  \(field.key): \(field.max + 1)"])
        #expect(over.map(\.field) == ["issuers[0].\(input.name)"])
        #expect(over.map(\.message) == [message])
        // The largest value loads (with max_refresh and max_stale following it where they must).
        let companions = field.key == "min_refresh" || field.key == "max_refresh" ? ["  max_stale: \(field.max)"] : []
        let atMax = try Self.issuer(["\(field.section):", "  \(field.key): \(field.max)"] + companions)
        let loaded: Int? =
            switch field.key {
            case "min_refresh": atMax.keyCache.minRefresh
            case "max_refresh": atMax.keyCache.maxRefresh
            case "default_refresh": atMax.keyCache.defaultRefresh
            case "unknown_kid_interval": atMax.keyCache.unknownKeyInterval
            case "max_stale": atMax.keyCache.maxStale
            default: atMax.kubernetes.maxTokenAge
            }
        #expect(loaded == field.max)
        if field.min > 0 {
            let under = Self.problems(["\(field.section):", "  \(field.key): \(field.min - 1)"])
            #expect(under.map(\.field) == ["issuers[0].\(input.name)"])
            #expect(under.map(\.message) == [message])
        }
    }

    // MARK: - Pinned jwks_file

    @Test(
        "jwks_file pins keys beside discovery, in either order",
        arguments: [["discovery: true", "jwks_file: pinned-jwks.json"], ["jwks_file: pinned-jwks.json", "discovery: true"]]
    )
    func pinnedBesideDiscovery(_ keys: [String]) throws {
        let issuer = try #require(try TrustConfigLoaderTests.config(Self.withKeys(keys)).issuers.first)
        #expect(issuer.keySource == .discovery)
        #expect(issuer.pinnedKeysFile == "pinned-jwks.json")
    }

    @Test("jwks_file pins keys beside jwks_url")
    func pinnedBesideJWKSURL() throws {
        let issuer = try #require(
            try TrustConfigLoaderTests.config(Self.withKeys(["jwks_url: https://issuer.test/jwks", "jwks_file: /etc/wif/pinned-jwks.json"])).issuers
                .first
        )
        #expect(issuer.keySource == .jwksURL("https://issuer.test/jwks"))
        #expect(issuer.pinnedKeysFile == "/etc/wif/pinned-jwks.json")
    }

    @Test("jwks_file alone is the live source, not a pin")
    func jwksFileAlone() throws {
        let issuer = try #require(try TrustConfigLoaderTests.config(Self.withKeys(["jwks_file: cluster-jwks.json"])).issuers.first)
        #expect(issuer.keySource == .jwksFile("cluster-jwks.json"))
        #expect(issuer.pinnedKeysFile == nil)
    }

    @Test(
        "keys: combinations that are not one source, or one live source plus jwks_file, are refused",
        arguments: [
            Case("jwks_file beside development", ["development: true", "jwks_file: pinned-jwks.json"]),
            Case("discovery and jwks_url", ["discovery: true", "jwks_url: https://issuer.test/jwks"]),
            Case("discovery and development", ["discovery: true", "development: true"]),
            Case("three keys", ["discovery: true", "jwks_url: https://issuer.test/jwks", "jwks_file: pinned-jwks.json"]),
            Case("all four", ["discovery: true", "jwks_url: https://issuer.test/jwks", "jwks_file: pinned-jwks.json", "development: true"]),
        ]
    )
    func refusedCombinations(_ keys: Case<[String]>) {
        let problems = TrustConfigLoaderTests.problems(Self.withKeys(keys.value))
        #expect(problems == [TrustConfigProblem(file: "config.yaml", line: 5, field: "issuers[0].keys", message: Self.oneSourceMessage)])
    }

    @Test("keys: an empty mapping is refused")
    func emptyKeys() {
        let yaml = TrustConfigLoaderTests.minimal().replacing("    keys:\n      jwks_url: https://issuer.test/jwks", with: "    keys: {}")
        #expect(
            TrustConfigLoaderTests.problems(yaml) == [
                TrustConfigProblem(file: "config.yaml", line: 4, field: "issuers[0].keys", message: Self.oneSourceMessage)
            ]
        )
    }

    @Test(
        "keys: a pinned pair is checked field by field",
        arguments: [
            Case("empty jwks_file", (["discovery: true", "jwks_file: \"\""], "issuers[0].keys.jwks_file", "must not be empty")),
            Case("jwks_file a list", (["discovery: true", "jwks_file: [a.json]"], "issuers[0].keys.jwks_file", "expected a string")),
            Case(
                "discovery: false",
                (
                    ["discovery: false", "jwks_file: pinned-jwks.json"], "issuers[0].keys.discovery",
                    "set discovery: true to use OpenID Connect discovery"
                )
            ),
            Case(
                "a jwks_url that is not https",
                (
                    ["jwks_url: http://issuer.test/jwks", "jwks_file: pinned-jwks.json"], "issuers[0].keys.jwks_url",
                    "must be an https URL (plain http only for loopback test issuers)"
                )
            ),
        ]
    )
    func pinnedPairFields(_ input: Case<([String], String, String)>) {
        let (keys, field, message) = input.value
        let problems = TrustConfigLoaderTests.problems(Self.withKeys(keys))
        #expect(problems.map(\.field) == [field])
        #expect(problems.map(\.message) == [message])
    }
}
