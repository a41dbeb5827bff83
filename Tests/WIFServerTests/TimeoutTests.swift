import Testing
import WIFCore
import WIFServer
import WIFTesting

/// Slow clients over a raw socket (security-cases.md case 14): each test is bounded to a few seconds.
@Suite("Connection timeouts over a raw socket")
struct TimeoutTests {
    static let tokenExchange = GrantType.tokenExchange.rawValue

    @Test("headers trickled a line at a time are cut off by the idle timeout, not served forever")
    func slowHeaders() async throws {
        try await ExchangeHarness.with(idleTimeout: .seconds(1)) { harness in
            var writes: [(delay: Duration, text: String)] = [(.zero, "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n")]
            writes += (0..<40).map { index in (Duration.milliseconds(250), "X-Slow-\(index): a\r\n") }
            let result = try await RawConnection.run(port: harness.server.port, writes: writes, observe: .seconds(12))
            let closed = try #require(result.closedAfter, "the server must close the connection")
            #expect(closed < .seconds(7), "closed after \(closed), while headers were still arriving every 250 ms for 10 s")
            #expect(!result.received.contains("200 OK"))
            #expect(harness.audit.isEmpty, "no request was ever handed to /token")
        }
    }

    @Test("an idle connection that never sends a byte is closed after the idle timeout")
    func idleConnection() async throws {
        try await ExchangeHarness.with(idleTimeout: .seconds(1)) { harness in
            let result = try await RawConnection.run(port: harness.server.port, writes: [], observe: .seconds(8))
            let closed = try #require(result.closedAfter)
            #expect(closed >= .milliseconds(500) && closed < .seconds(6), "closed after \(closed); the idle timeout is 1 s")
        }
    }

    @Test("a body trickled a byte at a time is refused with 408 once the read timeout has passed")
    func slowBody() async throws {
        try await ExchangeHarness.with(idleTimeout: .seconds(5), readTimeout: .seconds(1)) { harness in
            let body = "grant_type=\(Self.tokenExchange)&subject_token_type=x&subject_token=" + String(repeating: "a", count: 60)
            var writes: [(delay: Duration, text: String)] = [
                (
                    .zero,
                    "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                )
            ]
            writes += body.map { (Duration.milliseconds(100), String($0)) }
            // The whole body would take about 15 s to arrive.
            let result = try await RawConnection.run(port: harness.server.port, writes: writes, observe: .seconds(18))
            #expect(result.received.hasPrefix("HTTP/1.1 408"), "\(result.received)")
            #expect(result.received.contains(#""error":"invalid_request""#))
            #expect(result.received.contains("request body was not received in time"))
            let closed = try #require(result.closedAfter, "the connection is closed, not drained for the rest of the trickle")
            #expect(closed < .seconds(10), "answered and closed long before the body could have finished arriving: \(closed)")
            #expect(harness.audit.last?["reason"] == "request_timeout")
            #expect(harness.audit.count == 1)
        }
    }

    @Test(
        "a body that stops half way is closed by the idle timeout and audited as a request timeout, not a server error",
        arguments: ["content-length", "chunked"]
    )
    func stalledBody(_ framing: String) async throws {
        try await ExchangeHarness.with(idleTimeout: .seconds(2), readTimeout: .seconds(10)) { harness in
            let head =
                "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + (framing == "chunked" ? "Transfer-Encoding: chunked\r\n\r\na\r\ngrant_type\r\n" : "Content-Length: 100\r\n\r\ngrant_type")
            let result = try await RawConnection.run(port: harness.server.port, writes: [(.zero, head)], observe: .seconds(10))
            let closed = try #require(result.closedAfter, "the stalled connection is closed")
            #expect(closed < .seconds(6), "\(closed); the idle timeout is 2 s")
            for _ in 0..<250 where harness.audit.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            // On a machine so loaded that the idle timeout fires before the request head is handled, there is no
            // request and no record; whenever there is one, it is the client's timeout, never a server error.
            #expect(harness.audit.count <= 1)
            for record in harness.audit {
                #expect(record["reason"] == "request_timeout", "\(record["detail"] ?? .null)")
            }
        }
    }

    @Test("a body over the size cap gets 413 and the connection is closed, not drained while the client keeps sending")
    func oversizedBodyIsNotDrained() async throws {
        try await ExchangeHarness.with { harness in
            var writes: [(delay: Duration, text: String)] = [
                (
                    .zero,
                    "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n\r\n"
                )
            ]
            // 80 KiB at once (over the 64 KiB cap), then 16 KiB every 100 ms for 10 s.
            writes.append((.zero, "grant_type=" + String(repeating: "a", count: 80 * 1024)))
            writes += (0..<100).map { _ in (Duration.milliseconds(100), String(repeating: "b", count: 16 * 1024)) }
            let result = try await RawConnection.run(port: harness.server.port, writes: writes, observe: .seconds(12))
            #expect(result.received.hasPrefix("HTTP/1.1 413"), "\(result.received.prefix(100))")
            let closed = try #require(result.closedAfter, "closed, rather than reading up to 100 MB")
            #expect(closed < .seconds(7), "\(closed), while the client kept sending for 10 s")
            #expect(harness.audit.last?["reason"] == "body_too_large")
        }
    }

    @Test("a request refused before its body was read (415) leaves the connection able to serve the next one")
    func keepAliveAfterEarlyRefusal() async throws {
        try await ExchangeHarness.with { harness in
            let body = #"{"grant_type":"x"}"#
            let requests =
                "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                + "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            let result = try await RawConnection.run(port: harness.server.port, writes: [(.zero, requests)], observe: .seconds(5))
            #expect(result.received.hasPrefix("HTTP/1.1 415"), "\(result.received.prefix(100))")
            #expect(result.received.contains("HTTP/1.1 200 OK"), "the second request is served on the same connection")
        }
    }

    @Test("headers over the parser's 80 KiB limit get 400 and the connection is closed, before any route runs")
    func oversizedHeaders() async throws {
        try await ExchangeHarness.with { harness in
            let head = "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(String(repeating: "a", count: 90 * 1024))\r\n\r\n"
            let result = try await RawConnection.run(port: harness.server.port, writes: [(.zero, head)], observe: .seconds(5))
            #expect(result.received.hasPrefix("HTTP/1.1 400"), "\(result.received.prefix(200))")
            #expect(result.closedAfter != nil)
            #expect(harness.audit.isEmpty)
        }
    }

    @Test("the defaults: 30 s idle, 10 s to read a body")
    func defaults() {
        let settings = ServerSettings()
        #expect(settings.idleTimeout == .seconds(30))
        #expect(settings.requestReadTimeout == .seconds(10))
    }
}
