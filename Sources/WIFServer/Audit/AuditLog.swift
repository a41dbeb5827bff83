import Synchronization
import WIFCore

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Where audit records go: one JSON object per line, one line per `/token` decision. Never the tokens.
public struct AuditLog: Sendable {
    private let write: @Sendable ([UInt8]) -> Void

    /// An audit log that hands each line (without the newline) to `write`.
    public init(write: @escaping @Sendable ([UInt8]) -> Void) {
        self.write = write
    }

    /// Lines to standard output.
    public static var standardOutput: AuditLog {
        let lock = Mutex(())
        return AuditLog { line in
            lock.withLock { _ in
                var bytes = line
                bytes.append(0x0A)
                var offset = 0
                while offset < bytes.count {
                    let written = bytes[offset...].withUnsafeBytes { systemWrite(1, $0.baseAddress, $0.count) }
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }

    /// No audit output (for `wif demo`, which prints its own account of each step).
    public static var discarding: AuditLog { AuditLog { _ in } }

    func record(_ record: AuditRecord) {
        write(record.json.serialized())
    }
}

/// One decision as the audit log records it (docs/audit.md describes the fields).
struct AuditRecord {
    var time: Double
    var requestID: String
    var clientAddress: String?
    var grantType: String?
    var outcome: ExchangeOutcome
    var latencySeconds: Double

    var json: JSONValue {
        var fields: [String: JSONValue] = [
            "time": .number((time * 1000).rounded() / 1000),
            "request_id": .string(requestID),
            "latency_ms": .number((latencySeconds * 100_000).rounded() / 100),
        ]
        fields["client_address"] = clientAddress.map(JSONValue.string)
        fields["grant_type"] = grantType.map(JSONValue.string)
        if let request = outcome.request {
            fields["requested_audience"] = .array((request.audiences + request.resources).map { .string(Self.capped($0)) })
            fields["requested_scope"] = request.scopes.map { .string(Self.capped($0.joined(separator: " "))) }
            fields["client_id"] = request.clientID.map { .string(Self.capped($0)) }
        }
        fields["issuer"] = outcome.issuer.map(JSONValue.string)
        fields["subject"] = outcome.subject.map { .string(Self.capped($0)) }
        fields["subject_jti"] = outcome.subjectTokenID.map { .string(Self.capped($0)) }
        if let actor = outcome.actor {
            fields["actor"] = .object(["issuer": .string(actor.issuer), "subject": .string(Self.capped(actor.subject))])
        }
        if !outcome.evaluations.isEmpty {
            fields["policies"] = .array(
                outcome.evaluations.map { evaluation in
                    var entry: [String: JSONValue] = ["policy": .string(evaluation.policy.name), "matched": .bool(evaluation.matched)]
                    let failed = evaluation.conditions.filter { !$0.passed }.map { JSONValue.string(Self.capped($0.reason)) }
                    if !failed.isEmpty { entry["failed_conditions"] = .array(failed) }
                    if let refusal = evaluation.grantRefusal { entry["refusal"] = .string(refusal.code.rawValue) }
                    return .object(entry)
                }
            )
        }
        switch outcome.result {
        case .success(let issued):
            fields["outcome"] = "granted"
            fields["policy"] = .string(issued.grant.policy.name)
            fields["granted_audience"] = .array(issued.grant.audiences.map(JSONValue.string))
            fields["granted_scope"] = .string(issued.grant.scopes.joined(separator: " "))
            fields["issued_jti"] = .string(issued.tokenID)
            fields["issued_exp"] = .number(Double(issued.grant.expiresAt))
        case .failure(let error):
            fields.merge(Self.denial(error)) { $1 }
        }
        return .object(fields)
    }

    private static func denial(_ error: ExchangeError) -> [String: JSONValue] {
        var fields: [String: JSONValue] = ["outcome": "denied", "reason": .string(error.code.rawValue), "stage": .string(error.stage)]
        fields["detail"] = error.detail.map { .string(capped($0)) }
        return fields
    }

    /// Caps untrusted text in the log (the serializer escapes it).
    static func capped(_ text: String) -> String {
        text.utf8.count <= 512 ? text : String(decoding: text.utf8.prefix(509), as: UTF8.self) + "..."
    }
}
