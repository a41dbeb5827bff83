/// The results of a policy test run: a table for people, JSON for tools.
public struct PolicyTestReport: Sendable {
    public let results: [PolicyTestResult]

    public init(results: [PolicyTestResult]) {
        self.results = results
    }

    public var passedCount: Int { results.count(where: \.passed) }
    public var failedCount: Int { results.count - passedCount }
    public var allPassed: Bool { failedCount == 0 }

    /// `12 cases: 11 passed, 1 failed`.
    public var summary: String {
        "\(results.count) case\(results.count == 1 ? "" : "s"): \(passedCount) passed, \(failedCount) failed"
    }

    /// The results table (case, file, expected, actual, result), then what went wrong in each failed case
    /// with every policy's reasons, then the summary line.
    public func table() -> String {
        let header = ["CASE", "FILE", "EXPECTED", "ACTUAL", "RESULT"]
        let rows = results.map { result in
            [
                result.testCase.name, result.testCase.location, result.testCase.expectation.summary, result.actualSummary,
                result.passed ? "pass" : "FAIL",
            ]
        }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        var lines = [line(header)] + rows.map(line)
        let failed = results.filter { !$0.passed }
        if !failed.isEmpty {
            lines.append("")
            lines.append("Failures:")
            for result in failed {
                lines.append("")
                lines.append("  \(result.testCase.name) (\(result.testCase.location))")
                lines += result.mismatches.map { "    - \($0)" }
                // A policy refusal's detail repeats the policies' reasons, listed below.
                if case .denied(let refusal)? = result.decision?.verdict, let detail = refusal.detail, result.decision?.policies.isEmpty ?? true {
                    lines.append("    detail: \(detail)")
                }
                if let policies = result.decision?.policies, !policies.isEmpty {
                    lines.append("    policies of issuer \(result.testCase.issuer):")
                    lines += policies.map { "      \(Self.describe($0))" }
                }
                lines.append("    token claims: \(result.claims.displayText)")
            }
        }
        lines.append("")
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    /// `demo-app: not matched: claim sub is "x", expected equals "y"` and the like.
    static func describe(_ policy: PolicyTrace) -> String {
        switch policy.status {
        case .granted: "\(policy.name): granted"
        case .refused:
            "\(policy.name): conditions hold, grant refused: \(policy.refusal.map { "\($0.code.rawValue) (\($0.detail ?? $0.description))" } ?? "")"
        case .notMatched: "\(policy.name): not matched: " + policy.failedConditions.map(\.reason).joined(separator: "; ")
        case .notReached: "\(policy.name): not reached (an earlier policy granted)"
        case .auditWouldGrant: "\(policy.name): mode audit, would grant if enforced"
        case .auditWouldDeny:
            "\(policy.name): mode audit, would not grant: "
                + (policy.refusal.map { $0.code.rawValue } ?? policy.failedConditions.map(\.reason).joined(separator: "; "))
        }
    }

    /// `{"cases": [{"name", "file", "line", "issuer", "passed", "expected", "actual", "mismatches", "policies",
    /// "issued_claims"}], "summary": {"total", "passed", "failed"}}`.
    public var json: JSONValue {
        [
            "cases": .array(
                results.map { result in
                    [
                        "name": .string(result.testCase.name),
                        "file": .string(result.testCase.file),
                        "line": result.testCase.line.map { .number(Double($0)) } ?? .null,
                        "issuer": .string(result.testCase.issuer),
                        "passed": .bool(result.passed),
                        "expected": result.testCase.expectation.json,
                        "actual": result.decision?.verdict.json ?? .null,
                        "mismatches": .array(result.mismatches.map(JSONValue.string)),
                        "policies": .array((result.decision?.policies ?? []).map(\.json)),
                        "issued_claims": result.issuedClaims ?? .null,
                    ]
                }
            ),
            "summary": [
                "total": .number(Double(results.count)),
                "passed": .number(Double(passedCount)),
                "failed": .number(Double(failedCount)),
            ],
        ]
    }
}
