import Synchronization
import WIFCore
import WIFSources

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Where audit records go: one JSON object per line, one line per `/token` decision. Never the tokens.
///
/// Writing is part of answering: a record that cannot be written makes the request fail with 503
/// `temporarily_unavailable` instead of issuing a token nobody recorded (security-cases.md D4).
public struct AuditLog: Sendable {
    /// Writes one line (without its newline); false when it was not kept.
    public let write: @Sendable ([UInt8]) -> Bool

    /// An audit log that hands each line (without the newline) to `write`, which says whether it was kept.
    public init(write: @escaping @Sendable ([UInt8]) -> Bool) {
        self.write = write
    }

    /// An audit log that hands each line to `write`, which cannot fail.
    public init(write: @escaping @Sendable ([UInt8]) -> Void) {
        self.write = { line in
            write(line)
            return true
        }
    }

    /// Lines to standard output.
    public static var standardOutput: AuditLog { descriptor(1) }

    /// Lines appended to the file at `path` (created with mode 0600 if missing). Throws when it cannot be
    /// opened, so that `serve` does not start without its audit log. Before each line it checks that `path`
    /// is still the open file: after a rotation (rename) or a deletion it opens `path` anew, so that records
    /// never go to a file nobody will read; when that fails, the record fails (and the request with it).
    public static func file(_ path: String) throws -> AuditLog {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuditLogError(path: path, reason: String(cString: strerror(errno))) }
        let current = Mutex((fd: fd, identity: FileStamp(path: path)?.identity))
        return AuditLog { (line: [UInt8]) -> Bool in
            current.withLock { file in
                let named = FileStamp(path: path)?.identity
                if named == nil || named != file.identity {
                    let reopened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
                    guard reopened >= 0 else { return false }
                    close(file.fd)
                    file = (reopened, FileStamp(path: path)?.identity)
                }
                return writeLine(line, to: file.fd)
            }
        }
    }

    /// Whole lines to a file descriptor, one writer at a time; false when a line could not be written.
    private static func descriptor(_ fd: Int32) -> AuditLog {
        let lock = Mutex(())
        return AuditLog { (line: [UInt8]) -> Bool in
            lock.withLock { _ in writeLine(line, to: fd) }
        }
    }

    /// Writes `line` and a newline to `fd` in full; false when it could not.
    private static func writeLine(_ line: [UInt8], to fd: Int32) -> Bool {
        var bytes = line
        bytes.append(0x0A)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// No audit output (for `wif demo`, which prints its own account of each step).
    public static var discarding: AuditLog { AuditLog { (_: [UInt8]) in } }

    /// Writes the record; false when it could not be written.
    func record(_ record: AuditRecord) -> Bool {
        write(record.json.serialized())
    }
}

/// The audit log file cannot be opened.
public struct AuditLogError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot open the audit log \(path): \(reason)" }
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
        // Room for every field a record can have, so that filling it never rehashes.
        var fields = [String: JSONValue](minimumCapacity: 28)
        fields["time"] = .number((time * 1000).rounded() / 1000)
        fields["request_id"] = .string(requestID)
        fields["latency_ms"] = .number((latencySeconds * 100_000).rounded() / 100)
        fields["client_address"] = clientAddress.map(JSONValue.string)
        fields["grant_type"] = grantType.map(JSONValue.string)
        if let request = outcome.request {
            fields["requested_audience"] = .array((request.audiences + request.resources).map { .string(Self.capped($0)) })
            fields["requested_scope"] = request.scopes.map { .string(Self.capped($0.joined(separator: " "))) }
            fields["client_id"] = request.clientID.map { .string(Self.capped($0)) }
        }
        fields["trust_config"] = outcome.configVersion.map(JSONValue.string)
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
                    let failed = evaluation.failedConditions.map { JSONValue.string(Self.capped($0.reason)) }
                    if !failed.isEmpty { entry["failed_conditions"] = .array(failed) }
                    if let refusal = evaluation.grantRefusal { entry["refusal"] = .string(refusal.code.rawValue) }
                    return .object(entry)
                }
            )
        }
        if !outcome.shadow.isEmpty {
            fields["shadow"] = .array(
                outcome.shadow.map { shadow in
                    var entry: [String: JSONValue] = ["policy": .string(shadow.policy.name), "would": shadow.wouldGrant ? "grant" : "deny"]
                    switch shadow.result {
                    case .success(let grant):
                        entry["audience"] = .array(grant.audiences.map(JSONValue.string))
                        entry["scope"] = .string(grant.scopes.joined(separator: " "))
                    case .failure(let error):
                        entry["reason"] = .string(error.code.rawValue)
                        entry["detail"] = error.detail.map { .string(Self.capped($0)) }
                    }
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
            fields["closest_policy"] = Self.closest(outcome.evaluations)
        }
        return .object(fields)
    }

    /// For a denial, the policy that came closest: a grant refusal (all conditions held) first, else the
    /// fewest failed conditions; with each failed condition's claim, expectation and actual value.
    static func closest(_ evaluations: [PolicyEvaluation]) -> JSONValue? {
        guard let best = PolicyEvaluation.closest(evaluations) else { return nil }
        var entry: [String: JSONValue] = ["policy": .string(best.policy.name)]
        entry["failed"] = .array(
            best.failedConditions.map { result in
                var failure: [String: JSONValue] = [
                    "claim": .string(result.condition.claim.description),
                    "expected": .string(capped(result.condition.matcher.description)),
                ]
                failure["actual"] = result.actual.map { .string(capped(String(decoding: $0.serialized(), as: UTF8.self))) } ?? .null
                return .object(failure)
            }
        )
        entry["refusal"] = best.grantRefusal.map { .string($0.code.rawValue) }
        return .object(entry)
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
