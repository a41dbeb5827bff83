import ArgumentParser
import WIFCore
import WIFSources
import WIFTesting

struct DevToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-token",
        abstract: "Print a Kubernetes-shaped token from wif's local development issuer, to try /token by hand.",
        discussion: """
            Signs with the development key in the state folder (created on first use). Only a trust-config issuer \
            with `keys: {development: true}` trusts it, and `wif serve` allows that only on a loopback address.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Namespace of the service account.")
    var namespace = "demo"

    @Option(name: .customLong("service-account"), help: "Name of the service account.")
    var serviceAccount = "app"

    @Option(help: "The token's aud (default: the development issuer's first accepted audience).")
    var audience: String?

    @Option(help: "Lifetime in seconds.")
    var lifetime = 600

    func run() async throws {
        let config = try TrustConfigDirectory(path: common.trustConfigPath).load()
        guard let issuer = config.issuers.first(where: { $0.keySource == .development }) else {
            throw CommandFailure("\(common.trustConfigPath) has no issuer with keys: {development: true}")
        }
        guard (1...86_400).contains(lifetime) else { throw CommandFailure("--lifetime must be between 1 and 86400 seconds") }
        let development = try DevelopmentIssuer.load(state: common.stateDirectory)
        let claims = TokenFactory.kubernetesClaims(
            issuer: issuer.issuer,
            audience: audience ?? issuer.audiences[0],
            namespace: namespace,
            serviceAccount: serviceAccount,
            now: SystemClock().now(),
            lifetime: Double(lifetime)
        )
        print(try development.token(claims: claims))
    }
}
