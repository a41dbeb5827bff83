import ArgumentParser
import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import WIFClient
import WIFCore
import WIFServer
import WIFSources
import WIFTesting

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure exchanges per second and latency against the crypto floor (not part of the tests).",
        discussion: """
            In one run: the crypto floor through wif's own crypto path (RS256 verifications and ES256 signatures \
            per second on one core), the whole pipeline without HTTP, then a local test issuer and the real \
            server on loopback driven over real HTTP with --concurrency connections for --duration seconds. \
            Prints exchanges/s, latency percentiles, errors, peak RSS and the ratio to the floor. Build with \
            -c release: `swift run -c release wif bench`. docs/performance.md has results and how to rerun them.

            --url drives a running server with the subject tokens of --tokens-file instead. --serve starts the \
            issuer and server, writes the token pool to --tokens-out and keeps serving, for an external load \
            generator (scripts/bench/exchange.lua for wrk).
            """
    )

    @Option(help: "Concurrent connections of the load loop.")
    var concurrency = 8

    @Option(help: "Seconds of measured load (after --warmup).")
    var duration = 10.0

    @Option(help: "Seconds of load before measuring.")
    var warmup = 2.0

    @Option(help: "Distinct subject tokens in the pool.")
    var tokens = 1000

    @Option(help: "Policies in the trust-config (each matches one subject exactly).")
    var policies = 10

    @Option(help: "Trusted issuers (each its own loopback issuer and RSA key).")
    var issuers = 1

    @Option(help: "Seconds per crypto floor measurement (0 skips the floor).")
    var floorSeconds = 2.0

    @Option(help: "Drive the server at this URL instead of starting one (needs --tokens-file).")
    var url: String?

    @Option(name: .customLong("tokens-file"), help: "With --url: subject tokens, one per line.")
    var tokensFile: String?

    @Option(help: "The audience to ask for.")
    var audience = "https://bench.internal"

    @Flag(help: "Start the issuer and server, write the token pool to --tokens-out, and keep serving.")
    var serve = false

    @Option(name: .customLong("tokens-out"), help: "With --serve: where to write the subject tokens.")
    var tokensOut: String?

    @Option(help: "With --serve: the loopback port to listen on.")
    var port = 8090

    @Option(help: "Seconds between RSS samples during the load (for long runs).")
    var rssEvery = 10.0

    func validate() throws {
        guard concurrency >= 1, concurrency <= 4096 else { throw ValidationError("--concurrency must be 1 to 4096") }
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be positive and --warmup not negative") }
        guard tokens >= 1, policies >= 1, issuers >= 1, issuers <= policies else {
            throw ValidationError("--tokens and --policies must be positive, and --issuers between 1 and --policies")
        }
        if url != nil, tokensFile == nil { throw ValidationError("--url needs --tokens-file (subject tokens that server trusts)") }
        if serve, tokensOut == nil { throw ValidationError("--serve needs --tokens-out") }
    }

    func run() async throws {
        #if DEBUG
        print("note: a debug build; measure with `swift run -c release wif bench`\n")
        #endif
        let floor = floorSeconds > 0 && !serve ? try printFloor() : nil
        if let url {
            let pool = try String(contentsOfFile: tokensFile ?? "", encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
            guard !pool.isEmpty else { throw CommandFailure("\(tokensFile ?? ""): no tokens") }
            try await load(url: TokenSource.Configuration.tokenURL(url), pool: pool, floor: floor, serverRSS: false)
            return
        }
        let fixture = try await BenchFixture.start(issuers: issuers, policies: policies, tokens: tokens, audience: audience)
        do {
            if floorSeconds > 0, !serve { try await printPipeline(fixture) }
            let server = try await fixture.serve(port: serve ? port : 0)
            if serve {
                try fixture.pool.joined(separator: "\n").appending("\n").write(toFile: tokensOut ?? "", atomically: true, encoding: .utf8)
                print("serving \(server.baseURL)/token; \(fixture.pool.count) subject tokens in \(tokensOut ?? ""); audience \(audience)")
                print("audit log: \(fixture.auditPath) (about 1 KiB a record; remove it when done)")
                print("e.g. wrk -t2 -c64 -d30s -s scripts/bench/exchange.lua \(server.baseURL) -- \(tokensOut ?? "") \(audience)")
                while true { try await Task.sleep(for: .seconds(3600)) }
            }
            try await load(url: server.baseURL + "/token", pool: fixture.pool, floor: floor, serverRSS: true)
            await server.stop()
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    // MARK: - The crypto floor

    /// Times `body` on this task (one core) for about `seconds`; operations per second.
    func rate(_ seconds: Double, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int64(seconds * 1000))
        var count = 0
        let start = clock.now
        while clock.now < end {
            for _ in 0..<16 { try body() }
            count += 16
        }
        let elapsed = clock.now - start
        return Double(count) / elapsed.inSeconds
    }

    /// RS256 verification and ES256 signing through the same swift-crypto calls wif makes; the floor in
    /// exchanges per second on all cores.
    func printFloor() throws -> Double {
        let key = try TestKey.rsa(keyID: "floor")
        let input = Array("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmbG9vciJ9".utf8)
        let signature = try key.sign(input)
        let verifier = try JWKSet.parse(JSONValue.object(["keys": [key.publicJWK]]).serialized()).keys[0]
        let signer = SigningKey.generate().privateKey
        let verify = try rate(floorSeconds) {
            guard verifier.isValidSignature(signature, over: input, algorithm: .rs256) else { throw CommandFailure("floor: RS256 did not verify") }
        }
        let sign = try rate(floorSeconds) { _ = try signer.signature(for: input) }
        let perCore = 1 / (1 / verify + 1 / sign)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("crypto floor (one core, swift-crypto as wif calls it)")
        print("  RS256 verify  \(Self.format(verify))/s  (\(Self.micros(1 / verify)))")
        print("  ES256 sign    \(Self.format(sign))/s  (\(Self.micros(1 / sign)))")
        print("  floor         \(Self.format(perCore)) exchanges/s per core, \(Self.format(perCore * Double(cores))) on \(cores) cores\n")
        return perCore * Double(cores)
    }

    /// The whole pipeline (parse, verify, policies, mint) without HTTP, on one core.
    func printPipeline(_ fixture: BenchFixture) async throws {
        let exchanger = fixture.inMemoryExchanger
        let requests = try fixture.pool.prefix(256).map { token in
            try ExchangeRequest(form: FormBody(pairs: fixture.form(token)))
        }
        var index = 0
        var failures = 0
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int64(floorSeconds * 1000))
        while clock.now < end {
            let outcome = await exchanger.exchange(requests[index % requests.count], now: Date().timeIntervalSince1970)
            if case .failure = outcome.result { failures += 1 }
            index += 1
        }
        let elapsed = clock.now - start
        let perSecond = Double(index) / elapsed.inSeconds
        print("pipeline without HTTP (one core: parse, verify, \(policies) policies, mint)")
        print("  \(Self.format(perSecond)) exchanges/s  (\(Self.micros(1 / perSecond)))\(failures > 0 ? "  \(failures) FAILED" : "")\n")
    }

    // MARK: - Load

    /// Drives `url` with the pool for --warmup then --duration seconds and prints the results.
    func load(url: String, pool: [String], floor: Double?, serverRSS: Bool) async throws {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let bodies = pool.map { token in ByteBuffer(string: FormBody(pairs: BenchFixture.form(token, audience: audience)).encoded) }
        let clock = ContinuousClock()
        let measureFrom = clock.now + .milliseconds(Int64(warmup * 1000))
        let end = measureFrom + .milliseconds(Int64(duration * 1000))
        let rssSampler = Task {
            var samples: [Int] = []
            while !Task.isCancelled {
                samples.append(ProcessMemory.current().resident)
                try? await Task.sleep(for: .milliseconds(Int64(rssEvery * 1000)))
            }
            return samples
        }
        let workers = concurrency
        let results = try await withThrowingTaskGroup(of: LoadResult.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var result = LoadResult()
                    var index = worker
                    while true {
                        let started = clock.now
                        guard started < end else { break }
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                        request.body = .bytes(bodies[index % bodies.count])
                        index += workers
                        var failure: String?
                        do {
                            let response = try await client.execute(request, timeout: .seconds(30))
                            let body = try await response.body.collect(upTo: 64 * 1024)
                            if response.status != .ok { failure = "HTTP \(response.status.code): \(String(buffer: body).prefix(200))" }
                        } catch {
                            failure = "\(error)"
                        }
                        let finished = clock.now
                        guard started >= measureFrom else { continue }
                        result.latencies.append(finished - started)
                        if let failure {
                            result.errors += 1
                            if result.firstError == nil { result.firstError = failure }
                        }
                    }
                    return result
                }
            }
            return try await group.reduce(into: LoadResult()) { $0.merge($1) }
        }
        rssSampler.cancel()
        let rss = await rssSampler.value
        try await client.shutdown()
        report(results, floor: floor, rss: serverRSS ? rss : nil)
    }

    func report(_ result: LoadResult, floor: Double?, rss: [Int]?) {
        let latencies = result.latencies.map { $0.inSeconds * 1000 }.sorted()
        let rate = Double(latencies.count - result.errors) / duration
        func percentile(_ p: Double) -> String {
            guard !latencies.isEmpty else { return "-" }
            return String(format: "%.2f ms", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))])
        }
        print("load over HTTP: \(concurrency) connections, \(Self.format(duration)) s after \(Self.format(warmup)) s of warm-up")
        print(
            "  exchanges     \(latencies.count - result.errors) granted, \(result.errors) errors\(result.firstError.map { "; first error: \($0)" } ?? "")"
        )
        print("  throughput    \(Self.format(rate)) exchanges/s")
        print(
            "  latency       p50 \(percentile(0.5))  p90 \(percentile(0.9))  p99 \(percentile(0.99))  max \(latencies.last.map { String(format: "%.2f ms", $0) } ?? "-")"
        )
        if let floor {
            print(
                "  vs floor      \(String(format: "%.1f%%", rate / floor * 100)) of the \(ProcessInfo.processInfo.activeProcessorCount)-core crypto floor"
            )
        }
        let memory = ProcessMemory.current()
        if let rss, let first = rss.first, let last = rss.last {
            print(
                "  memory        peak RSS \(memory.peak / 1024) MiB (server and load generator in one process); RSS first \(first / 1024) MiB, last \(last / 1024) MiB, max \((rss.max() ?? 0) / 1024) MiB over \(rss.count) samples"
            )
        } else {
            print("  memory        peak RSS of this load generator \(memory.peak / 1024) MiB (the server's is its own)")
        }
    }

    static func format(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String(format: "%.1f", value)
    }

    static func micros(_ seconds: Double) -> String { String(format: "%.1f µs", seconds * 1e6) }
}

/// What one load worker saw.
struct LoadResult: Sendable {
    var latencies: [Duration] = []
    var errors = 0
    var firstError: String?

    mutating func merge(_ other: LoadResult) {
        latencies += other.latencies
        errors += other.errors
        if firstError == nil { firstError = other.firstError }
    }
}

/// The process's resident memory from /proc/self/status, in KiB.
enum ProcessMemory {
    static func current() -> (resident: Int, peak: Int) {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func value(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return (value("VmRSS"), value("VmHWM"))
    }
}
