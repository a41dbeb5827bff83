import ArgumentParser
import Logging
import NIOCore
import NIOPosix

@main
struct WIF: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wif",
        abstract: "Workload identity federation: exchange a platform-issued identity token for a short-lived access token.",
        subcommands: [Serve.self, Exchange.self, Whoami.self, Demo.self, DevToken.self, Validate.self, Explain.self, Test.self, Bench.self]
    )

    static func main() async {
        // Swift concurrency's jobs run on NIO's event loops: a request's handler runs on the thread that read
        // it, instead of hopping to the cooperative pool and back for every request (docs/performance.md).
        // wif's tasks make only short blocking calls (an audit record's write, small file reads); the
        // trust-config reload, which reads and compiles a whole folder, runs on NIO's blocking-work pool.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
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
