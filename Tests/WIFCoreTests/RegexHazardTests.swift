import Testing
import WIFCore

@Suite("Regex patterns that backtrack exponentially are refused at load")
struct RegexHazardTests {
    @Test("nested repetition is refused", arguments: ["(a+)+", "(a*)*", "(\\w+x)*", "(a|ab)*", "((ab)*c)+", "([a-z]+)*", "(a{1,})+", "(?:x+y)+$"])
    func refused(pattern: String) {
        #expect(throws: AnchoredRegexError.self) { try AnchoredRegex(pattern) }
    }

    @Test(
        "ordinary patterns still load",
        arguments: [
            "system:serviceaccount:ci:(release|deploy)", "refs/heads/(main|release-[0-9]+)", "team-[a-z]+-(prod|staging)", "v[0-9]+\\.[0-9]+",
            "(ab){2}", "[(+*)]+", "\\(a+\\)+", "repo:acme/[a-z0-9-]+:ref:refs/tags/v[0-9.]+",
        ]
    )
    func accepted(pattern: String) throws {
        _ = try AnchoredRegex(pattern)
    }

    @Test("a once-catastrophic subject is decided quickly by the patterns that load")
    func boundedTime() throws {
        let regex = try AnchoredRegex("a+b")
        let started = ContinuousClock.now
        #expect(!regex.matches(String(repeating: "a", count: 1000) + "!"))
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
