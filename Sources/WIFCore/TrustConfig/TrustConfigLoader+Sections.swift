import Yams

extension Reader {
    /// One `issuers:` entry. A `profile:` supplies `algorithms`, `max_token_lifetime`, for some platforms
    /// `keys`, and for Kubernetes the `kubernetes:` intake options, wherever the entry leaves them out.
    mutating func issuer(_ node: Node, _ field: String) -> TrustedIssuer? {
        let keys: Set<String> = [
            "name", "issuer", "profile", "keys", "audiences", "algorithms", "max_token_lifetime", "leeway", "allow_insecure_loopback",
            "key_cache", "kubernetes",
        ]
        // A profile that does not parse is reported below; the fields it would supply are not required meanwhile.
        let namedProfile = node["profile"]?.scalar?.string
        let peeked = namedProfile.flatMap(IssuerProfile.init(rawValue:))
        var required: Set<String> = ["name", "issuer", "audiences"]
        if namedProfile == nil {
            required.formUnion(["keys", "algorithms"])
        } else if let peeked, peeked.defaults.keySource == nil {
            required.insert("keys")
        }
        guard let map = mapping(node, field, allowed: keys, required: required) else { return nil }
        let before = problems.count
        let name = string(map["name"], join(field, "name"))
        checkName(name, map["name"], join(field, "name"))
        let profile = issuerProfile(map["profile"], join(field, "profile"))
        let defaults = profile?.defaults
        let insecure = bool(map["allow_insecure_loopback"], join(field, "allow_insecure_loopback")) ?? false
        let iss = string(map["issuer"], join(field, "issuer"))
        if let iss, iss.contains("{") || iss.contains("}") {
            problem(map["issuer"], join(field, "issuer"), "templates such as {tenantid} are not allowed: pin the exact issuer")
        }
        let sourceAndPin =
            map["keys"] == nil ? defaults?.keySource.map { ($0, nil) } : keySource(map["keys"], join(field, "keys"), insecure: insecure)
        let source = sourceAndPin?.0
        let pinned = sourceAndPin?.1
        if let iss, let source, source == .discovery || iss.hasPrefix("http") {
            checkURL(iss, node: map["issuer"], field: join(field, "issuer"), insecure: insecure)
        }
        let audiences = strings(map["audiences"], join(field, "audiences"), nonEmpty: true)
        var algorithms: Set<JWSAlgorithm> = map["algorithms"] == nil ? defaults?.algorithms ?? [] : []
        if let names = strings(map["algorithms"], join(field, "algorithms"), nonEmpty: true) {
            for algName in names {
                if let alg = JWSAlgorithm(rawValue: algName) {
                    algorithms.insert(alg)
                } else if algName.lowercased() == "none" || algName.uppercased().hasPrefix("HS") {
                    problem(map["algorithms"], join(field, "algorithms"), "\(algName) is never accepted from an external issuer")
                } else {
                    problem(
                        map["algorithms"],
                        join(field, "algorithms"),
                        "unsupported algorithm \(algName.debugDescription) (supported: \(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
            }
        }
        let lifetime =
            duration(map["max_token_lifetime"], join(field, "max_token_lifetime"), max: 7 * 24 * 3600)
            ?? defaults?.maxTokenLifetime ?? TrustedIssuer.defaultMaxTokenLifetime
        let leeway = duration(map["leeway"], join(field, "leeway"), max: TrustedIssuer.maxLeeway, min: 0) ?? TrustedIssuer.defaultLeeway
        let cache = map["key_cache"].flatMap { keyCache($0, join(field, "key_cache")) } ?? KeyCachePolicy()
        let intakeDefaults = defaults?.kubernetes ?? KubernetesIntake()
        let intake = map["kubernetes"].flatMap { kubernetesIntake($0, join(field, "kubernetes"), defaults: intakeDefaults) } ?? intakeDefaults
        guard problems.count == before, let name, let iss, let source, let audiences else { return nil }
        return TrustedIssuer(
            name: name,
            issuer: iss,
            keySource: source,
            audiences: audiences,
            algorithms: algorithms,
            maxTokenLifetime: lifetime,
            leeway: leeway,
            allowInsecureLoopback: insecure,
            pinnedKeysFile: pinned,
            keyCache: cache,
            kubernetes: intake,
            profile: profile
        )
    }

    /// An issuer's `profile:`.
    private mutating func issuerProfile(_ node: Node?, _ field: String) -> IssuerProfile? {
        guard let node, let text = string(node, field) else { return nil }
        guard let profile = IssuerProfile(rawValue: text) else {
            problem(
                node,
                field,
                "unknown profile \(text.debugDescription) (known: \(IssuerProfile.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
            return nil
        }
        return profile
    }

    /// An issuer's `key_cache:` section.
    private mutating func keyCache(_ node: Node, _ field: String) -> KeyCachePolicy? {
        let names: Set<String> = ["min_refresh", "max_refresh", "default_refresh", "unknown_kid_interval", "max_stale"]
        guard let map = mapping(node, field, allowed: names) else { return nil }
        let defaults = KeyCachePolicy()
        let week = 7 * 24 * 3600
        let minRefresh = duration(map["min_refresh"], join(field, "min_refresh"), max: 24 * 3600) ?? defaults.minRefresh
        let maxRefresh = duration(map["max_refresh"], join(field, "max_refresh"), max: week) ?? max(defaults.maxRefresh, minRefresh)
        if maxRefresh < minRefresh { problem(map["max_refresh"], join(field, "max_refresh"), "must not be shorter than min_refresh") }
        // The stale window counts from the last successful fetch: shorter than the refresh interval, the keys
        // would lapse before their scheduled refresh (with 0, right after every fetch).
        let maxStale = duration(map["max_stale"], join(field, "max_stale"), max: 30 * 24 * 3600, min: 0) ?? max(defaults.maxStale, maxRefresh)
        if maxStale < maxRefresh { problem(map["max_stale"], join(field, "max_stale"), "must not be shorter than max_refresh") }
        return KeyCachePolicy(
            minRefresh: minRefresh,
            maxRefresh: maxRefresh,
            defaultRefresh: duration(map["default_refresh"], join(field, "default_refresh"), max: week) ?? defaults.defaultRefresh,
            unknownKeyInterval: duration(map["unknown_kid_interval"], join(field, "unknown_kid_interval"), max: 3600)
                ?? defaults.unknownKeyInterval,
            maxStale: maxStale
        )
    }

    /// An issuer's `kubernetes:` section; fields it leaves out come from `defaults` (a profile's, or none).
    private mutating func kubernetesIntake(_ node: Node, _ field: String, defaults: KubernetesIntake) -> KubernetesIntake? {
        guard let map = mapping(node, field, allowed: ["max_token_age", "require_pod_binding", "warnafter_as_expiry"]) else { return nil }
        return KubernetesIntake(
            maxTokenAge: duration(map["max_token_age"], join(field, "max_token_age"), max: 7 * 24 * 3600) ?? defaults.maxTokenAge,
            requirePodBinding: bool(map["require_pod_binding"], join(field, "require_pod_binding")) ?? defaults.requirePodBinding,
            warnAfterAsExpiry: bool(map["warnafter_as_expiry"], join(field, "warnafter_as_expiry")) ?? defaults.warnAfterAsExpiry
        )
    }

    /// An issuer's `keys:` section: one live source, and optionally `jwks_file` pinned beside discovery or
    /// `jwks_url`.
    private mutating func keySource(_ node: Node?, _ field: String, insecure: Bool) -> (TrustedIssuer.KeySource, String?)? {
        guard let node, let map = mapping(node, field, allowed: ["discovery", "jwks_url", "jwks_file", "development"]) else { return nil }
        let live = map.keys.filter { $0 != "jwks_file" }
        let pinnable = map.count == 2 && map["jwks_file"] != nil && (map["discovery"] != nil || map["jwks_url"] != nil)
        guard map.count == 1 || pinnable, let kind = live.first ?? map.keys.first, let value = map[kind] else {
            problem(node, field, "name one of discovery, jwks_url, jwks_file, development (jwks_file may pin keys beside discovery or jwks_url)")
            return nil
        }
        let pinned = pinnable ? string(map["jwks_file"], join(field, "jwks_file")) : nil
        if pinnable, pinned == nil { return nil }
        let subfield = join(field, kind)
        switch kind {
        case "discovery":
            guard bool(value, subfield) == true else {
                problem(value, subfield, "set discovery: true to use OpenID Connect discovery")
                return nil
            }
            return (.discovery, pinned)
        case "development":
            guard bool(value, subfield) == true else {
                problem(value, subfield, "set development: true to use wif's local development issuer")
                return nil
            }
            return (.development, nil)
        case "jwks_url":
            guard let url = string(value, subfield), checkURL(url, node: value, field: subfield, insecure: insecure) else { return nil }
            return (.jwksURL(url), pinned)
        default:
            return string(value, subfield).map { (.jwksFile($0), nil) }
        }
    }

    /// The key-source URL rule (``KeySourceURL``), reported as a problem.
    @discardableResult
    private mutating func checkURL(_ url: String, node: Node?, field: String, insecure: Bool) -> Bool {
        guard let message = KeySourceURL.problem(url, insecureLoopback: insecure) else { return true }
        problem(node, field, message)
        return false
    }

    /// Issuer and policy names appear in issued tokens (`client_id`) and the audit log: keep them plain.
    private mutating func checkName(_ name: String?, _ node: Node?, _ field: String) {
        if let name, name.wholeMatch(of: /[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}/) == nil {
            problem(node, field, "use letters, digits, '.', '_' and '-' (at most 63)")
        }
    }

    /// One `policies:` entry.
    mutating func policy(_ node: Node, _ field: String) -> TrustPolicy? {
        guard
            let map = mapping(
                node,
                field,
                allowed: ["name", "issuer", "description", "mode", "conditions", "grant", "delegation"],
                required: ["name", "issuer", "conditions", "grant"]
            )
        else {
            return nil
        }
        let before = problems.count
        let name = string(map["name"], join(field, "name"))
        checkName(name, map["name"], join(field, "name"))
        let issuer = string(map["issuer"], join(field, "issuer"))
        _ = string(map["description"], join(field, "description"), nonEmpty: false)
        let mode = policyMode(map["mode"], join(field, "mode"))
        let admitted = conditions(map["conditions"], join(field, "conditions"), admitting: "every token of its issuer")
        var issuedGrant: TrustPolicy.Grant?
        if let grantNode = map["grant"] { issuedGrant = grant(grantNode, join(field, "grant"), policyName: name ?? "") }
        var actors: TrustPolicy.Delegation?
        if let delegationNode = map["delegation"] { actors = delegation(delegationNode, join(field, "delegation")) }
        guard problems.count == before, let name, let issuer, let grant = issuedGrant, !admitted.isEmpty else { return nil }
        return TrustPolicy(name: name, issuer: issuer, conditions: admitted, grant: grant, delegation: actors, mode: mode)
    }

    /// A policy's `mode:`, `enforce` (the default) or `audit`.
    private mutating func policyMode(_ node: Node?, _ field: String) -> TrustPolicy.Mode {
        guard let node, let text = string(node, field) else { return .enforce }
        guard let mode = TrustPolicy.Mode(rawValue: text) else {
            problem(node, field, "expected enforce or audit")
            return .enforce
        }
        return mode
    }

    /// A `conditions:` list: at least one, and one of them must narrow which workload the token names.
    private mutating func conditions(_ list: Node?, _ field: String, admitting whom: String) -> [ClaimCondition] {
        guard let list else { return [] }
        let nodes = sequence(list, field)
        if nodes.isEmpty, list.sequence != nil {
            problem(list, field, "an empty condition list would admit \(whom)")
        }
        var parsed: [ClaimCondition] = []
        for (index, conditionNode) in nodes.enumerated() {
            if let condition = condition(conditionNode, "\(field)[\(index)]") { parsed.append(condition) }
        }
        if !parsed.isEmpty, !parsed.contains(where: \.narrowsIdentity) {
            problem(
                list,
                field,
                "no condition narrows which workload this is (conditions on iss, aud or time claims and match-anything patterns hold for every token of the issuer): add one on sub or an identity claim"
            )
        }
        return parsed
    }

    /// A policy's `delegation:` section: `actors:`, each an issuer name and conditions on the actor token.
    private mutating func delegation(_ node: Node, _ field: String) -> TrustPolicy.Delegation? {
        guard let map = mapping(node, field, allowed: ["actors"], required: ["actors"]), let list = map["actors"] else { return nil }
        let before = problems.count
        let nodes = sequence(list, join(field, "actors"))
        if nodes.isEmpty, list.sequence != nil { problem(list, join(field, "actors"), "name at least one actor, or remove delegation") }
        var actors: [TrustPolicy.Delegation.Actor] = []
        for (index, actorNode) in nodes.enumerated() {
            let actorField = "\(field).actors[\(index)]"
            guard let actorMap = mapping(actorNode, actorField, allowed: ["issuer", "conditions"], required: ["issuer", "conditions"]) else {
                continue
            }
            let issuer = string(actorMap["issuer"], join(actorField, "issuer"))
            let admitted = conditions(actorMap["conditions"], join(actorField, "conditions"), admitting: "every token of that issuer as actor")
            if let issuer, !admitted.isEmpty { actors.append(TrustPolicy.Delegation.Actor(issuer: issuer, conditions: admitted)) }
        }
        guard problems.count == before, !actors.isEmpty else { return nil }
        return TrustPolicy.Delegation(actors: actors)
    }

    private mutating func condition(_ node: Node, _ field: String) -> ClaimCondition? {
        let matchers: Set<String> = ["equals", "one_of", "glob", "regex", "contains"]
        guard let map = mapping(node, field, allowed: matchers.union(["claim"]), required: ["claim"]) else { return nil }
        let path = claimPath(map["claim"], join(field, "claim"))
        let named = map.keys.filter(matchers.contains)
        guard named.count == 1, let kind = named.first, let value = map[kind] else {
            problem(node, field, "name exactly one of \(matchers.sorted().joined(separator: ", "))")
            return nil
        }
        let subfield = join(field, kind)
        let matcher: ClaimCondition.Matcher?
        switch kind {
        case "equals": matcher = jsonValue(value, subfield).map { .equals($0) }
        case "contains": matcher = jsonValue(value, subfield).map { .contains($0) }
        case "one_of":
            let options = sequence(value, subfield).enumerated().compactMap { jsonValue($1, "\(subfield)[\($0)]") }
            if options.isEmpty { problem(value, subfield, "must list at least one value") }
            matcher = options.isEmpty ? nil : .oneOf(options)
        case "glob":
            matcher = string(value, subfield).map { .glob(GlobPattern($0)) }
        default:
            if let pattern = string(value, subfield) {
                do {
                    matcher = .regex(try AnchoredRegex(pattern))
                } catch {
                    problem(value, subfield, "regular expression does not compile: \(error)")
                    matcher = nil
                }
            } else {
                matcher = nil
            }
        }
        guard let path, let matcher else { return nil }
        return ClaimCondition(claim: path, matcher: matcher)
    }

    private mutating func grant(_ node: Node, _ field: String, policyName: String) -> TrustPolicy.Grant? {
        let keys: Set<String> = [
            "audiences", "scopes", "default_scopes", "max_lifetime", "may_outlive_subject_token", "subject_claim", "claims", "client_id",
            "client_id_claim",
        ]
        guard let map = mapping(node, field, allowed: keys, required: ["audiences", "scopes"]) else { return nil }
        let before = problems.count
        let audiences = strings(map["audiences"], join(field, "audiences"), nonEmpty: true)
        let scopes = strings(map["scopes"], join(field, "scopes"), nonEmpty: false)
        if scopes?.isEmpty == true, map["scopes"]?.sequence != nil {
            warn(
                map["scopes"],
                join(field, "scopes"),
                "the policy grants no scope: its tokens carry only an audience; list the scopes the API checks, or keep [] if the audience alone authorizes"
            )
        }
        for scope in scopes ?? [] where (try? ExchangeRequest.parseScope(scope))??.count != 1 {
            problem(map["scopes"], join(field, "scopes"), "\(scope.debugDescription) is not a valid scope token")
        }
        let defaults = strings(map["default_scopes"], join(field, "default_scopes"), nonEmpty: false)
        for scope in defaults ?? [] where !(scopes ?? []).contains(scope) {
            problem(map["default_scopes"], join(field, "default_scopes"), "\(scope.debugDescription) is not one of the granted scopes")
        }
        let maxLifetime =
            duration(map["max_lifetime"], join(field, "max_lifetime"), max: TrustPolicy.Grant.maxMaxLifetime) ?? TrustPolicy.Grant.defaultMaxLifetime
        let outlive = bool(map["may_outlive_subject_token"], join(field, "may_outlive_subject_token")) ?? false
        let subjectClaim = claimPath(map["subject_claim"], join(field, "subject_claim")) ?? ClaimPath(["sub"])
        var mapped: [String: ClaimPath] = [:]
        if let claimsNode = map["claims"] {
            if case .mapping(let pairs) = claimsNode {
                for (keyNode, valueNode) in pairs {
                    guard let name = string(keyNode, join(field, "claims")) else { continue }
                    if ReservedClaims.names.contains(name) {
                        problem(keyNode, join(field, "claims.\(name)"), "\(name) is set by wif and cannot be mapped")
                    } else if let path = claimPath(valueNode, join(field, "claims.\(name)")) {
                        mapped[name] = path
                    }
                }
            } else {
                problem(claimsNode, join(field, "claims"), "expected a mapping of issued claim name to subject-token claim")
            }
        }
        let clientID = string(map["client_id"], join(field, "client_id")) ?? policyName
        let clientIDClaim = claimPath(map["client_id_claim"], join(field, "client_id_claim"))
        if map["client_id"] != nil, map["client_id_claim"] != nil {
            problem(map["client_id_claim"], join(field, "client_id_claim"), "name client_id or client_id_claim, not both")
        }
        guard problems.count == before, let audiences, let scopes else { return nil }
        return TrustPolicy.Grant(
            audiences: audiences,
            scopes: scopes,
            defaultScopes: defaults,
            maxLifetime: maxLifetime,
            mayOutliveSubjectToken: outlive,
            subjectClaim: subjectClaim,
            mappedClaims: mapped,
            clientID: clientID,
            clientIDClaim: clientIDClaim
        )
    }
}
