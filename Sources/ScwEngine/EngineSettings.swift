import ScwDomain

/// Behaviour switches of the engine, set from the command line.
public struct EngineSettings: Sendable {
    /// How long a transient status (`creating`, `pending`, `updating`) lasts; 0 = the next read sees it settled.
    public var transitionDelayNanoseconds: Int64

    /// Suffix of generated endpoints instead of Scaleway's `functions.fnc.<region>.scw.cloud` (`--public-domain`), so that
    /// users can pick one that resolves to 127.0.0.1 (e.g. `localtest.me`).
    public var publicDomain: String?

    /// The host names that name this server (`--host`, `--allowed-host`): a custom domain may not take one of them.
    public var allowedHosts = AllowedHosts()

    /// Scaleway's documented quotas, possibly raised or off (`--quota-multiplier`).
    public var quotas: Quotas

    /// Argon2id parameters of new secret hashes (`--secret-hash-cost`): Scaleway's, or cheap ones for test suites.
    public var secretHashCost: SecretHashCost

    /// What was deleted within the last transition delay, still readable by id as `deleting`.
    public let deletions = DeletionWindow()

    /// When a deletion made at `now` stops being readable.
    func deletionEnds(_ now: Timestamp) -> Timestamp { now.adding(nanoseconds: transitionDelayNanoseconds) }

    /// Creates settings.
    public init(transitionDelayNanoseconds: Int64 = 0, publicDomain: String? = nil, quotas: Quotas = Quotas(),
                secretHashCost: SecretHashCost = .scaleway) {
        self.transitionDelayNanoseconds = transitionDelayNanoseconds
        self.publicDomain = publicDomain
        self.quotas = quotas
        self.secretHashCost = secretHashCost
    }

    /// The generated host of an application: `<prefix>-<name>.functions.fnc.<region>.scw.cloud`.
    public func domainName(prefix: String, name: String, region: Region) -> String {
        "\(prefix)-\(name).\(publicDomain ?? "functions.fnc.\(region.rawValue).scw.cloud")"
    }
}
