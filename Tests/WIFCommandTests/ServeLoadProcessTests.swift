import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import WIFCore
import WIFTesting

/// `wif serve` runs Swift concurrency on NIO's event loops (WIF.swift), which only the binary does: the
/// in-process server tests run on the cooperative pool. This drives the binary with concurrent exchanges
/// while SIGHUP reloads the trust-config: every exchange must be granted and the reloads must happen.
@Suite("wif serve as a process under concurrent load")
struct ServeLoadProcessTests {
    @Test("200 exchanges over 8 connections all succeed while SIGHUP reloads run")
    func loadDuringReloads() async throws {
        let setup = try await ExchangeCommandTests.Setup.make()
        let server = try await setup.serve()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let token = try String(contentsOfFile: setup.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let body = FormEncoding.body([
            ("grant_type", GrantType.tokenExchange.rawValue), ("subject_token_type", TokenTypeURI.jwt), ("subject_token", token),
            ("audience", "https://ledger.internal"),
        ])
        let pid = server.process.processIdentifier
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var statuses: [Int] = []
                    for _ in 0..<25 {
                        var request = HTTPClientRequest(url: setup.url + "/token")
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                        request.body = .bytes(ByteBuffer(string: body))
                        let response = try await client.execute(request, timeout: .seconds(10))
                        let answer = try await response.body.collect(upTo: 64 * 1024)
                        let granted = (try? JSONValue.parse(Array(buffer: answer)))?["access_token"] != nil
                        statuses.append(granted ? Int(response.status.code) : -Int(response.status.code))
                    }
                    return statuses
                }
            }
            group.addTask {
                for _ in 0..<5 {
                    try await Task.sleep(for: .milliseconds(100))
                    kill(pid, SIGHUP)
                }
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(statuses.count == 200)
        #expect(statuses.allSatisfy { $0 == 200 }, "every exchange granted: \(Set(statuses))")
        #expect(try await WIFProcess.eventually { server.output.contains("reason=SIGHUP") }, "reloaded on SIGHUP")
        #expect(server.process.isRunning)
        try await client.shutdown()
        try await server.stop()
        await setup.stop()
    }
}
