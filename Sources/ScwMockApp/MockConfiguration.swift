import Logging
import ScwDomain
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
    /// What runs deployed containers when the runtime is on (`--runtime process|container|auto`); functions always run
    /// as processes.
    public var runtimeMode: RuntimeMode = .process
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

    /// Host names (besides the loopback names, IP literals and the bound address) that may name this server in `Host`
    /// and `Origin` (`--allowed-host`): the DNS-rebinding defence. A leading dot allows every subdomain.
    public var allowedHosts: [String] = []
    /// When set, every `/_mock` route but health (and the gateway and pre-signed URLs, which carry their own
    /// credentials) requires `X-Mock-Token` with this value (`--control-token`).
    public var controlToken: String?
    /// Whether `POST /_mock/seed` may carry what runs or reads files on this machine: command mappings,
    /// `working_directory`, `code`/`key_file`/`token_file` paths (`--trust-posted-seeds`). Off: data only.
    public var trustPostedSeeds = false
    /// Multiplies Scaleway's documented quotas (`--quota-multiplier`, for load tests); 0 turns them off.
    public var quotaMultiplier: Int = 1
    /// Argon2id parameters of secret hashes: Scaleway's own, or cheaper ones that still verify (`--secret-hash-cost`).
    public var secretHashCost: SecretHashCost = .scaleway
    /// The instant the mock's clock starts at (`--clock`, past included); nil: the system's time.
    public var clockStart: Timestamp?
    /// Whether the mock's clock stands still from the start until `/_mock/clock` moves it (`--freeze-clock`).
    public var freezeClock = false
    /// The seed of counter-made ids, names, salts, request ids and key choices (`--deterministic-ids`, `--id-seed`);
    /// nil: random, as Scaleway's.
    public var deterministicIDSeed: UInt64?

    /// The defaults.
    public init() {}

    /// The names that mean this server: the defaults, the bound host and `--allowed-host`.
    public var allowedHostNames: AllowedHosts { AllowedHosts(boundHost: host, extra: allowedHosts) }

    /// Whether the server listens on loopback only (`127.0.0.0/8`, `::1`, `localhost`).
    public var bindsLoopbackOnly: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The one-line warning printed at start when the control plane is reachable from other machines without a
    /// control token: what anyone who can reach the port can then do.
    public var exposureWarning: String? {
        guard !bindsLoopbackOnly, controlToken == nil else { return nil }
        return "scw-mock: warning: listening on \(host) without --control-token: anyone who can reach port \(port) can read "
            + "every private key, API secret key and secret through /_mock/state, reset or reseed the store, and run commands "
            + "through container deploys; bind 127.0.0.1 or set --control-token (env SCW_MOCK_CONTROL_TOKEN)"
    }
}

extension MockConfiguration {
    /// The one-line notice printed at start under `--deterministic-ids`: namespace keys are then public test keys,
    /// shared by every third namespace, whatever `--key-size` says.
    public var deterministicKeysWarning: String? {
        guard deterministicIDSeed != nil else { return nil }
        return "scw-mock: warning: --deterministic-ids: namespaces take the \(DeterministicKeys.pems.count) public development keys of "
            + "Keys/ in turn (namespace 1 and \(DeterministicKeys.pems.count + 1) share a key); their tokens are test material only"
    }
}

/// The version `/_mock/health` reports.
public let scwMockVersion = "0.1.0"
