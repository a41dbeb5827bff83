import CoreMetrics
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import WIFCore

/// `POST /token`: parses the form into an ``ExchangeRequest``, runs the pipeline, renders the OAuth answer
/// and writes one audit record. Every failure, including our own, becomes an OAuth-shaped JSON error.
struct TokenEndpoint: Sendable {
    let exchanger: LiveExchanger
    let clock: any WallClock
    let audit: AuditLog
    let maxBodyBytes: Int
    let metrics: any MetricsFactory
    let limits: RequestLimiter
    /// How long the body may take to arrive after the headers.
    let readTimeout: Duration

    func handle(_ request: Request, context: WIFRequestContext) async -> Response {
        let started = ContinuousClock.now
        var request = request
        let bodyProgress = BodyProgress()
        request.body = request.body.deadline(readTimeout, progress: bodyProgress)
        var grant: GrantType?
        var grantName: String?
        let outcome: ExchangeOutcome
        // Limits before anything is read: the client's rate, then the concurrency cap (fast 503).
        if let refusal = limits.admitClient(context.remoteAddress?.ipAddress) ?? limits.enter() {
            outcome = ExchangeOutcome(request: nil, result: .failure(refusal))
        } else {
            do {
                let exchangeRequest = try await parse(request, grant: &grant, grantName: &grantName)
                outcome = await exchanger.current.exchange(exchangeRequest, now: clock.now(), admit: limits.admitSubject)
            } catch let error as ExchangeError {
                outcome = ExchangeOutcome(request: nil, result: .failure(error))
            } catch {
                outcome = ExchangeOutcome(request: nil, result: .failure(ExchangeError(.internalError, "internal server error", detail: "\(error)")))
            }
            limits.leave()
        }
        // Refused before the body was read (a limit, the content type): read it now, with the same size cap and
        // deadline, so that the connection can serve the client's next request.
        if !bodyProgress.isStarted { _ = try? await request.body.collect(upTo: maxBodyBytes) }
        if !bodyProgress.isFinished {
            // Too large, too slow or cut off: stop reading, or the server would drain whatever the client keeps
            // sending after the answer, with no size cap or deadline.
            context.channel.close(mode: .input, promise: nil)
        }
        let elapsed = ContinuousClock.now - started
        let recorded = audit.record(
            AuditRecord(
                time: clock.now(),
                requestID: context.id,
                clientAddress: context.remoteAddress?.ipAddress,
                grantType: grantName,
                outcome: outcome,
                latencySeconds: elapsed.inSeconds
            )
        )
        guard recorded else {
            // Nothing is issued unrecorded (security-cases.md D4).
            let failure = ExchangeError(.auditLogUnavailable, "the service cannot record decisions right now")
            count(ExchangeOutcome(request: outcome.request, result: .failure(failure), issuer: outcome.issuer), grant: grant, elapsed: elapsed)
            return Self.errorResponse(OAuthErrorResponse(failure, grant: grant), requestID: context.id)
        }
        count(outcome, grant: grant, elapsed: elapsed)
        switch outcome.result {
        case .success(let issued):
            return Self.response(status: .ok, body: issued.responseBody)
        case .failure(let error):
            return Self.errorResponse(OAuthErrorResponse(error, grant: grant), requestID: context.id)
        }
    }

    /// `wif_exchanges_total` by outcome, grant, issuer, policy and error code, and the decision latency.
    /// Every label comes from a bounded set: the config's names, wif's codes, the three grants.
    private func count(_ outcome: ExchangeOutcome, grant: GrantType?, elapsed: Duration) {
        let grantLabel = grant?.metricLabel ?? "other"
        var dimensions = [("grant_type", grantLabel), ("issuer", outcome.issuer ?? "")]
        switch outcome.result {
        case .success(let issued):
            dimensions += [("outcome", "granted"), ("policy", issued.grant.policy.name), ("error", "")]
        case .failure(let error):
            dimensions += [("outcome", "denied"), ("policy", ""), ("error", error.code.rawValue)]
        }
        Counter(label: "wif_exchanges_total", dimensions: dimensions, factory: metrics).increment()
        for shadow in outcome.shadow {
            let would = [("policy", shadow.policy.name), ("outcome", shadow.wouldGrant ? "would_grant" : "would_deny")]
            Counter(label: "wif_shadow_decisions_total", dimensions: would, factory: metrics).increment()
        }
        Timer(label: "wif_exchange_duration_seconds", factory: metrics).recordNanoseconds(elapsed.inNanoseconds)
    }

    /// A 405 for any other method on `/token`.
    func methodNotAllowed(_ request: Request, context: WIFRequestContext) -> Response {
        // The client's rate applies to every method: a flood of GETs is refused (and audited) like POSTs.
        let error =
            limits.admitClient(context.remoteAddress?.ipAddress) ?? ExchangeError(.methodNotAllowed, "the token endpoint accepts POST only")
        _ = audit.record(
            AuditRecord(
                time: clock.now(),
                requestID: context.id,
                clientAddress: context.remoteAddress?.ipAddress,
                grantType: nil,
                outcome: ExchangeOutcome(request: nil, result: .failure(error)),
                latencySeconds: 0
            )
        )
        var response = Self.errorResponse(OAuthErrorResponse(error, grant: nil), requestID: context.id)
        if error.code == .methodNotAllowed { response.headers[.allow] = "POST" }
        return response
    }

    private func parse(_ request: Request, grant: inout GrantType?, grantName: inout String?) async throws -> ExchangeRequest {
        let form = try await Self.form(of: request, maxBodyBytes: maxBodyBytes)
        grantName = (try? form.value("grant_type")).flatMap { $0.map { AuditRecord.capped($0) } }
        grant = ExchangeRequest.grantType(of: form)
        let authorization = request.headers[values: .authorization]
        guard authorization.count <= 1 else {
            throw ExchangeError(.clientAuthenticationMalformed, "Authorization header must be HTTP Basic with a client_id")
        }
        return try ExchangeRequest(form: form, authorization: authorization.first)
    }

    /// The form body of a token request (`/token` and its dry run): POST parameters only, form-encoded,
    /// at most `maxBodyBytes`.
    static func form(of request: Request, maxBodyBytes: Int) async throws -> FormBody {
        guard request.uri.query == nil || request.uri.query?.isEmpty == true else {
            throw ExchangeError(.queryParametersNotAllowed, "token request parameters must be sent in the POST body")
        }
        guard let contentType = request.headers[.contentType], Self.isFormEncoded(contentType) else {
            throw ExchangeError(.unsupportedMediaType, "content type must be application/x-www-form-urlencoded")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw ExchangeError(.bodyTooLarge, "request body is too large")
        } catch let error as ExchangeError {
            throw error
        } catch {
            // The client stopped sending: the idle timeout closed the connection, or the client did. Its
            // fault, not ours: never a server_error (security-cases.md §1.1 ERR).
            throw ExchangeError(.requestTimeout, "request body was not received in time", detail: "body read failed: \(error)")
        }
        return try FormBody(bytes: Array(buffer: body))
    }

    /// Whether a `Content-Type` names `application/x-www-form-urlencoded`: its media type (before any `;`
    /// parameters), ASCII case-insensitive, with spaces and tabs around or inside ignored.
    static func isFormEncoded(_ contentType: String) -> Bool {
        let expected = "application/x-www-form-urlencoded".utf8
        var next = expected.startIndex
        for byte in contentType.utf8 {
            if byte == UInt8(ascii: ";") { break }
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { continue }
            let lowered = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
            guard next != expected.endIndex, expected[next] == lowered else { return false }
            next = expected.index(after: next)
        }
        return next == expected.endIndex
    }

    static func errorResponse(_ error: OAuthErrorResponse, requestID: String) -> Response {
        var response = response(status: HTTPResponse.Status(code: error.status), body: error.body(requestID: requestID))
        if let retryAfter = error.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        if let challenge = error.wwwAuthenticate { response.headers[.wwwAuthenticate] = challenge }
        return response
    }

    /// A JSON response with the caching headers every token response carries (RFC 6749 §5.1).
    static func response(status: HTTPResponse.Status, body: [UInt8]) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store", HTTPField.Name("Pragma")!: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}

extension GrantType {
    /// The `grant_type` label of wif's metrics.
    fileprivate var metricLabel: String {
        switch self {
        case .tokenExchange: "tokenExchange"
        case .jwtBearer: "jwtBearer"
        case .clientCredentials: "clientCredentials"
        }
    }
}
