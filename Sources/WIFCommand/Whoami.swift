import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import WIFClient
import WIFCore
import WIFSources

struct Whoami: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the workload's own identity token, and what the exchanger would grant it.",
        discussion: """
            Decodes the subject token (without verifying it) and shows its issuer, subject, audience, expiry \
            and claims. With --url, also asks the exchanger's dry run (POST /token/dry-run, served only by \
            `wif serve --enable-dry-run`) which policy would grant what, or why not; nothing is issued. Exits 1 \
            when the dry run says the request would be refused.
            """
    )

    @OptionGroup var subject: SubjectTokenOptions
    @OptionGroup var request: TokenRequestOptions

    @Flag(name: .customLong("json"), help: "Print one JSON document: {subject_token: {header, claims}, dry_run}.")
    var json = false

    func run() async throws {
        try await request.withHTTPClient { httpClient in try await whoami(httpClient: httpClient) }
    }

    func whoami(httpClient: HTTPClient) async throws {
        let provider = try subject.provider(httpClient: httpClient)
        let token: SubjectToken
        do {
            token = try await provider.subjectToken()
        } catch {
            throw CommandFailure("wif whoami: \(error)")
        }
        let (header, claims) = TokenExplainer.decode(token.value)
        guard let claims else { throw CommandFailure("wif whoami: the token from \(provider.origin) is not a JWT: its payload does not decode") }
        let now = SystemClock().now()

        var dryRun: DryRunAnswer?
        if let url = request.exchangerURL {
            var parameters = request.parameters
            parameters.subjectTokenType = subject.subjectTokenType ?? token.type
            dryRun = try await Self.askDryRun(url: url, form: parameters.form(token: token.value), httpClient: httpClient)
        }

        if json {
            let document: JSONValue = [
                "subject_token": ["origin": .string(provider.origin), "header": header ?? .null, "claims": claims],
                "dry_run": dryRun?.json ?? .null,
            ]
            print(document.prettyPrinted())
        } else {
            print(Self.describe(claims: claims, header: header, origin: provider.origin, now: now))
            if let dryRun { print("\n" + dryRun.text) }
        }
        if dryRun?.granted == false { throw ExitCode.failure }
    }

    /// The token's identity in a few lines, then all its claims.
    static func describe(claims: JSONValue, header: JSONValue?, origin: String, now: Double) -> String {
        func text(_ value: JSONValue?) -> String {
            switch value {
            case .string(let string)?: string
            case .array(let items)?: items.map { text($0) }.joined(separator: ", ")
            case nil: "(none)"
            case let other?: String(decoding: other.serialized(), as: UTF8.self)
            }
        }
        func time(_ name: String) -> String {
            guard let seconds = claims[name]?.numberValue else { return "(none)" }
            return Instant.describe(seconds, relativeTo: now)
        }
        var lines = [
            "Subject token from \(origin)",
            "  issuer     \(text(claims["iss"]))",
            "  subject    \(text(claims["sub"]))",
            "  audience   \(text(claims["aud"]))",
            "  issued     \(time("iat"))",
            "  expires    \(time("exp"))",
            "  signed     \(text(header?["alg"])), key id \(text(header?["kid"]))",
        ]
        if let kubernetes = claims["kubernetes.io"] {
            lines.append(
                "  kubernetes namespace \(text(kubernetes["namespace"])), service account \(text(kubernetes["serviceaccount"]?["name"])), pod \(text(kubernetes["pod"]?["name"]))"
            )
        }
        if let exp = claims["exp"]?.numberValue, exp <= now { lines.append("  note: this token has expired; the exchanger will refuse it") }
        lines.append("Claims:")
        lines.append(claims.prettyPrinted().split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        return lines.joined(separator: "\n")
    }

    /// What the exchanger's dry run answered.
    struct DryRunAnswer {
        let url: String
        let status: Int
        let body: JSONValue

        var granted: Bool { status == 200 && body["decision"]?["granted"] == .bool(true) }
        var json: JSONValue { ["url": .string(url), "status": .number(Double(status)), "answer": body] }

        var text: String {
            guard status == 200, let decision = body["decision"] else {
                let error = body["error"]?.stringValue ?? "HTTP \(status)"
                let description = body["error_description"]?.stringValue.map { ": \($0)" } ?? ""
                return "Dry run at \(url): refused before any policy was evaluated: \(error)\(description)"
            }
            var lines = ["Dry run at \(url) (nothing issued):"]
            if decision["granted"] == .bool(true) {
                let audience = decision["audience"]?.arrayValue?.compactMap(\.stringValue).joined(separator: " ") ?? ""
                let scope = decision["scope"]?.arrayValue?.compactMap(\.stringValue).joined(separator: " ") ?? ""
                let lifetime = decision["lifetime"]?.numberValue.map { Instant.duration($0) } ?? "?"
                lines.append("  granted by policy \(decision["policy"]?.stringValue ?? "?")")
                lines.append("  audience   \(audience)")
                lines.append("  scope      \(scope.isEmpty ? "(none)" : scope)")
                lines.append("  lifetime   \(lifetime)")
            } else {
                let error = decision["oauth_error"]?.stringValue ?? "?"
                lines.append("  refused: \(error): \(decision["error_description"]?.stringValue ?? "")")
                if let evaluation = body["policy"], let closest = evaluation["policy"]?.stringValue {
                    lines.append("  closest policy \(closest):")
                    for condition in evaluation["conditions"]?.arrayValue ?? [] where condition["passed"] == .bool(false) {
                        lines.append("    ✗ \(condition["reason"]?.stringValue ?? "")")
                    }
                    if let refusal = evaluation["refusal"]?["error_description"]?.stringValue { lines.append("    ✗ \(refusal)") }
                }
                lines.append("  (wif explain on the exchanger's trust-config shows every check)")
            }
            return lines.joined(separator: "\n")
        }
    }

    static func askDryRun(url: String, form: FormBody, httpClient: HTTPClient) async throws -> DryRunAnswer {
        let endpoint = TokenSource.Configuration.tokenURL(url) + "/dry-run"
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form.encoded))
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(10))
            status = Int(response.status.code)
            bytes = Array(buffer: try await response.body.collect(upTo: 4 * 1024 * 1024))
        } catch {
            throw CommandFailure("wif whoami: cannot reach the exchanger at \(endpoint): \(error)")
        }
        guard status != 404 else {
            throw CommandFailure("wif whoami: \(endpoint): the exchanger serves no dry run: it is off unless it runs `wif serve --enable-dry-run`")
        }
        return DryRunAnswer(url: endpoint, status: status, body: (try? JSONValue.parse(bytes)) ?? .null)
    }
}
