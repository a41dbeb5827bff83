import Foundation
import Logging
import NIOHTTP1
import Prometheus
import Testing
import WIFCore
import WIFServer
import WIFSources
import WIFTesting

@Suite("Audit log: schema, traces, file sink, fail-closed")
struct AuditTests {
    /// The documented schema (docs/audit.md): every field a record may carry and its JSON type.
    static let schema: [String: String] = [
        "time": "number", "request_id": "string", "latency_ms": "number", "client_address": "string", "grant_type": "string",
        "requested_audience": "array", "requested_scope": "string", "client_id": "string", "trust_config": "string", "issuer": "string",
        "subject": "string", "subject_jti": "string", "actor": "object", "policies": "array", "outcome": "string", "policy": "string",
        "granted_audience": "array", "granted_scope": "string", "issued_jti": "string", "issued_exp": "number", "reason": "string",
        "stage": "string", "detail": "string", "closest_policy": "object", "shadow": "array",
    ]

    static func type(of value: JSONValue) -> String {
        switch value {
        case .string: "string"
        case .number: "number"
        case .bool: "bool"
        case .array: "array"
        case .object: "object"
        case .null: "null"
        }
    }

    @Test("every record of granted, denied, delegated and malformed requests fits the documented schema")
    func schemaOfRecords() async throws {
        try await ExchangeHarness.with { harness in
            _ = try await harness.exchange(try harness.validToken(), [("scope", "ledger.read")])
            _ = try await harness.exchange(try harness.workloadToken(namespace: "payments", serviceAccount: "intruder"))
            _ = try await harness.exchange(
                try harness.validToken(),
                [("actor_token", try harness.workloadToken(namespace: "edge", serviceAccount: "gateway")), ("actor_token_type", TokenTypeURI.jwt)]
            )
            _ = try await harness.send(body: "grant_type=password")
            _ = try await harness.send(method: .GET, contentType: nil, body: "")
            #expect(harness.audit.count == 5)
            for record in harness.audit {
                let fields = try #require(record.objectValue)
                for (name, value) in fields {
                    #expect(Self.schema[name] == Self.type(of: value), "\(name) is \(Self.type(of: value))")
                }
                for required in ["time", "request_id", "latency_ms", "outcome"] { #expect(fields[required] != nil, "\(required)") }
                #expect(["granted", "denied"].contains(record["outcome"]?.stringValue ?? ""))
            }
            let text = harness.audit.map { String(decoding: $0.serialized(), as: UTF8.self) }.joined()
            #expect(!text.contains("eyJ"), "no token is ever logged")
        }
    }

    @Test("a granted and a denied record carry exactly their members (the harness has a shadow policy), with their values")
    func membersOfRecords() async throws {
        try await ExchangeHarness.with { harness in
            let subjectToken = try harness.validToken()
            let answer = try await harness.exchange(subjectToken, [("scope", "ledger.read")])
            let claims = try await harness.issuedClaims(answer)
            let subject = try #require(try UnverifiedToken(parsing: subjectToken).claims.objectValue)
            let granted = try #require(harness.audit.last?.objectValue)
            #expect(
                Set(granted.keys) == [
                    "time", "request_id", "latency_ms", "client_address", "grant_type", "requested_audience", "requested_scope",
                    "trust_config", "issuer", "subject", "subject_jti", "policies", "outcome", "policy", "granted_audience",
                    "granted_scope", "issued_jti", "issued_exp", "shadow",
                ]
            )
            #expect(granted["outcome"] == "granted" && granted["policy"] == claims["wif_policy"])
            #expect(granted["issued_jti"] == claims["jti"] && granted["issued_exp"] == claims["exp"])
            #expect(granted["subject"] == subject["sub"] && granted["subject_jti"] == subject["jti"])
            #expect(granted["granted_scope"] == "ledger.read" && granted["requested_scope"] == "ledger.read")
            #expect(granted["grant_type"]?.stringValue == GrantType.tokenExchange.rawValue)
            #expect(granted["trust_config"] == claims["wif_config"] && granted["client_address"] == "127.0.0.1")

            _ = try await harness.exchange(try harness.workloadToken(namespace: "payments", serviceAccount: "intruder"))
            let denied = try #require(harness.audit.last?.objectValue)
            #expect(
                Set(denied.keys) == [
                    "time", "request_id", "latency_ms", "client_address", "grant_type", "requested_audience", "trust_config", "issuer",
                    "subject", "subject_jti", "policies", "outcome", "reason", "stage", "detail", "closest_policy", "shadow",
                ]
            )
            #expect(denied["outcome"] == "denied" && denied["reason"] == "no_policy_matched")
            #expect(denied["subject"] == "system:serviceaccount:payments:intruder")
        }
    }

    @Test("a granted record names the config version and the token carries wif_policy and wif_config")
    func grantedTrace() async throws {
        try await ExchangeHarness.with { harness in
            let answer = try await harness.exchange(try harness.validToken())
            let claims = try await harness.issuedClaims(answer)
            let record = try #require(harness.audit.last)
            #expect(claims["wif_policy"] == "payments-api")
            #expect(claims["wif_config"] != nil)
            #expect(record["trust_config"] == claims["wif_config"])
            #expect(record["request_id"]?.stringValue == answer.headers["X-Request-Id"].first)
        }
    }

    @Test("a denial records the policy that came closest with each failed claim, expected and actual")
    func closestPolicy() async throws {
        try await ExchangeHarness.with { harness in
            // payments/intruder meets payments-api's namespace condition but not its service-account one.
            let answer = try await harness.exchange(try harness.workloadToken(namespace: "payments", serviceAccount: "intruder"))
            let record = harness.expectRefusal(answer, status: 400, error: "invalid_request", reason: "no_policy_matched")
            let closest = try #require(record?["closest_policy"])
            #expect(closest["policy"] == "payments-api")
            let failed = try #require(closest["failed"]?.arrayValue)
            #expect(failed.count == 1)
            #expect(failed.first?["claim"]?.stringValue?.contains("serviceaccount") == true)
            #expect(failed.first?["actual"] == #""intruder""#)
        }
    }

    @Test("every response carries X-Request-Id, 404s and metadata included")
    func requestIDEverywhere() async throws {
        try await ExchangeHarness.with { harness in
            for path in ["/healthz", "/.well-known/jwks.json", "/nowhere"] {
                let answer = try await harness.send(method: .GET, path: path, contentType: nil, body: "")
                #expect(answer.headers["X-Request-Id"].first?.isEmpty == false, "\(path)")
            }
            let first = try await harness.exchange("x").headers["X-Request-Id"].first
            let second = try await harness.exchange("x").headers["X-Request-Id"].first
            #expect(first != second)
        }
    }

    @Test("the file sink appends whole JSON lines, mode 0600, and follows rotation and deletion of the file")
    func fileSink() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wif-audit-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AuditLog.file(path)
        for index in 0..<3 { #expect(log.write(Array(#"{"n":\#(index)}"#.utf8))) }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(throws: AuditLogError.self) { try AuditLog.file("/nonexistent-dir/audit.log") }

        // Rotation (rename) and deletion: the next record goes to a new file at the path, not into the void.
        let rotated = path + ".1"
        defer { try? FileManager.default.removeItem(atPath: rotated) }
        try FileManager.default.moveItem(atPath: path, toPath: rotated)
        #expect(log.write(Array(#"{"n":3}"#.utf8)))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"n\":3}\n")
        try FileManager.default.removeItem(atPath: path)
        #expect(log.write(Array(#"{"n":4}"#.utf8)))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"n\":4}\n")
        #expect(try String(contentsOfFile: rotated, encoding: .utf8).hasSuffix("{\"n\":2}\n"))
    }

    @Test("when the audit log cannot be written, nothing is issued: 503 temporarily_unavailable")
    func failClosed() async throws {
        try await ExchangeHarness.with(audit: AuditLog { (_: [UInt8]) -> Bool in false }) { harness in
            let answer = try await harness.exchange(try harness.validToken())
            #expect(answer.status == 503)
            #expect(answer.body["error"] == "temporarily_unavailable")
            #expect(answer.body["access_token"] == nil)
            #expect(answer.headers["Retry-After"].first == "30")
        }
    }

    @Test("a mode: audit policy is evaluated and logged as would-grant or would-deny, and never grants")
    func shadowPolicy() async throws {
        try await ExchangeHarness.with(metrics: PrometheusCollectorRegistry()) { harness in
            let denied = try await harness.exchange(try harness.workloadToken(namespace: "payments", serviceAccount: "intruder"))
            let record = harness.expectRefusal(denied, status: 400, error: "invalid_request", reason: "no_policy_matched")
            #expect(
                record?["shadow"] == [["policy": "payments-next", "would": "grant", "audience": ["https://ledger.internal"], "scope": "ledger.read"]]
            )
            #expect(record?["policies"]?.arrayValue?.contains { $0["policy"] == "payments-next" } == false, "not among enforced policies")

            let other = try await harness.exchange(try harness.workloadToken(namespace: "edge", serviceAccount: "gateway"))
            #expect(other.status == 400)
            #expect(harness.audit.last?["shadow"]?.arrayValue?.first?["would"] == "deny")
            #expect(harness.audit.last?["shadow"]?.arrayValue?.first?["reason"] == "no_policy_matched")

            let metrics = try await harness.send(method: .GET, path: "/metrics", contentType: nil, body: "").text
            #expect(metrics.contains(#"wif_shadow_decisions_total{policy="payments-next",outcome="would_grant"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"wif_shadow_decisions_total{policy="payments-next",outcome="would_deny"} 1"#))
        }
    }
}
