import Testing
import WIFCore

/// Policies, subject and actor tokens shared by the client-id and delegation suites.
enum DelegationFixtures {
    static let actorIssuerURL = "https://ci.test"
    static let actorSubject = "deployer"
    /// The issuer actor tokens come from, trusted beside the subject tokens' `cluster`.
    static let actorIssuer = Fixtures.issuer(name: "ci", issuer: actorIssuerURL)
    static let otherIssuer = Fixtures.issuer(name: "other", issuer: "https://other.test")

    static func sub(_ value: String) -> ClaimCondition {
        ClaimCondition(claim: ClaimPath(["sub"]), matcher: .equals(.string(value)))
    }

    static let admitsDeployer = TrustPolicy.Delegation(actors: [.init(issuer: "ci", conditions: [sub(actorSubject)])])

    static func policy(
        _ name: String = "app",
        clientID: String = "client-app",
        clientIDClaim: ClaimPath? = nil,
        delegation: TrustPolicy.Delegation? = nil
    ) -> TrustPolicy {
        TrustPolicy(
            name: name,
            issuer: "cluster",
            conditions: [sub(Fixtures.subject)],
            grant: .init(audiences: ["https://api.internal"], scopes: ["read"], clientID: clientID, clientIDClaim: clientIDClaim),
            delegation: delegation
        )
    }

    /// A verified actor token of `issuer` with `sub` and further claim changes.
    static func actor(
        sub: String = actorSubject,
        issuer: TrustedIssuer = actorIssuer,
        _ changes: [String: JSONValue?] = [:]
    ) -> VerifiedToken {
        var claims: [String: JSONValue?] = ["iss": .string(issuer.issuer), "sub": .string(sub), "jti": "actor-token-1"]
        for (name, value) in changes { claims[name] = value }
        return Fixtures.verified(Fixtures.claims(claims), issuer: issuer)
    }

    static func decide(
        _ policies: [TrustPolicy],
        subject: JSONValue = Fixtures.claims(),
        actor: VerifiedToken? = nil,
        clientID: String? = nil
    ) -> PolicyDecision {
        PolicyEvaluator.decide(
            token: Fixtures.verified(subject),
            actor: actor,
            request: ExchangeRequest(subjectToken: "t", actorToken: actor == nil ? nil : "a", clientID: clientID),
            policies: policies,
            now: Fixtures.now
        )
    }

    static func failure(_ decision: PolicyDecision) -> ExchangeError? {
        if case .failure(let error) = decision.result { return error }
        return nil
    }
}

@Suite("PolicyEvaluator: a client_id the request sends must be the policy's client id")
struct ClientIDPolicyTests {
    typealias F = DelegationFixtures

    @Test("without a client_id the policy's client id is issued")
    func notSent() throws {
        #expect(try F.decide([F.policy()]).result.get().clientID == "client-app")
    }

    @Test("the policy's own client id is accepted and issued")
    func sentEqual() throws {
        #expect(try F.decide([F.policy()], clientID: "client-app").result.get().clientID == "client-app")
    }

    @Test(
        "any other client_id is clientIDMismatch, compared by code point",
        arguments: [
            Case("another client", ("client-app", "client-other")),
            Case("case", ("client-app", "Client-app")),
            Case("trailing space", ("client-app", "client-app ")),
            Case("prefix", ("client-app", "client")),
            Case("full width", ("app", "\u{FF41}\u{FF50}\u{FF50}")),
            Case("NFD for NFC", ("caf\u{E9}", "cafe\u{301}")),
            Case("NFC for NFD", ("cafe\u{301}", "caf\u{E9}")),
        ]
    )
    func mismatch(_ input: Case<(String, String)>) {
        let error = F.failure(F.decide([F.policy(clientID: input.value.0)], clientID: input.value.1))
        #expect(error?.code == .clientIDMismatch)
        #expect(error?.category == .client)
        #expect(error?.stage == "grant")
        #expect(error?.description == "client_id is not the one the trust policy names")
        #expect(error?.detail == "policy app expects client_id \(input.value.0.debugDescription)")
    }

    @Test("a loaded policy without client_id has its name as client id")
    func defaultsToPolicyName() throws {
        let config = try TrustConfigLoader.load([.init(name: "c.yaml", contents: DelegationConfigTests.yaml())])
        #expect(config.policies[0].grant.clientID == "app")
        #expect(try F.decide(config.policies, clientID: "app").result.get().clientID == "app")
        #expect(F.failure(F.decide(config.policies, clientID: "client-app"))?.code == .clientIDMismatch)
    }

    @Test("client_id_claim: the client id is that claim of the subject token, not the static one")
    func fromClaim() throws {
        let policy = F.policy(clientID: "client-app", clientIDClaim: ClaimPath(["kubernetes.io", "serviceaccount", "uid"]))
        #expect(try F.decide([policy]).result.get().clientID == "5b1c2f8e")
        #expect(try F.decide([policy], clientID: "5b1c2f8e").result.get().clientID == "5b1c2f8e")
        #expect(F.failure(F.decide([policy], clientID: "client-app"))?.code == .clientIDMismatch)
        let bySub = F.policy(clientIDClaim: ClaimPath(["sub"]))
        #expect(try F.decide([bySub], clientID: Fixtures.subject).result.get().clientID == Fixtures.subject)
    }

    @Test(
        "client_id_claim missing or unusable is tokenClaimsInvalid, whether or not a client_id was sent",
        arguments: [
            Case<JSONValue?>("missing", nil),
            Case<JSONValue?>("a number", 42),
            Case<JSONValue?>("an object", ["id": "x"]),
            Case<JSONValue?>("empty", ""),
            Case<JSONValue?>("a control character", "app\n"),
        ]
    )
    func claimUnusable(_ value: Case<JSONValue?>) {
        let policy = F.policy(clientIDClaim: ClaimPath(["azp"]))
        let subject = Fixtures.claims(["azp": value.value])
        for sent in [nil, "client-app"] {
            let error = F.failure(F.decide([policy], subject: subject, clientID: sent))
            #expect(error?.code == .tokenClaimsInvalid)
            #expect(error?.description == "subject token lacks a claim the trust policy requires")
            #expect(error?.detail == "policy app takes client_id from \(ClaimPath(["azp"]))")
        }
    }

    @Test("a client_id that only a later matching policy names selects that policy")
    func laterPolicy() throws {
        let decision = F.decide([F.policy("first", clientID: "a"), F.policy("second", clientID: "b")], clientID: "b")
        #expect(try decision.result.get().policy.name == "second")
        #expect(decision.evaluations.map { $0.grantRefusal?.code } == [.clientIDMismatch, nil])
        #expect(F.failure(F.decide([F.policy("first", clientID: "a"), F.policy("second", clientID: "b")], clientID: "c"))?.code == .clientIDMismatch)
    }
}

@Suite("PolicyEvaluator: delegation admits actors by rule, narrowed by may_act; act is issued")
struct DelegationPolicyTests {
    typealias F = DelegationFixtures

    static let refusedDescription = "actor is not permitted to act for the subject"

    static func refused(_ decision: PolicyDecision, detail: String) {
        let error = F.failure(decision)
        #expect(error?.code == .actorNotPermitted)
        #expect(error?.category == .token)
        #expect(error?.stage == "policy")
        #expect(error?.description == refusedDescription)
        #expect(error?.detail == detail)
    }

    @Test("an actor a rule names is admitted; act is {sub, iss} of the actor token")
    func admitted() throws {
        let grant = try F.decide([F.policy(delegation: F.admitsDeployer)], actor: F.actor()).result.get()
        #expect(grant.actor == ["sub": "deployer", "iss": "https://ci.test"])
        #expect(grant.subject == Fixtures.subject)
        #expect(grant.policy.name == "app")
    }

    @Test("a policy without a delegation section refuses every actor")
    func noDelegation() {
        Self.refused(F.decide([F.policy()], actor: F.actor()), detail: "policy app: the policy allows no delegation")
    }

    @Test("an actor token from an issuer no rule names is refused, even with matching claims")
    func otherIssuer() {
        let actor = F.actor(issuer: F.otherIssuer)
        Self.refused(F.decide([F.policy(delegation: F.admitsDeployer)], actor: actor), detail: "policy app: no actor rule for issuer other")
        let subjectsIssuer = F.actor(issuer: Fixtures.issuer())
        Self.refused(
            F.decide([F.policy(delegation: F.admitsDeployer)], actor: subjectsIssuer),
            detail: "policy app: no actor rule for issuer cluster"
        )
    }

    @Test("an actor whose claims fail the rule's conditions is refused with the failed conditions")
    func conditionsFail() {
        let decision = F.decide([F.policy(delegation: F.admitsDeployer)], actor: F.actor(sub: "intruder"))
        #expect(F.failure(decision)?.code == .actorNotPermitted)
        #expect(F.failure(decision)?.detail?.hasPrefix("policy app: actor conditions failed: claim sub is \"intruder\"") == true)
    }

    @Test("rules are evaluated on the actor token's claims, never the subject token's")
    func actorClaimsOnly() {
        let namesSubject = TrustPolicy.Delegation(actors: [.init(issuer: "ci", conditions: [F.sub(Fixtures.subject)])])
        #expect(F.failure(F.decide([F.policy(delegation: namesSubject)], actor: F.actor()))?.code == .actorNotPermitted)
    }

    @Test("every condition of a rule must hold; any one rule suffices")
    func rules() throws {
        let both = TrustPolicy.Delegation(actors: [
            .init(issuer: "ci", conditions: [F.sub("deployer"), ClaimCondition(claim: ClaimPath(["env"]), matcher: .equals("prod"))])
        ])
        #expect(F.failure(F.decide([F.policy(delegation: both)], actor: F.actor()))?.code == .actorNotPermitted)
        #expect(try F.decide([F.policy(delegation: both)], actor: F.actor(["env": "prod"])).result.get().actor != nil)
        let either = TrustPolicy.Delegation(actors: [
            .init(issuer: "ci", conditions: [F.sub("release-bot")]), .init(issuer: "other", conditions: [F.sub("deployer")]),
            .init(issuer: "ci", conditions: [F.sub("deployer")]),
        ])
        #expect(try F.decide([F.policy(delegation: either)], actor: F.actor()).result.get().actor?["sub"] == "deployer")
        #expect(try F.decide([F.policy(delegation: either)], actor: F.actor(sub: "release-bot")).result.get().actor?["sub"] == "release-bot")
        #expect(
            try F.decide([F.policy(delegation: either)], actor: F.actor(issuer: F.otherIssuer)).result.get().actor?["iss"] == "https://other.test"
        )
    }

    @Test(
        "may_act naming this actor admits it",
        arguments: [
            Case<JSONValue>("sub and iss", ["sub": "deployer", "iss": "https://ci.test"]),
            Case<JSONValue>("sub only", ["sub": "deployer"]),
        ]
    )
    func mayActAdmits(_ mayAct: Case<JSONValue>) throws {
        let subject = Fixtures.claims(["may_act": mayAct.value])
        let grant = try F.decide([F.policy(delegation: F.admitsDeployer)], subject: subject, actor: F.actor()).result.get()
        #expect(grant.actor == ["sub": "deployer", "iss": "https://ci.test"])
    }

    @Test(
        "may_act naming another sub is refused, compared by code point",
        arguments: [
            Case<JSONValue>("another sub", ["sub": "release-bot"]),
            Case<JSONValue>("case", ["sub": "Deployer"]),
            Case<JSONValue>("right iss, wrong sub", ["sub": "release-bot", "iss": "https://ci.test"]),
            Case<JSONValue>("sub not a string", ["sub": ["deployer"]]),
            Case<JSONValue>("sub null", ["sub": .null]),
        ]
    )
    func mayActSubMismatch(_ mayAct: Case<JSONValue>) {
        let subject = Fixtures.claims(["may_act": mayAct.value])
        Self.refused(
            F.decide([F.policy(delegation: F.admitsDeployer)], subject: subject, actor: F.actor()),
            detail: "policy app: the subject token's may_act names another sub"
        )
    }

    @Test("may_act sub compares code points: NFC and NFD spellings differ")
    func mayActCodePoints() {
        let delegation = TrustPolicy.Delegation(actors: [.init(issuer: "ci", conditions: [F.sub("caf\u{E9}")])])
        let subject = Fixtures.claims(["may_act": ["sub": "cafe\u{301}"]])
        Self.refused(
            F.decide([F.policy(delegation: delegation)], subject: subject, actor: F.actor(sub: "caf\u{E9}")),
            detail: "policy app: the subject token's may_act names another sub"
        )
    }

    @Test(
        "may_act naming another iss is refused; iss is the issuer URL, not its name",
        arguments: [
            Case<JSONValue>("another issuer", ["sub": "deployer", "iss": "https://other.test"]),
            Case<JSONValue>("the issuer's name", ["sub": "deployer", "iss": "ci"]),
            Case<JSONValue>("trailing slash", ["sub": "deployer", "iss": "https://ci.test/"]),
            Case<JSONValue>("iss not a string", ["sub": "deployer", "iss": 1]),
        ]
    )
    func mayActIssMismatch(_ mayAct: Case<JSONValue>) {
        let subject = Fixtures.claims(["may_act": mayAct.value])
        Self.refused(
            F.decide([F.policy(delegation: F.admitsDeployer)], subject: subject, actor: F.actor()),
            detail: "policy app: the subject token's may_act names another iss"
        )
    }

    @Test(
        "may_act that restricts the actor by anything but sub and iss is refused, not ignored",
        arguments: [
            Case<JSONValue>("iss only", ["iss": "https://ci.test"]),
            Case<JSONValue>("empty object", [:]),
            Case<JSONValue>("another member", ["sub": "deployer", "client_id": "x"]),
        ]
    )
    func mayActUncheckable(_ mayAct: Case<JSONValue>) {
        let subject = Fixtures.claims(["may_act": mayAct.value])
        Self.refused(
            F.decide([F.policy(delegation: F.admitsDeployer)], subject: subject, actor: F.actor()),
            detail: "policy app: the subject token's may_act names the actor by something other than sub and iss"
        )
    }

    @Test(
        "may_act that is not an object is refused",
        arguments: [
            Case<JSONValue>("string", "deployer"),
            Case<JSONValue>("array", [["sub": "deployer"]]),
            Case<JSONValue>("null", .null),
            Case<JSONValue>("boolean", true),
        ]
    )
    func mayActNotObject(_ mayAct: Case<JSONValue>) {
        let subject = Fixtures.claims(["may_act": mayAct.value])
        Self.refused(
            F.decide([F.policy(delegation: F.admitsDeployer)], subject: subject, actor: F.actor()),
            detail: "policy app: the subject token's may_act is not an object"
        )
    }

    @Test("may_act does not admit an actor the policy's rules refuse")
    func mayActDoesNotWiden() {
        let subject = Fixtures.claims(["may_act": ["sub": "intruder", "iss": "https://ci.test"]])
        #expect(
            F.failure(F.decide([F.policy(delegation: F.admitsDeployer)], subject: subject, actor: F.actor(sub: "intruder")))?.code
                == .actorNotPermitted
        )
    }

    @Test("without an actor token, may_act is not consulted")
    func mayActWithoutActor() throws {
        let subject = Fixtures.claims(["may_act": "not an object"])
        #expect(try F.decide([F.policy()], subject: subject).result.get().actor == nil)
    }

    @Test("the subject token's act is nested under the new actor as the earlier actors")
    func nestedAct() throws {
        let earlier: JSONValue = ["sub": "gateway", "iss": "https://gw.test", "act": ["sub": "edge"]]
        let subject = Fixtures.claims(["act": earlier])
        let grant = try F.decide([F.policy(delegation: F.admitsDeployer)], subject: subject, actor: F.actor()).result.get()
        #expect(grant.actor == ["sub": "deployer", "iss": "https://ci.test", "act": earlier])
    }

    @Test("the actor token's own act is not carried into the issued act")
    func actorsActIgnored() throws {
        let actor = F.actor(["act": ["sub": "someone"]])
        let grant = try F.decide([F.policy(delegation: F.admitsDeployer)], actor: actor).result.get()
        #expect(grant.actor == ["sub": "deployer", "iss": "https://ci.test"])
    }

    @Test("without an actor token the subject token's act carries over unchanged, with or without delegation")
    func actCarriedOver() throws {
        let earlier: JSONValue = ["sub": "gateway", "act": ["sub": "edge"]]
        let subject = Fixtures.claims(["act": earlier])
        #expect(try F.decide([F.policy()], subject: subject).result.get().actor == earlier)
        #expect(try F.decide([F.policy(delegation: F.admitsDeployer)], subject: subject).result.get().actor == earlier)
        #expect(try F.decide([F.policy()]).result.get().actor == nil)
    }

    @Test(
        "a subject act that is not an object is dropped, never issued",
        arguments: [Case<JSONValue>("string", "gateway"), Case<JSONValue>("array", ["gateway"])]
    )
    func malformedActDropped(_ act: Case<JSONValue>) throws {
        let subject = Fixtures.claims(["act": act.value])
        #expect(try F.decide([F.policy()], subject: subject).result.get().actor == nil)
        let delegated = try F.decide([F.policy(delegation: F.admitsDeployer)], subject: subject, actor: F.actor()).result.get()
        #expect(delegated.actor == ["sub": "deployer", "iss": "https://ci.test"])
    }

    @Test("a policy refusing the actor lets a later matching policy with delegation serve")
    func laterPolicyAdmits() throws {
        let decision = F.decide([F.policy("plain"), F.policy("delegating", delegation: F.admitsDeployer)], actor: F.actor())
        #expect(try decision.result.get().policy.name == "delegating")
        #expect(decision.evaluations.map { $0.grantRefusal?.code } == [.actorNotPermitted, nil])
    }
}

@Suite("AccessTokenMinter: the issued token carries act")
struct ActMintingTests {
    typealias F = DelegationFixtures
    static let minter = AccessTokenMinter(issuerURL: "https://wif.test", signingKey: SigningKey.generate())

    @Test("claims carry act when the grant has an actor, and no act otherwise")
    func claims() throws {
        let earlier: JSONValue = ["sub": "gateway"]
        let delegated = try F.decide([F.policy(delegation: F.admitsDeployer)], subject: Fixtures.claims(["act": earlier]), actor: F.actor())
            .result.get()
        #expect(Self.minter.claims(for: delegated, tokenID: "j")["act"] == ["sub": "deployer", "iss": "https://ci.test", "act": earlier])
        let carried = try F.decide([F.policy()], subject: Fixtures.claims(["act": earlier])).result.get()
        #expect(Self.minter.claims(for: carried, tokenID: "j")["act"] == earlier)
        let plain = try F.decide([F.policy()]).result.get()
        #expect(Self.minter.claims(for: plain, tokenID: "j")["act"] == nil)
        #expect(Self.minter.claims(for: plain, tokenID: "j").objectValue?.keys.contains("act") == false)
    }

    @Test("the signed token's payload carries act")
    func signed() throws {
        let grant = try F.decide([F.policy(delegation: F.admitsDeployer)], actor: F.actor()).result.get()
        let token = try Self.minter.mint(grant, tokenID: "j")
        let payload = try JSONValue.parse(try #require(Base64URL.decode(String(token.segments[1]))))
        #expect(payload["act"] == ["sub": "deployer", "iss": "https://ci.test"])
        #expect(payload["sub"] == .string(Fixtures.subject))
    }
}

@Suite("TrustConfigLoader: delegation actors and client_id_claim")
struct DelegationConfigTests {
    /// Two issuers (`cluster`, `ci`) and one policy `app` with `policyLines` added to it and `grantLines` to its grant.
    static func yaml(policyLines: [String] = [], grantLines: [String] = []) -> String {
        let lines =
            [
                "issuers:",
                "  - name: cluster",
                "    issuer: https://issuer.test",
                "    keys:",
                "      jwks_url: https://issuer.test/jwks",
                "    audiences: [wif]",
                "    algorithms: [ES256]",
                "  - name: ci",
                "    issuer: https://ci.test",
                "    keys:",
                "      jwks_url: https://ci.test/jwks",
                "    audiences: [wif]",
                "    algorithms: [ES256]",
                "policies:",
                "  - name: app",
                "    issuer: cluster",
                "    conditions:",
                "      - claim: sub",
                "        equals: system:serviceaccount:demo:app",
                "    grant:",
                "      audiences: [https://api.internal]",
                "      scopes: [read]",
            ] + grantLines.map { "      " + $0 } + policyLines.map { "    " + $0 }
        return lines.joined(separator: "\n")
    }

    static func load(_ yaml: String) -> Result<TrustConfig, TrustConfigError> {
        Result { () throws(TrustConfigError) in try TrustConfigLoader.load([.init(name: "config.yaml", contents: yaml)]) }
    }

    static func problems(_ yaml: String) -> [TrustConfigProblem] {
        if case .failure(let error) = load(yaml) { return error.problems }
        return []
    }

    static let example = [
        "delegation:",
        "  actors:",
        "    - issuer: ci",
        "      conditions:",
        "        - claim: sub",
        "          equals: deployer",
        "    - issuer: cluster",
        "      conditions:",
        "        - claim: [kubernetes.io, namespace]",
        "          equals: gateways",
        "        - claim: sub",
        "          glob: 'system:serviceaccount:gateways:*'",
    ]

    @Test("a delegation section compiles into actor rules")
    func example() throws {
        let config = try Self.load(Self.yaml(policyLines: Self.example)).get()
        let delegation = try #require(config.policies[0].delegation)
        #expect(
            delegation
                == TrustPolicy.Delegation(actors: [
                    .init(issuer: "ci", conditions: [ClaimCondition(claim: ClaimPath(["sub"]), matcher: .equals("deployer"))]),
                    .init(
                        issuer: "cluster",
                        conditions: [
                            ClaimCondition(claim: ClaimPath(["kubernetes.io", "namespace"]), matcher: .equals("gateways")),
                            ClaimCondition(claim: ClaimPath(["sub"]), matcher: .glob(GlobPattern("system:serviceaccount:gateways:*"))),
                        ]
                    ),
                ])
        )
        #expect(try Self.load(Self.yaml()).get().policies[0].delegation == nil)
    }

    @Test("a loaded delegation admits its actor and refuses another")
    func loadedDelegationDecides() throws {
        let config = try Self.load(Self.yaml(policyLines: Self.example)).get()
        let ci = try #require(config.issuer(forIss: "https://ci.test"))
        let cluster = try #require(config.issuer(forIss: Fixtures.issuerURL))
        let subject = Fixtures.verified(issuer: cluster)
        func decide(_ actor: VerifiedToken) -> Result<IssuedGrant, ExchangeError> {
            PolicyEvaluator.decide(
                token: subject,
                actor: actor,
                request: ExchangeRequest(subjectToken: "t", actorToken: "a"),
                policies: config.policies,
                now: Fixtures.now
            ).result
        }
        let deployer = DelegationFixtures.actor(issuer: ci)
        #expect(try decide(deployer).get().actor == ["sub": "deployer", "iss": "https://ci.test"])
        #expect(throws: ExchangeError(.actorNotPermitted, "")) { try decide(DelegationFixtures.actor(sub: "intruder", issuer: ci)).get() }
    }

    @Test(
        "each bad delegation shape is reported at its field",
        arguments: [
            Case("not a mapping", (["delegation: [ci]"], "policies[0].delegation", "expected a mapping")),
            Case("no actors", (["delegation: {}"], "policies[0].delegation.actors", "is required")),
            Case("empty actors", (["delegation: {actors: []}"], "policies[0].delegation.actors", "name at least one actor, or remove delegation")),
            Case("actors not a list", (["delegation: {actors: {issuer: ci}}"], "policies[0].delegation.actors", "expected a list")),
            Case("actor not a mapping", (["delegation: {actors: [ci]}"], "policies[0].delegation.actors[0]", "expected a mapping")),
            Case(
                "unknown key in delegation",
                (
                    ["delegation:", "  mode: any", "  actors:", "    - issuer: ci", "      conditions: [{claim: sub, equals: d}]"],
                    "policies[0].delegation.mode", "unknown key (allowed: actors)"
                )
            ),
            Case(
                "unknown key in an actor",
                (
                    ["delegation:", "  actors:", "    - issuer: ci", "      audience: wif", "      conditions: [{claim: sub, equals: d}]"],
                    "policies[0].delegation.actors[0].audience", "unknown key (allowed: conditions, issuer)"
                )
            ),
            Case(
                "actor without issuer",
                (
                    ["delegation:", "  actors:", "    - conditions: [{claim: sub, equals: d}]"], "policies[0].delegation.actors[0].issuer",
                    "is required"
                )
            ),
            Case(
                "actor with an empty issuer",
                (
                    ["delegation:", "  actors:", "    - issuer: ''", "      conditions: [{claim: sub, equals: d}]"],
                    "policies[0].delegation.actors[0].issuer", "must not be empty"
                )
            ),
            Case(
                "actor without conditions",
                (["delegation:", "  actors:", "    - issuer: ci"], "policies[0].delegation.actors[0].conditions", "is required")
            ),
            Case(
                "actor with empty conditions",
                (
                    ["delegation:", "  actors:", "    - issuer: ci", "      conditions: []"], "policies[0].delegation.actors[0].conditions",
                    "an empty condition list would admit every token of that issuer as actor"
                )
            ),
            Case(
                "actor conditions on iss only",
                (
                    ["delegation:", "  actors:", "    - issuer: ci", "      conditions: [{claim: iss, equals: 'https://ci.test'}]"],
                    "policies[0].delegation.actors[0].conditions", "no condition narrows which workload this is"
                )
            ),
            Case(
                "actor conditions that match anything",
                (
                    ["delegation:", "  actors:", "    - issuer: ci", "      conditions: [{claim: sub, glob: '*'}]"],
                    "policies[0].delegation.actors[0].conditions", "no condition narrows which workload this is"
                )
            ),
            Case(
                "a bad actor condition",
                (
                    ["delegation:", "  actors:", "    - issuer: ci", "      conditions: [{claim: sub, regex: '[a-'}]"],
                    "policies[0].delegation.actors[0].conditions[0].regex", "regular expression does not compile"
                )
            ),
            Case(
                "the second actor",
                (
                    ["delegation:", "  actors:", "    - issuer: ci", "      conditions: [{claim: sub, equals: d}]", "    - issuer: cluster"],
                    "policies[0].delegation.actors[1].conditions", "is required"
                )
            ),
            Case(
                "an unknown actor issuer",
                (
                    ["delegation:", "  actors:", "    - issuer: nobody", "      conditions: [{claim: sub, equals: d}]"],
                    "policies[0].delegation.actors[0].issuer", #"no issuer is named "nobody""#
                )
            ),
        ]
    )
    func badShapes(_ input: Case<([String], String, String)>) {
        let (lines, field, message) = input.value
        let problems = Self.problems(Self.yaml(policyLines: lines))
        #expect(problems.map(\.field) == [field])
        #expect(problems.first?.message.hasPrefix(message) == true, "\(problems.map(\.message))")
        #expect(problems.first?.file == "config.yaml")
    }

    @Test("an unknown actor issuer is reported beside an unknown policy issuer")
    func unknownIssuers() {
        let yaml = Self.yaml(policyLines: ["delegation:", "  actors:", "    - issuer: nobody", "      conditions: [{claim: sub, equals: d}]"])
            .replacing("    issuer: cluster\n    conditions:", with: "    issuer: clutser\n    conditions:")
        let problems = Self.problems(yaml)
        #expect(problems.map(\.field) == ["policies[0].issuer", "policies[0].delegation.actors[0].issuer"])
        #expect(problems.map(\.message) == [#"no issuer is named "clutser""#, #"no issuer is named "nobody""#])
    }

    @Test("a problem inside delegation is located on its line")
    func lines() {
        let problems = Self.problems(Self.yaml(policyLines: ["delegation:", "  actors:", "    - issuer: ci", "      conditions: []"]))
        #expect(problems.map(\.line) == [26])
    }

    @Test("client_id_claim compiles to a claim path, as a name or a list")
    func clientIDClaim() throws {
        let byName = try Self.load(Self.yaml(grantLines: ["client_id_claim: sub"])).get()
        #expect(byName.policies[0].grant.clientIDClaim == ClaimPath(["sub"]))
        let byPath = try Self.load(Self.yaml(grantLines: ["client_id_claim: [kubernetes.io, serviceaccount, name]"])).get()
        #expect(byPath.policies[0].grant.clientIDClaim == ClaimPath(["kubernetes.io", "serviceaccount", "name"]))
        #expect(try Self.load(Self.yaml()).get().policies[0].grant.clientIDClaim == nil)
        let subject = Fixtures.verified()
        let decision = PolicyEvaluator.decide(
            token: subject,
            request: ExchangeRequest(subjectToken: "t", clientID: "app"),
            policies: byPath.policies,
            now: Fixtures.now
        )
        #expect(try decision.result.get().clientID == "app")
    }

    @Test(
        "a bad client_id_claim is reported at its field",
        arguments: [
            Case("with client_id", (["client_id: app", "client_id_claim: sub"], "name client_id or client_id_claim, not both")),
            Case("empty list", (["client_id_claim: []"], "must list at least one value")),
            Case("empty name", (["client_id_claim: ''"], "must not be empty")),
            Case("a mapping", (["client_id_claim: {claim: sub}"], "expected a string")),
        ]
    )
    func badClientIDClaim(_ input: Case<([String], String)>) {
        let problems = Self.problems(Self.yaml(grantLines: input.value.0))
        #expect(problems.map(\.field) == ["policies[0].grant.client_id_claim"])
        #expect(problems.first?.message == input.value.1)
    }
}
