public import Logging
import NIOCore
public import NIOSSL
public import ServiceLifecycle
import Synchronization
import WIFSources

/// The certificate chain and private key files `wif serve --tls-certificate --tls-key` listens with.
public struct TLSFiles: Sendable, Hashable {
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

/// Serves the TLS certificate from files and picks up a renewed one without a restart: as a service it looks
/// at the files every ``checkInterval`` (following symlinks, so a Kubernetes Secret's swap is seen), and a
/// changed pair that loads and matches replaces the old one; each handshake takes the current pair, without
/// touching the disk. A pair that does not load is logged and the last good one keeps serving; it is tried
/// again when the files change again.
public final class TLSCertificateReloader: Service, Sendable {
    public let files: TLSFiles
    let checkInterval: Duration
    let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var stamp: [FileStamp?]
    }

    /// Loads the pair now; throws a message naming the file when it cannot be used.
    public init(files: TLSFiles, checkInterval: Duration = .seconds(1), logger: Logger) throws {
        self.files = files
        self.checkInterval = checkInterval
        self.logger = logger
        let stamp = Self.stamps(files)
        let (chain, key) = try Self.load(files)
        state = Mutex(State(chain: chain, key: key, stamp: stamp))
    }

    /// The server configuration: the current pair, and a per-handshake hook that serves the newest one.
    public func serverConfiguration() -> TLSConfiguration {
        let (chain, key) = current()
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.sslContextCallback = { [self] _, promise in
            let (chain, key) = current()
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = chain.map { .certificate($0) }
            override.privateKey = .privateKey(key)
            promise.succeed(override)
        }
        return configuration
    }

    /// The pair to serve now.
    func current() -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        state.withLock { ($0.chain, $0.key) }
    }

    /// Looks at the files every ``checkInterval`` until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.checkInterval)
                self.reloadIfChanged()
            }
        }
    }

    /// Loads the pair when the files changed since the last look; returns whether a new pair is served.
    @discardableResult
    public func reloadIfChanged() -> Bool {
        let stamp = Self.stamps(files)
        guard state.withLock({ $0.stamp != stamp }) else { return false }
        do {
            let (chain, key) = try Self.load(files)
            state.withLock { $0 = State(chain: chain, key: key, stamp: stamp) }
            logger.info("reloaded TLS certificate", metadata: ["file": .string(files.certificateChain)])
            return true
        } catch {
            state.withLock { $0.stamp = stamp }
            logger.error("TLS certificate not reloaded; serving the previous one", metadata: ["error": "\(error)"])
            return false
        }
    }

    static func load(_ files: TLSFiles) throws -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        } catch {
            throw TLSFilesError(file: files.certificateChain, reason: "not a PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else { throw TLSFilesError(file: files.certificateChain, reason: "holds no certificate") }
        do {
            key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        } catch {
            throw TLSFilesError(file: files.privateKey, reason: "not a PEM private key (\(error))")
        }
        // Building a context checks that the key belongs to the leaf certificate.
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            )
        } catch {
            throw TLSFilesError(file: files.privateKey, reason: "does not match the certificate in \(files.certificateChain) (\(error))")
        }
        return (chain, key)
    }

    private static func stamps(_ files: TLSFiles) -> [FileStamp?] {
        [FileStamp(path: files.certificateChain), FileStamp(path: files.privateKey)]
    }
}

/// A TLS file that cannot be served.
public struct TLSFilesError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "TLS file \(file): \(reason)" }
}
