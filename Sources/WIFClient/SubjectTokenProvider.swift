public import Foundation
public import WIFCore

/// The workload's own identity token, as its platform hands it out.
public struct SubjectToken: Sendable, Hashable {
    public let value: String
    /// The RFC 8693 `subject_token_type` to send it as.
    public let type: String

    public init(_ value: String, type: String = TokenTypeURI.jwt) {
        self.value = value
        self.type = type
    }
}

/// Where a ``TokenSource`` gets the subject token, asked again for every exchange: platforms rotate these
/// tokens (kubelet rewrites a projected token well before it expires), so none is cached here.
public protocol SubjectTokenProvider: Sendable {
    func subjectToken() async throws(WIFClientError) -> SubjectToken
    /// Where the token comes from, for logs and messages (`file /var/run/…`, `GCE metadata server`).
    var origin: String { get }
}

/// The largest subject token any provider accepts (the exchanger refuses anything over 16 KiB itself).
let maximumSubjectTokenBytes = 64 * 1024

extension SubjectToken {
    /// `text` without surrounding whitespace (token files and command output end with a newline), or an
    /// error naming `origin` when nothing usable is left.
    static func trimmed(
        _ text: some Collection<UInt8>,
        type: String,
        origin: String,
        emptyIsRetryable: Bool = true
    ) throws(WIFClientError) -> SubjectToken {
        guard text.count <= maximumSubjectTokenBytes else {
            throw WIFClientError(.subjectToken, "the subject token from \(origin) is larger than 64 KiB")
        }
        guard let string = String(validating: text, as: UTF8.self) else {
            throw WIFClientError(.subjectToken, "the subject token from \(origin) is not UTF-8 text")
        }
        let token = string.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw WIFClientError(.subjectToken, "the subject token from \(origin) is empty", retryable: emptyIsRetryable)
        }
        guard !token.contains(where: \.isWhitespace) else {
            throw WIFClientError(.subjectToken, "the subject token from \(origin) is not one token (it contains whitespace)")
        }
        return SubjectToken(token, type: type)
    }
}

/// A token file, read anew for every exchange: a Kubernetes projected service-account token, a CI job's
/// token file, a token a boot script wrote. A missing or empty file is worth retrying (the platform may
/// not have written it yet).
public struct FileTokenProvider: SubjectTokenProvider {
    public let path: String
    public let type: String

    public init(path: String, type: String = TokenTypeURI.jwt) {
        self.path = path
        self.type = type
    }

    public var origin: String { "file \(path)" }

    public func subjectToken() async throws(WIFClientError) -> SubjectToken {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WIFClientError(.subjectToken, "cannot read the subject token file \(path)", retryable: true)
        }
        return try SubjectToken.trimmed(data, type: type, origin: origin)
    }
}

/// An environment variable, read when the provider is made (a process's environment does not change).
public struct EnvironmentTokenProvider: SubjectTokenProvider {
    public let name: String
    public let type: String
    private let value: String?

    public init(name: String, type: String = TokenTypeURI.jwt, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.name = name
        self.type = type
        self.value = environment[name]
    }

    public var origin: String { "environment variable \(name)" }

    public func subjectToken() async throws(WIFClientError) -> SubjectToken {
        guard let value else { throw WIFClientError(.subjectToken, "the environment variable \(name) is not set") }
        // The environment does not change: an empty variable stays empty.
        return try SubjectToken.trimmed(Array(value.utf8), type: type, origin: origin, emptyIsRetryable: false)
    }
}

/// A command's standard output, run with `/bin/sh -c` for every exchange (a cloud CLI, a vault agent, a
/// script). A command that fails or runs past `timeout` is an error carrying the end of its standard error.
public struct CommandTokenProvider: SubjectTokenProvider {
    public let command: String
    public let type: String
    public let timeout: Duration

    public init(command: String, type: String = TokenTypeURI.jwt, timeout: Duration = .seconds(30)) {
        self.command = command
        self.type = type
        self.timeout = timeout
    }

    public var origin: String { "command `\(command)`" }

    public func subjectToken() async throws(WIFClientError) -> SubjectToken {
        let result: ChildProcess.Result
        do {
            result = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", command], timeout: timeout)
        } catch {
            throw WIFClientError(.subjectToken, "cannot run the subject token command: \(error)")
        }
        guard !result.timedOut else {
            throw WIFClientError(.subjectToken, "the subject token command ran longer than \(timeout)", retryable: true)
        }
        guard result.status == 0 else {
            let said = result.errorText.trimmingCharacters(in: .whitespacesAndNewlines).suffix(500)
            throw WIFClientError(
                .subjectToken,
                "the subject token command exited with status \(result.status)" + (said.isEmpty ? "" : ": \(said)"),
                retryable: true
            )
        }
        return try SubjectToken.trimmed(Array(result.output.utf8), type: type, origin: origin)
    }
}
