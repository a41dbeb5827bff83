import Testing
import WIFCore

@Suite("JSONValue: strict parsing and serialization")
struct JSONValueTests {
    private func parse(_ text: String, maxDepth: Int = JSONValue.defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try JSONValue.parse(Array(text.utf8), maxDepth: maxDepth)
    }

    private func parses(_ bytes: [UInt8]) -> Bool {
        (try? JSONValue.parse(bytes)) != nil
    }

    private func nested(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    @Test("parses every kind of value")
    func parsesValues() throws {
        let value = try parse(#" { "s": "x", "n": -12.5e1, "t": true, "f": false, "z": null, "a": [1, "2", {}], "o": {"k": []} } "#)
        #expect(value == ["s": "x", "n": .number(-125), "t": true, "f": false, "z": .null, "a": [1, "2", .object([:])], "o": ["k": []]])
    }

    @Test("decodes escapes and surrogate pairs")
    func escapes() throws {
        let value = try parse(#"["\"\\\/\b\f\n\r\t", "\u0041\u00e9", "\ud83d\ude00"]"#)
        #expect(value == ["\"\\/\u{08}\u{0C}\n\r\t", "Aé", "😀"])
    }

    @Test("keeps raw UTF-8 in strings")
    func rawUTF8() throws {
        #expect(try parse("\"héllo 😀\"") == "héllo 😀")
    }

    @Test(
        "refuses what RFC 8259 does not allow",
        arguments: [
            Case("empty input", ""),
            Case("trailing garbage", "{}x"),
            Case("two documents", "{}{}"),
            Case("trailing comma in object", #"{"a":1,}"#),
            Case("trailing comma in array", "[1,]"),
            Case("single quotes", "{'a':1}"),
            Case("comment", "{} // c"),
            Case("unquoted member name", "{a:1}"),
            Case("leading zero", "01"),
            Case("leading plus", "+1"),
            Case("bare fraction", ".5"),
            Case("fraction without digits", "1."),
            Case("exponent without digits", "1e"),
            Case("NaN", "NaN"),
            Case("Infinity", "Infinity"),
            Case("number beyond Double", "1e400"),
            Case("number longer than 64 characters", "1" + String(repeating: "0", count: 64)),
            Case("capitalised literal", "True"),
            Case("truncated literal", "nul"),
            Case("unterminated string", #""abc"#),
            Case("raw control character in string", "\"a\u{01}b\""),
            Case("raw newline in string", "\"a\nb\""),
            Case("unknown escape", #""\x41""#),
            Case("short \\u escape", #""\u00""#),
            Case("lone high surrogate", #""\ud800""#),
            Case("high surrogate followed by a letter", #""\ud800x""#),
            Case("high surrogate followed by a non-surrogate escape", #""\ud800\u0041""#),
            Case("lone low surrogate", #""\udc00""#),
            Case("duplicate member", #"{"a":1,"a":2}"#),
            Case("duplicate member spelled with an escape", #"{"alg":"RS256","a\u006cg":"none"}"#),
            Case("duplicate member in a nested object", #"{"k":{"ns":"a","ns":"b"}}"#),
            Case("duplicate member inside an array element", #"[{"x":1,"x":1}]"#),
            Case("missing colon", #"{"a" 1}"#),
            Case("missing value", #"{"a":}"#),
            Case("unclosed array", "[1,2"),
        ]
    )
    func refuses(_ input: Case<String>) {
        #expect(throws: JSONParseError.self) { try parse(input.value) }
    }

    static func bytes(_ parts: [UInt8]...) -> [UInt8] { parts.flatMap { $0 } }
    static func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let badBytes: [Case<[UInt8]>] = [
        Case("invalid UTF-8 byte in a string", bytes(utf8(#"{"a":""#), [0xFF], utf8(#""}"#))),
        Case("truncated multi-byte sequence", bytes(utf8("\""), [0xC3], utf8("\""))),
        Case("overlong encoding of '/'", bytes(utf8("\""), [0xC0, 0xAF], utf8("\""))),
        Case("UTF-8 encoded surrogate", bytes(utf8("\""), [0xED, 0xA0, 0x80], utf8("\""))),
        Case("invalid UTF-8 in a member name", bytes(utf8("{\""), [0xFE], utf8(#"":1}"#))),
        Case("invalid UTF-8 split by an escape", bytes(utf8("\""), [0xC3], utf8(#"\n"#), [0xA9], utf8("\""))),
        Case("byte-order mark", bytes([0xEF, 0xBB, 0xBF], utf8("{}"))),
        Case("NUL after the value", bytes(utf8("{}"), [0])),
    ]

    @Test("refuses bytes that are not UTF-8 text", arguments: badBytes)
    func refusesBadBytes(_ input: Case<[UInt8]>) {
        #expect(!parses(input.value))
    }

    @Test("accepts nesting up to the depth limit and refuses one level more")
    func depthLimit() throws {
        #expect(JSONValue.defaultMaxDepth == 32)
        #expect(throws: Never.self) { try parse(nested(32)) }
        let error = #expect(throws: JSONParseError.self) { try parse(nested(33)) }
        #expect(error?.message == "JSON nested too deeply")
        #expect(throws: Never.self) { try parse(#"{"a":{"b":1}}"#, maxDepth: 2) }
        #expect(throws: JSONParseError.self) { try parse(#"{"a":{"b":{}}}"#, maxDepth: 2) }
    }

    @Test("refuses 100,000 levels of nesting without exhausting the stack")
    func deepNesting() {
        #expect(throws: JSONParseError.self) { try parse(nested(100_000)) }
        #expect(throws: JSONParseError.self) { try parse(String(repeating: #"{"a":"#, count: 100_000)) }
    }

    @Test("reports the byte offset of the problem")
    func offsets() {
        let error = #expect(throws: JSONParseError.self) { try parse(#"{"a":1,"a":2}"#) }
        #expect(error?.message == "duplicate member name")
        #expect(error?.offset == 12)
        #expect(error?.description == "duplicate member name at byte 12")
    }

    @Test("numbers keep fractions and range")
    func numbers() throws {
        #expect(try parse("1800000000.9") == .number(1_800_000_000.9))
        #expect(try parse("-0") == .number(0))
        #expect(try parse("1E+2") == .number(100))
        #expect(try parse("1.7e308") == .number(1.7e308))
        #expect(throws: JSONParseError.self) { try parse("1.8e308") }
        #expect(throws: JSONParseError.self) { try parse("-1.8e308") }
        #expect(try parse("9223372036854775808") == .number(9_223_372_036_854_775_808))
    }

    @Test("serializes compactly with sorted members and escapes")
    func serializes() {
        let value: JSONValue = ["b": [1, .number(2.5), .null, true], "a": "q\"\\\n\t\u{01}é"]
        let text = String(decoding: value.serialized(), as: UTF8.self)
        #expect(text == #"{"a":"q\"\\\n\t\u0001é","b":[1,2.5,null,true]}"#)
    }

    @Test(
        "round-trips through serialize and parse",
        arguments: [
            Case<JSONValue>("object", ["iss": "https://issuer.test", "exp": .number(1_800_000_600), "aud": ["a", "b"]]),
            Case<JSONValue>("control characters", "\u{00}\u{1F}\u{7F}\r"),
            Case<JSONValue>("non-BMP text", "😀 \u{10FFFF}"),
            Case<JSONValue>("fraction", .number(0.1)),
            Case<JSONValue>("large integer", .number(9_007_199_254_740_991)),
            Case<JSONValue>("huge number", .number(1e300)),
            Case<JSONValue>("negative", .number(-42)),
            Case<JSONValue>("nested", ["k": ["x": [[["y": .null]]]]]),
        ]
    )
    func roundTrips(_ input: Case<JSONValue>) throws {
        #expect(try JSONValue.parse(input.value.serialized()) == input.value)
    }

    @Test("claim paths are member names, never split on dots")
    func claimPaths() throws {
        let claims = try parse(#"{"kubernetes.io":{"namespace":"prod"},"kubernetes.io.namespace":"evil"}"#)
        #expect(claims.value(at: ClaimPath(["kubernetes.io", "namespace"])) == "prod")
        #expect(claims.value(at: ClaimPath(["kubernetes.io.namespace"])) == "evil")
        #expect(claims.value(at: ClaimPath(["kubernetes", "io", "namespace"])) == nil)
        #expect(claims.value(at: ClaimPath(["kubernetes.io", "namespace", "deeper"])) == nil)
        #expect(ClaimPath(["sub"]).description == "sub")
        #expect(ClaimPath(["kubernetes.io", "namespace"]).description == "[kubernetes.io][namespace]")
    }

    @Test("typed accessors return nil for other kinds")
    func accessors() {
        let value: JSONValue = "x"
        #expect(value.stringValue == "x")
        #expect(value.numberValue == nil)
        #expect(value.objectValue == nil)
        #expect(value.arrayValue == nil)
        #expect(value["x"] == nil)
        #expect(JSONValue.number(3).numberValue == 3)
        #expect(JSONValue.array([1]).arrayValue == [1])
    }

    @Test("display text is JSON and capped at 120 characters")
    func displayText() {
        #expect(JSONValue.string("prod").displayText == #""prod""#)
        let long = JSONValue.string(String(repeating: "a", count: 500)).displayText
        #expect(long.count == 120)
        #expect(long.hasSuffix("..."))
    }

    @Test("the object writer writes the text serialized() writes for the same members, nil members left out")
    func objectWriter() {
        var random = SeededRandom(seed: 20_261_123)
        let names = ["a", "aud", "b_c", "client_id", "grant_type", "granted_scope", "z", "\u{e9}t\u{e9}", "quote\"d"].sorted()
        let strings = ["", "plain", "tab\there", "new\nline", "\"quoted\"", "back\\slash", "\u{1}\u{7f}", "caf\u{e9} \u{1F600}"]
        for _ in 0..<200 {
            var writer = JSONObjectWriter(capacity: 8)
            var members: [String: JSONValue] = [:]
            for name in names {
                switch random.next(5) {
                case 0:
                    writer.member(name, nil as String?)
                case 1:
                    let value = strings[random.next(strings.count)]
                    writer.member(name, value)
                    members[name] = .string(value)
                case 2:
                    let value = [0, 1.5, -3, 1_700_000_000, 0.1][random.next(5)]
                    writer.member(name, value)
                    members[name] = .number(value)
                case 3:
                    let value = Array(strings.prefix(random.next(4)))
                    writer.member(name, strings: value)
                    members[name] = .array(value.map(JSONValue.string))
                default:
                    let value: JSONValue = ["k": .array([.bool(true), .null]), "j": .string(strings[random.next(strings.count)])]
                    writer.member(name, value)
                    members[name] = value
                }
            }
            #expect(writer.finish() == JSONValue.object(members).serialized())
        }
    }
}
