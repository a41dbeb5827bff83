import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing
import WIFCore
import WIFServer
import WIFTesting

/// `wif serve --tls-certificate --tls-key`: https with a certificate made at test time, and renewal without
/// a restart.
@Suite("TLS listener and certificate renewal")
struct TLSTests {
    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wif-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Whether a client trusting only `caPEM` completes `GET /healthz` on `url`.
    static func handshakeSucceeds(_ url: String, trusting caPEM: String) async throws -> Bool {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        defer { _ = client.shutdown() }
        do {
            // A refused handshake is retried by the client's pool until this deadline: keep it short.
            let response = try await client.execute(HTTPClientRequest(url: url + "/healthz"), timeout: .seconds(2))
            return response.status == .ok
        } catch {
            return false
        }
    }

    /// Replaces the served pair with `source`'s, as a renewal would: each file swapped in by rename.
    static func install(_ source: TestCertificateAuthority, over target: TestCertificateAuthority) throws {
        try swap(Data(contentsOf: source.keyFile), into: target.keyFile)
        try swap(Data(contentsOf: source.certificateFile), into: target.certificateFile)
    }

    /// Writes `data` beside `file` and renames it over `file`.
    static func swap(_ data: Data, into file: URL) throws {
        let staged = file.appendingPathExtension("new")
        try data.write(to: staged)
        guard rename(staged.path, file.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    @Test("wif serves the token endpoint over https; the issuer URL is https")
    func servesHTTPS() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try await ExchangeHarness.with(tls: try TestCertificateAuthority(in: folder)) { harness in
            #expect(harness.wifIssuerURL.hasPrefix("https://127.0.0.1:"))
            let answer = try await harness.exchange(try harness.validToken())
            let claims = try await harness.issuedClaims(answer)
            #expect(claims["iss"]?.stringValue == harness.wifIssuerURL)
            let metadata = try await harness.send(method: .GET, path: "/.well-known/openid-configuration", contentType: nil, body: "")
            #expect(metadata.body["token_endpoint"]?.stringValue == harness.wifIssuerURL + "/token")
            // A client that does not trust the test CA is refused at the handshake.
            let stranger = try TestCertificateAuthority(in: try Self.folder(), commonName: "stranger CA")
            #expect(try await Self.handshakeSucceeds(harness.wifIssuerURL, trusting: stranger.caPEM) == false)
        }
    }

    @Test("a renewed certificate is served without a restart; a broken renewal keeps the last good one")
    func renewal() async throws {
        let folder = try Self.folder()
        let renewedFolder = try Self.folder()
        let brokenFolder = try Self.folder()
        defer {
            for path in [folder, renewedFolder, brokenFolder] { try? FileManager.default.removeItem(at: path) }
        }
        let original = try TestCertificateAuthority(in: folder)
        let renewed = try TestCertificateAuthority(in: renewedFolder, commonName: "renewed CA")
        let broken = try TestCertificateAuthority(in: brokenFolder, commonName: "broken CA")
        try await ExchangeHarness.with(tls: original) { harness in
            let url = harness.wifIssuerURL
            #expect(try await Self.handshakeSucceeds(url, trusting: original.caPEM))
            #expect(try await Self.handshakeSucceeds(url, trusting: renewed.caPEM) == false)

            try Self.install(renewed, over: original)
            var served = false
            for _ in 0..<40 where !served {
                try await Task.sleep(for: .milliseconds(250))
                served = try await Self.handshakeSucceeds(url, trusting: renewed.caPEM)
            }
            #expect(served, "the renewed certificate was not picked up within 10 s")
            #expect(try await Self.handshakeSucceeds(url, trusting: original.caPEM) == false)

            // A key that does not belong to the certificate: refused, the renewed pair keeps serving, and no
            // handshake fails meanwhile.
            try Self.swap(Data(contentsOf: broken.keyFile), into: original.keyFile)
            for _ in 0..<8 {
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await Self.handshakeSucceeds(url, trusting: renewed.caPEM))
            }
            // A certificate file that is not PEM: the same.
            try Data("not a certificate".utf8).write(to: original.certificateFile)
            for _ in 0..<6 {
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await Self.handshakeSucceeds(url, trusting: renewed.caPEM))
            }
        }
    }

    @Test("serve refuses a key that does not match its certificate, naming the file")
    func mismatchedPairAtStart() throws {
        let first = try TestCertificateAuthority(in: try Self.folder())
        let second = try TestCertificateAuthority(in: try Self.folder())
        let files = TLSFiles(certificateChain: first.certificateFile.path, privateKey: second.keyFile.path)
        #expect {
            try TLSCertificateReloader(files: files, logger: Logger(label: "test"))
        } throws: { error in
            "\(error)".contains(second.keyFile.path) && "\(error)".contains("does not match")
        }
        let missing = TLSFiles(certificateChain: "/nonexistent/tls.crt", privateKey: first.keyFile.path)
        #expect {
            try TLSCertificateReloader(files: missing, logger: Logger(label: "test"))
        } throws: { error in
            "\(error)".contains("/nonexistent/tls.crt")
        }
    }
}
