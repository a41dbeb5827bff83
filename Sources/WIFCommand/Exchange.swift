import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import Synchronization
import WIFClient
import WIFCore
import WIFSources

#if canImport(Glibc)
import Glibc
#endif

struct Exchange: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exchange this workload's identity token for an access token.",
        discussion: """
            One shot (an init container, a boot script): prints the access token, or writes it with --write. \
            With --refresh it keeps running (a sidecar, a systemd service) and replaces the file ahead of expiry; \
            when a refresh fails the still-valid token stays in place and the refresh is retried with backoff.

            Exits 1 when no first token is had within --timeout, or at once when the exchanger refuses the \
            request (a refusal does not change by asking again); the message shows the exchanger's error and \
            error_description. Examples:

              wif exchange --url https://wif.example.com --token-file /var/run/secrets/tokens/wif \\
                --audience https://ledger.internal --write /var/run/wif/token --refresh
              eval "$(wif exchange --url https://wif.example.com --gce-audience wif --output env)"
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case token, json, env
    }

    @OptionGroup var subject: SubjectTokenOptions
    @OptionGroup var request: TokenRequestOptions

    @Option(name: .customLong("output"), help: "What to print or write: token, json (the token response with expires_at) or env (lines to source).")
    var output: Format = .token

    @Option(name: .customLong("write"), help: "Write to this file (atomically, mode --mode) instead of standard output.")
    var write: String?

    @Option(name: .customLong("mode"), help: "The file mode of --write, in octal (default 600).")
    var mode: String = "600"

    @Flag(name: .customLong("refresh"), help: "Keep running and keep the --write file fresh.")
    var refresh = false

    @Option(name: .customLong("timeout"), help: "Seconds to obtain the first token, retrying while the exchanger is unavailable.")
    var timeout: Int = 60

    func validate() throws {
        guard request.exchangerURL != nil else { throw ValidationError("--url (or WIF_URL) is required: the exchanger's URL") }
        if refresh, write == nil { throw ValidationError("--refresh keeps a file fresh: give --write FILE") }
        guard (1...86_400).contains(timeout) else { throw ValidationError("--timeout must be 1 to 86400 seconds") }
        guard let value = mode_t(mode, radix: 8), value <= 0o777 else { throw ValidationError("--mode must be octal, e.g. 600 or 640") }
    }

    func run() async throws {
        guard let url = request.exchangerURL else { throw CommandFailure("--url (or WIF_URL) is required: the exchanger's URL") }
        try await request.withHTTPClient { httpClient in try await exchange(url: url, httpClient: httpClient) }
    }

    func exchange(url: String, httpClient: HTTPClient) async throws {
        var logger = Logger(label: "wif.exchange")
        logger.logLevel = .info
        var parameters = request.parameters
        parameters.subjectTokenType = subject.subjectTokenType
        let source = TokenSource(
            configuration: .init(exchanger: url, request: parameters, retry: RetryPolicy(attempts: 1)),
            subject: try subject.provider(httpClient: httpClient),
            httpClient: httpClient,
            logger: logger
        )
        let first = try await firstToken(source, logger: logger)
        try emit(first)
        guard refresh, let write else { return }
        logger.info("wrote a token", metadata: Self.describe(first, file: write))
        SystemdNotification.ready()
        try await keepFresh(source, current: first, file: write, logger: logger)
    }

    /// The first token, retried while that is worth it, within --timeout; exits 1 with the reason otherwise.
    func firstToken(_ source: TokenSource, logger: Logger) async throws -> AccessToken {
        let lastError = Mutex<WIFClientError?>(nil)
        let seconds = timeout
        let url = source.configuration.tokenURL
        let watchdog = Task {
            try await Task.sleep(for: .seconds(seconds))
            let reason = lastError.withLock { $0.map { "\($0)" } } ?? "no answer from the exchanger at \(url) (unreachable or slow)"
            Self.fail("no token within \(seconds)s: \(reason)")
        }
        defer { watchdog.cancel() }
        let retry = RetryPolicy(initialBackoff: .milliseconds(500), maximumBackoff: .seconds(15))
        var attempt = 1
        while true {
            do {
                return try await source.refresh()
            } catch {
                lastError.withLock { $0 = error }
                guard error.isRetryable else { Self.fail("\(error)") }
                let delay = retry.delay(after: attempt, retryAfter: error.retryAfter, random: .random(in: 0...1))
                logger.warning("no token yet; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// Replaces the file at each token's refresh time, forever; a failed refresh leaves the file as it is
    /// and is retried with backoff (growing to a minute).
    func keepFresh(_ source: TokenSource, current first: AccessToken, file: String, logger: Logger) async throws -> Never {
        let clock = SystemClock()
        let retry = RetryPolicy(initialBackoff: .milliseconds(500), maximumBackoff: .seconds(60))
        var current = first
        var failures = 0
        var stalls = 0
        func until(_ time: Double) -> Duration { .milliseconds(Int64(max(0, time - clock.now()) * 1000)) }
        var wait = until(current.refreshAt)
        while true {
            try await Task.sleep(for: wait)
            do {
                let next = try await source.refresh()
                try emit(next)
                // A token that ends no later than the last one ends with the subject token: its refresh
                // time is already past, so wait (with backoff) for the subject token to rotate instead.
                stalls = next.expiresAt > current.expiresAt + 1 ? 0 : stalls + 1
                current = next
                failures = 0
                logger.info("wrote a new token", metadata: Self.describe(next, file: file))
                wait = until(next.refreshAt)
                if stalls > 0 { wait = max(wait, retry.delay(after: stalls, retryAfter: nil, random: 1)) }
            } catch let error as WIFClientError {
                failures += 1
                wait = retry.delay(after: failures, retryAfter: error.retryAfter, random: .random(in: 0...1))
                let left = current.expiresAt - clock.now()
                let metadata: Logger.Metadata = [
                    "error": "\(error)", "file": "\(file)", "expires_at": "\(Instant.format(current.expiresAt))", "retry_in": "\(wait)",
                ]
                if left > 0 {
                    logger.warning("refresh failed; the file keeps the current token, still valid for \(Instant.duration(left))", metadata: metadata)
                } else {
                    logger.error("refresh failed and the token in the file has expired", metadata: metadata)
                }
            }
        }
    }

    /// Prints the token in the chosen format, or writes it to the --write file.
    func emit(_ token: AccessToken) throws {
        let now = SystemClock().now()
        let text: String
        switch output {
        case .token: text = token.value + "\n"
        case .json: text = token.json(at: now).prettyPrinted() + "\n"
        case .env:
            text =
                "WIF_ACCESS_TOKEN=\(Self.shellQuoted(token.value))\nWIF_ACCESS_TOKEN_EXPIRES_AT=\(Self.shellQuoted(Instant.format(token.expiresAt)))\n"
        }
        guard let write else {
            print(text, terminator: "")
            return
        }
        do {
            try AtomicFile.write(Array(text.utf8), to: write, mode: mode_t(mode, radix: 8) ?? 0o600)
        } catch {
            throw CommandFailure("wif exchange: \(error)")
        }
    }

    static func describe(_ token: AccessToken, file: String) -> Logger.Metadata {
        let now = SystemClock().now()
        return [
            "file": "\(file)", "expires_at": "\(Instant.format(token.expiresAt))",
            "next_refresh_in": "\(Instant.duration(token.refreshAt - now))",
        ]
    }

    /// `'value'`, with any `'` written as `'\''`.
    static func shellQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// Prints `wif exchange: MESSAGE` to standard error and exits 1.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("wif exchange: \(message)\n".utf8))
        Glibc.exit(1)
    }
}

/// Tells systemd (a `Type=notify` unit) that the first token is written, so that units ordered after this
/// one start once it exists. Does nothing outside systemd (no `NOTIFY_SOCKET`).
enum SystemdNotification {
    static func ready() {
        guard let path = environment("NOTIFY_SOCKET"), path.hasPrefix("/") || path.hasPrefix("@") else { return }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // an abstract socket
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let message = Array("READY=1".utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, 0, socketAddress, length) }
            }
        }
    }
}
