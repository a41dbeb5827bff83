import ArgumentParser
import Logging

@main
struct WIF: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wif",
        abstract: "Workload identity federation: exchange a platform-issued identity token for a short-lived access token.",
        subcommands: [Serve.self, Exchange.self, Whoami.self, Demo.self, DevToken.self, Validate.self, Explain.self, Test.self, Bench.self]
    )

    static func main() async {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
