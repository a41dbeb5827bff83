import HTTPTypes
import Hummingbird

/// Names the request on every response: `X-Request-Id` is the id the audit record is filed under (and that
/// token errors quote in `error_description`). wif makes the id; one a client sends is not used.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = WIFRequestContext

    static let header = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[Self.header] = context.id
        return response
    }
}
