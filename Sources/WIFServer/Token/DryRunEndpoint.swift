import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import WIFCore

/// `POST /token/dry-run`, served only with `wif serve --enable-dry-run`: the same form as `/token`, answered
/// with what `/token` would decide and why (the `wif explain` report), and nothing issued. `wif whoami`
/// asks it.
///
/// It shares `/token`'s limits (the same buckets per client and per subject, the concurrency cap and the
/// body deadline), so it is no way around them. It reveals policy outcomes, so it is off by default, and it explains nothing to a token that does not
/// verify: such a token gets exactly the refusal `/token` would send. Even a verified token learns only its
/// own decision and the one policy that granted it or came closest, not the issuer's other policies.
/// What it explains is logged.
struct DryRunEndpoint: Sendable {
    static let path = "/token/dry-run"

    let exchanger: LiveExchanger
    let clock: any WallClock
    let issuerURL: String
    let maxBodyBytes: Int
    let logger: Logger
    let limits: RequestLimiter
    let readTimeout: Duration

    func handle(_ request: Request, context: WIFRequestContext) async -> Response {
        var request = request
        let progress = BodyProgress()
        request.body = request.body.deadline(readTimeout, progress: progress)
        // A refused or unfinished body is not read on: the connection closes after the answer.
        defer { if !progress.isFinished { context.channel.close(mode: .input, promise: nil) } }
        if let refusal = limits.admitClient(context.remoteAddress?.ipAddress) ?? limits.enter() {
            return TokenEndpoint.errorResponse(OAuthErrorResponse(refusal, grant: nil), requestID: context.id)
        }
        defer { limits.leave() }
        var grant: GrantType?
        do {
            let form = try await TokenEndpoint.form(of: request, maxBodyBytes: maxBodyBytes)
            grant = ExchangeRequest.grantType(of: form)
            let (token, parameters) = try TokenRequestParameters.parse(form)
            let current = exchanger.current
            let now = clock.now()
            switch await current.verify(token, now: now) {
            case .failure(let error): throw error.naming(grant?.tokenRole ?? .subjectToken)
            case .success(let verified): if let refusal = limits.admitSubject(verified) { throw refusal }
            }
            let explainer = TokenExplainer(
                config: current.config,
                keySource: current.keySource,
                keysFrom: "the issuer's key source",
                issuerURL: issuerURL
            )
            let report = await explainer.explain(token: token, request: parameters, now: now)
            logger.info(
                "dry run",
                metadata: [
                    "request_id": "\(context.id)",
                    "client_address": "\(context.remoteAddress?.ipAddress ?? "")",
                    "iss": "\(report.claims?["iss"]?.stringValue ?? "")",
                    "sub": "\(report.claims?["sub"]?.stringValue ?? "")",
                    "granted": "\(report.decision.isGranted)",
                ]
            )
            return TokenEndpoint.response(status: .ok, body: Self.answer(report).serialized())
        } catch let error as ExchangeError {
            logger.info("dry run refused", metadata: ["request_id": "\(context.id)", "error": "\(error.code.rawValue)"])
            return TokenEndpoint.errorResponse(OAuthErrorResponse(error, grant: grant), requestID: context.id)
        } catch {
            let failure = ExchangeError(.internalError, "internal server error", detail: "\(error)")
            return TokenEndpoint.errorResponse(OAuthErrorResponse(failure, grant: grant), requestID: context.id)
        }
    }

    /// `{"verified", "request", "subject": {"iss", "sub"}, "decision", "policy", "issued_token"}`: the
    /// decision as `wif explain --json` gives it, and `policy` the evaluation (each condition with its
    /// expected and actual value) of the policy that granted, or of the closest one.
    static func answer(_ report: ExplainReport) -> JSONValue {
        let name: String? =
            switch report.decision {
            case .granted(let grant): grant.policy
            case .denied: report.policies?.closest?.name
            }
        let policy = name.flatMap { name in report.policies?.policies.first { $0.name == name } }
        return [
            "verified": .bool(report.verified),
            "request": report.request.json,
            "subject": ["iss": report.claims?["iss"] ?? .null, "sub": report.claims?["sub"] ?? .null],
            "decision": report.decision.json,
            "policy": policy?.json ?? .null,
            "issued_token": report.issuedClaims.map { ["claims": $0] } ?? .null,
        ]
    }
}
