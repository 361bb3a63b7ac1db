import ScwDomain

/// Behaviour switches of the engine, set from the command line.
public struct EngineSettings: Sendable {
    /// How long a transient status (`creating`, `pending`, `updating`) lasts; 0 = the next read sees it settled.
    public var transitionDelayNanoseconds: Int64

    /// Suffix of generated endpoints instead of Scaleway's `functions.fnc.<region>.scw.cloud` (`--public-domain`), so that
    /// users can pick one that resolves to 127.0.0.1 (e.g. `localtest.me`).
    public var publicDomain: String?

    /// Creates settings.
    public init(transitionDelayNanoseconds: Int64 = 0, publicDomain: String? = nil) {
        self.transitionDelayNanoseconds = transitionDelayNanoseconds
        self.publicDomain = publicDomain
    }

    /// The generated host of an application (spec section 5): `<prefix>-<name>.functions.fnc.<region>.scw.cloud`.
    public func domainName(prefix: String, name: String, region: Region) -> String {
        "\(prefix)-\(name).\(publicDomain ?? "functions.fnc.\(region.rawValue).scw.cloud")"
    }
}
