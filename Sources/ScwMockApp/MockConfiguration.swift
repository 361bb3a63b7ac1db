import Logging
import ScwEngine

/// Everything `scw-mock serve` can be told, with the embedded defaults.
public struct MockConfiguration: Sendable {
    /// Interface to bind; loopback by default so the mock is never reachable from the network by accident.
    public var host: String = "127.0.0.1"
    /// Port; 0 picks a free one (printed at start).
    public var port: Int = 7290
    /// SQLite file, or `:memory:`.
    public var databasePath: String = ".scw-mock/state.sqlite"
    /// Fixture files or folders, applied in order after the well-known identity.
    public var seedPaths: [String] = []
    /// Log level of the server's own log (stderr).
    public var logLevel: Logger.Level = .info
    /// Seconds a transient status lasts before it settles.
    public var transitionDelaySeconds: Double = 0
    /// RSA key size of new namespace keys (Scaleway: 4096).
    public var keyBits: Int = 4096
    /// How many pre-generated keys to keep ready, so namespace creation never waits for RSA generation.
    public var keyPoolSize: Int = 3
    /// A file to write the base URL to once the server answers (for scripts that wait for it).
    public var readyFile: String?
    /// Run deployed containers and functions as local processes (off: deploys settle after the transition delay).
    public var runtimeEnabled = true
    /// Who checks tokens of private applications: the gateway (`edge`) or the process itself (`container`).
    public var privateAuth: PrivateAuthMode = .edge
    /// Seconds a process has to listen on `PORT` before its deploy ends in `error`.
    public var readyTimeoutSeconds: Double = 30
    /// Seconds a connection may stay idle, take to send one request, or leave its response unread before it is
    /// closed (`--idle-timeout`): slow or stalled clients cannot pile up.
    public var idleTimeoutSeconds: Double = 60
    /// Suffix of generated endpoint names instead of Scaleway's pattern (`--public-domain`).
    public var publicDomain: String?
    /// Idle seconds after which `min_scale: 0` applications are stopped until their next call (`--scale-to-zero`).
    public var scaleToZeroSeconds: Double?

    /// The defaults.
    public init() {}
}

/// The version `/_mock/health` reports.
public let scwMockVersion = "0.1.0"
