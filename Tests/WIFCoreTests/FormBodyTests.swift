import Testing
import WIFCore

@Suite("FormBody: application/x-www-form-urlencoded, strictly")
struct FormBodyTests {
    static func form(_ body: String) throws(ExchangeError) -> FormBody {
        try FormBody(parsing: Array(body.utf8))
    }

    static func pairs(_ body: String) throws -> [String] {
        try form(body).pairs.map { "\($0.name)=\($0.value)" }
    }

    @Test("keeps name/value pairs in body order")
    func order() throws {
        #expect(try Self.pairs("b=2&a=1&b=3") == ["b=2", "a=1", "b=3"])
    }

    @Test("decodes '+' to a space and %2B to '+'")
    func plus() throws {
        let form = try Self.form("scope=read+write&token=a%2Bb&name+with+space=x")
        #expect(try form.value("scope") == "read write")
        #expect(try form.value("token") == "a+b")
        #expect(try form.value("name with space") == "x")
    }

    @Test("decodes percent-escapes in names and values, upper or lower case")
    func percent() throws {
        let form = try Self.form("grant%5Ftype=urn%3aietf%3Aparams&v=%e2%82%AC&amp=a%26b%3Dc")
        #expect(try form.value("grant_type") == "urn:ietf:params")
        #expect(try form.value("v") == "€")
        #expect(try form.value("amp") == "a&b=c")
    }

    @Test("splits on the first '=' only; a field without '=' has an empty value")
    func equalsSigns() throws {
        #expect(try Self.pairs("a=b=c&flag&=v") == ["a=b=c", "flag=", "=v"])
    }

    @Test("skips empty fields between '&'")
    func emptyFields() throws {
        #expect(try Self.pairs("&a=1&&b=2&") == ["a=1", "b=2"])
        #expect(try Self.pairs("") == [])
    }

    @Test(
        "refuses undecodable input as malformedForm (security-cases.md case 15)",
        arguments: [
            Case("%zz", "subject_token=%zz"),
            Case("% at the end", "subject_token=abc%"),
            Case("% with one hex digit", "subject_token=abc%4"),
            Case("%00", "subject_token=a%00b"),
            Case("%00 in a name", "subject%00token=x"),
            Case("percent-encoded invalid UTF-8", "scope=%FF"),
            Case("percent-encoded overlong UTF-8", "scope=%C0%AF"),
            Case("percent-encoded lone surrogate", "scope=%ED%A0%80"),
            Case("truncated UTF-8 sequence", "scope=%E2%82"),
        ]
    )
    func malformed(_ input: Case<String>) {
        let error = refusal { () throws(ExchangeError) -> FormBody in try Self.form(input.value) }
        #expect(error?.code == .malformedForm)
        #expect(error.map { isOAuthErrorText($0.description) } == true)
    }

    @Test("refuses raw NUL and invalid UTF-8 bytes")
    func rawBytes() {
        for body in [Array("a=b".utf8) + [0], Array("a=".utf8) + [0xC3, 0x28], Array("a".utf8) + [0xFF] + Array("=1".utf8)] {
            let error = refusal { () throws(ExchangeError) -> FormBody in try FormBody(parsing: body) }
            #expect(error?.code == .malformedForm)
        }
    }

    @Test("an empty value counts as omitted")
    func emptyValue() throws {
        let form = try Self.form("scope=&audience=&audience=api")
        #expect(try form.value("scope") == nil)
        #expect(try form.value("absent") == nil)
        #expect(form.values("audience") == ["api"])
        let error = refusal { () throws(ExchangeError) -> String in try form.required("scope") }
        #expect(error?.code == .missingParameter)
        #expect(error?.description == "missing required parameter: scope")
    }

    @Test("a repeated single-valued parameter is repeatedParameter, whatever its values")
    func repeated() throws {
        for body in ["scope=a&scope=b", "scope=a&scope=a", "scope=&scope=b", "scope=a&x=1&scope="] {
            let form = try Self.form(body)
            let error = refusal { () throws(ExchangeError) -> String? in try form.value("scope") }
            #expect(error?.code == .repeatedParameter, "\(body)")
            #expect(error?.description == "parameter included more than once: scope")
        }
    }

    @Test("repeatable parameters keep every value in order")
    func repeatable() throws {
        let form = try Self.form("audience=b&resource=https%3A%2F%2Fr&audience=a&audience=b")
        #expect(form.values("audience") == ["b", "a", "b"])
        #expect(form.values("resource") == ["https://r"])
        #expect(form.values("scope") == [])
    }

    @Test("names are compared exactly")
    func exactNames() throws {
        let form = try Self.form("Scope=a&scope%20=b")
        #expect(try form.value("scope") == nil)
        #expect(try form.value("Scope") == "a")
        #expect(try form.value("scope ") == "b")
    }

    @Test("equality compares pairs in order")
    func equality() throws {
        #expect(try Self.form("a=1&b=2") == FormBody(pairs: [("a", "1"), ("b", "2")]))
        #expect(try Self.form("a=1&b=2") != Self.form("b=2&a=1"))
        #expect(try Self.form("a+b=1") == Self.form("a%20b=1"))
    }

    @Test("parses a 64 KiB body in linear time")
    func largeBody() throws {
        let body = Array(repeating: "audience=a%20b", count: 4_500).joined(separator: "&")
        let start = ContinuousClock.now
        #expect(try Self.form(body).values("audience").count == 4_500)
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
