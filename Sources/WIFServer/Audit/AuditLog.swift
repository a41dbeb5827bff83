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
        write(record.serialized())
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

    /// The record's line: one JSON object, members sorted by name (as ``JSONValue/serialized()`` sorts them),
    /// written directly rather than through a `JSONValue` tree, since every request writes one.
    func serialized() -> [UInt8] {
        var record = JSONObjectWriter(capacity: 1024)
        let denial: ExchangeError?
        let issued: IssuedToken?
        switch outcome.result {
        case .success(let token): (issued, denial) = (token, nil)
        case .failure(let error): (issued, denial) = (nil, error)
        }
        let request = outcome.request
        record.member("actor", outcome.actor.map { ["issuer": .string($0.issuer), "subject": .string(Self.capped($0.subject))] as JSONValue })
        record.member("client_address", clientAddress)
        record.member("client_id", request?.clientID.map(Self.capped))
        if denial != nil { record.member("closest_policy", Self.closest(outcome.evaluations)) }
        record.member("detail", denial?.detail.map(Self.capped))
        record.member("grant_type", grantType)
        if let issued {
            record.member("granted_audience", strings: issued.grant.audiences)
            record.member("granted_scope", issued.grant.scopes.joined(separator: " "))
            record.member("issued_exp", Double(issued.grant.expiresAt))
            record.member("issued_jti", issued.tokenID)
        }
        record.member("issuer", outcome.issuer)
        record.member("latency_ms", (latencySeconds * 100_000).rounded() / 100)
        record.member("outcome", denial == nil ? "granted" : "denied")
        if !outcome.evaluations.isEmpty { record.member("policies", Self.policies(outcome.evaluations)) }
        record.member("policy", issued?.grant.policy.name)
        record.member("reason", denial?.code.rawValue)
        record.member("request_id", requestID)
        if let request { record.member("requested_audience", strings: (request.audiences + request.resources).map(Self.capped)) }
        record.member("requested_scope", request?.scopes.map { Self.capped($0.joined(separator: " ")) })
        if !outcome.shadow.isEmpty { record.member("shadow", Self.shadow(outcome.shadow)) }
        record.member("stage", denial?.stage)
        record.member("subject", outcome.subject.map(Self.capped))
        record.member("subject_jti", outcome.subjectTokenID.map(Self.capped))
        record.member("time", (time * 1000).rounded() / 1000)
        record.member("trust_config", outcome.configVersion)
        return record.finish()
    }

    /// Each policy evaluated: whether it matched, its failed conditions, its grant's refusal.
    private static func policies(_ evaluations: [PolicyEvaluation]) -> JSONValue {
        .array(
            evaluations.map { evaluation in
                var entry: [String: JSONValue] = ["policy": .string(evaluation.policy.name), "matched": .bool(evaluation.matched)]
                let failed = evaluation.failedConditions.map { JSONValue.string(capped($0.reason)) }
                if !failed.isEmpty { entry["failed_conditions"] = .array(failed) }
                if let refusal = evaluation.grantRefusal { entry["refusal"] = .string(refusal.code.rawValue) }
                return .object(entry)
            }
        )
    }

    /// What each shadow policy would have decided.
    private static func shadow(_ decisions: [ShadowDecision]) -> JSONValue {
        .array(
            decisions.map { shadow in
                var entry: [String: JSONValue] = ["policy": .string(shadow.policy.name), "would": shadow.wouldGrant ? "grant" : "deny"]
                switch shadow.result {
                case .success(let grant):
                    entry["audience"] = .array(grant.audiences.map(JSONValue.string))
                    entry["scope"] = .string(grant.scopes.joined(separator: " "))
                case .failure(let error):
                    entry["reason"] = .string(error.code.rawValue)
                    entry["detail"] = error.detail.map { .string(capped($0)) }
                }
                return .object(entry)
            }
        )
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

    /// Caps untrusted text in the log (the serializer escapes it).
    static func capped(_ text: String) -> String {
        text.utf8.count <= 512 ? text : String(decoding: text.utf8.prefix(509), as: UTF8.self) + "..."
    }
}
