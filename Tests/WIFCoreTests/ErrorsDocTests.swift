import Foundation
import Testing
import WIFCore

/// docs/errors.md is the published table of ``OAuthErrorResponse``: every reason has its row there, with
/// the status the code answers.
@Suite("docs/errors.md documents every reason")
struct ErrorsDocTests {
    static let page: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/errors.md"), encoding: .utf8)) ?? ""
    }()

    @Test("each reason has a table row starting with its code and the HTTP status it answers", arguments: ExchangeError.Code.allCases)
    func documented(_ code: ExchangeError.Code) throws {
        let row = try #require(
            Self.page.split(separator: "\n").first { $0.hasPrefix("| `\(code.rawValue)` |") },
            "no row for \(code.rawValue) in docs/errors.md"
        )
        let status = OAuthErrorResponse(ExchangeError(code, "x"), grant: .tokenExchange).status
        let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(cells.count > 2 && cells[1].hasPrefix(String(status)), "\(code.rawValue): \(cells.dropFirst().first ?? "")")
    }
}
