/// Behaviour switches of the engine, set from the command line.
public struct EngineSettings: Sendable {
    /// How long a transient status (`creating`, `pending`, `updating`) lasts; 0 = the next read sees it settled.
    public var transitionDelayNanoseconds: Int64

    /// Creates settings.
    public init(transitionDelayNanoseconds: Int64 = 0) {
        self.transitionDelayNanoseconds = transitionDelayNanoseconds
    }
}
