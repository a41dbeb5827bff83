import Synchronization
public import WIFCore

/// The exchange pipeline the server answers with now. A reload swaps in a new trust-config atomically;
/// each request takes the pipeline once, when it starts, and finishes on that one.
public final class LiveExchanger: Sendable {
    private let state: Mutex<(exchanger: TokenExchanger, generation: Int)>

    public init(_ exchanger: TokenExchanger) {
        state = Mutex((exchanger, 1))
    }

    /// The pipeline to use for a request that starts now.
    public var current: TokenExchanger { state.withLock { $0.exchanger } }

    /// How many configs have been served: 1 at start, one more per successful reload.
    public var generation: Int { state.withLock { $0.generation } }

    /// Serves `config` from now on, with the same key source and signing key; returns the new generation.
    @discardableResult
    public func replace(config: TrustConfig) -> Int {
        state.withLock { state in
            state.exchanger = TokenExchanger(config: config, keySource: state.exchanger.keySource, minter: state.exchanger.minter)
            state.generation += 1
            return state.generation
        }
    }
}
