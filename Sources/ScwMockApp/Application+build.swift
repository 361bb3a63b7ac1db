import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ScwAPI
import ScwDomain
import ScwEngine
import ScwKeys
import ScwStore
import ServiceLifecycle
import Synchronization

/// The composition root: opens the store, applies the identity and the seeds, builds the services and the
/// router, and returns the application. Nothing listens until this has succeeded, so the first answer of
/// `/_mock/health` means ready. `inspectRouter` is shown the finished router (the tests read its routes).
public func buildApplication(
    _ configuration: MockConfiguration,
    clock baseClock: any WallClock = SystemClock(),
    ids: any IDSource = RandomIDSource(),
    logger: Logger = Logger(label: "scw-mock"),
    onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in },
    inspectRouter: (Router<ScwRequestContext>) -> Void = { _ in },
    phases startPhases: StartPhases = StartPhases()
) async throws -> some ApplicationProtocol {
    var phases = startPhases
    phases.mark("command")
    let clock = MockClock(base: baseClock, start: configuration.clockStart, frozen: configuration.freezeClock)
    // --deterministic-ids: counters instead of random values, and the built-in development keys instead of generated ones.
    let deterministic = configuration.deterministicIDSeed.map { DeterministicIDSource(seed: $0) }
    let ids: any IDSource = deterministic ?? ids
    if let deterministic { DeterministicRequestIDs.use(deterministic) }
    let database = try AppDatabase.open(path: configuration.databasePath)
    try database.saveIdentity(organizations: [(WellKnownIdentity.organizationID, "default")],
                              projects: [WellKnownIdentity.project], apiKeys: [WellKnownIdentity.apiKey])
    phases.mark("store_open")

    var settings = EngineSettings(transitionDelayNanoseconds: Int64(configuration.transitionDelaySeconds * 1e9),
                                  publicDomain: configuration.publicDomain,
                                  quotas: Quotas(multiplier: configuration.quotaMultiplier), secretHashCost: configuration.secretHashCost)
    let allowedHosts = configuration.allowedHostNames
    settings.allowedHosts = allowedHosts
    let forge = KeyForge(database: database, bits: configuration.keyBits, poolTarget: deterministic == nil ? configuration.keyPoolSize : 0,
                         logger: logger, fixedKeys: deterministic == nil ? [] : DeterministicKeys.pems)
    let keyRing = KeyRing(database: database, forge: forge)
    var runtimeSettings = RuntimeSettings(
        enabled: configuration.runtimeEnabled, sampleAppCommand: [selfExecutable(), "sample-app"],
        readyTimeoutSeconds: configuration.readyTimeoutSeconds, privateAuth: configuration.privateAuth,
        scaleToZeroSeconds: configuration.scaleToZeroSeconds, watchdogCommand: [selfExecutable(), "watchdog"],
        launcherCommand: [selfExecutable(), "run-child", "--"])
    if configuration.runtimeEnabled {
        runtimeSettings.engine = try await EngineSelection.resolve(configuration.runtimeMode, environment: ProcessInfo.processInfo.environment,
                                                                   logger: logger)
    }
    let runtime = RuntimeCoordinator(database: database, keys: keyRing, clock: clock, settings: runtimeSettings, logger: logger)
    let namespaces = NamespaceService(database: database, clock: clock, ids: ids, settings: settings, keys: keyRing, runtime: runtime)
    let containers = ContainerService(database: database, clock: clock, ids: ids, settings: settings, runtime: runtime)
    let functions = FunctionService(database: database, clock: clock, ids: ids, settings: settings, runtime: runtime)
    functions.address.set(host: configuration.host, port: configuration.port)  // the actual port once listening (below)
    let triggers = TriggerService(database: database, clock: clock, ids: ids, settings: settings)
    let tokens = TokenService(database: database, clock: clock, ids: ids, settings: settings, keys: keyRing)
    let seedServices = SeedLoader.Services(containers: containers, functions: functions, triggers: triggers, tokens: tokens, clock: clock)
    // A store that held nothing but the identity before seeding is, right after seeding, exactly the seeded state that
    // `POST /_mock/reset` returns to (same ids, same tokens). An existing store is not: its first reset seeds again.
    let fresh = try holdsOnlyTheIdentity(database)
    if deterministic != nil, !fresh {
        logger.warning("--deterministic-ids on a store that already holds resources: ids count from the start again and can collide with stored ones; use a new file or --database :memory:")
    }
    try await SeedLoader.apply(paths: configuration.seedPaths, to: database, namespaces: namespaces, runtime: runtime, services: seedServices)
    let seeded = fresh ? try database.copy() : nil
    deterministic?.mark()
    phases.mark("seed")
    // Fill the key pool (and key any seeded namespace without a key file) in the background, a moment after the
    // listener opens so that start-up does not compete with RSA generation.
    Task {
        try? await Task.sleep(for: .milliseconds(100))
        await forge.kick()
    }

    let authenticator = try Authenticator(database: database, clock: clock)
    let admin = Administration(database: database, configuration: configuration, namespaces: namespaces, authenticator: authenticator,
                               keys: keyRing, runtime: runtime, services: seedServices, clock: clock,
                               deletions: settings.deletions, seeded: seeded, deterministicIDs: deterministic)
    let gateway = GatewayService(database: database, keys: keyRing, clock: clock, authenticator: authenticator, runtime: runtime,
                                 mode: configuration.privateAuth)
    var services = APIServices(
        authenticator: authenticator,
        namespaces: namespaces,
        containers: containers,
        functions: functions,
        triggers: triggers,
        domains: DomainService(database: database, clock: clock, ids: ids, settings: settings),
        tokens: tokens,
        clock: clock,
        info: MockInfo(version: scwMockVersion, databasePath: database.path, authEnforced: true),
        admin: admin,
        gateway: gateway)
    services.edge = EdgePolicy(hosts: allowedHosts, controlToken: configuration.controlToken)
    let router = buildRouter(services)
    inspectRouter(router)
    phases.mark("routes")

    let serverName = "Scaleway API Gateway (scw-mock)"
    var serverConfiguration = HTTP1Channel.Configuration()
    // Idle keep-alive connections are closed after a while so slow or idle clients cannot pile up.
    serverConfiguration.idleTimeout = .milliseconds(Int64(configuration.idleTimeoutSeconds * 1000))
    let startPhases = phases
    return Application(
        router: router,
        // HTTP/1 with the gateway in each connection's pipeline (see GatewayHandler).
        server: HTTPServerBuilder { [serverConfiguration, edge = services.edge] responder in
            GatewayHTTP1Channel(responder: responder, configuration: serverConfiguration, gateway: gateway, edge: edge,
                                serverName: serverName)
        },
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: serverName),
        // Listed first so that it is shut down last, after the server has drained its requests.
        services: [DatabaseService(database: database, logger: logger), KeyForgeService(forge: forge),
                   RuntimeService(runtime: runtime, crons: configuration.runtimeEnabled ? CronScheduler(database: database, clock: clock, runtime: runtime, logger: logger) : nil)],
        onServerRunning: { channel in
            var phases = startPhases
            phases.mark("listen")
            phases.log(to: logger)
            let port = channel.localAddress?.port ?? configuration.port
            functions.address.set(host: configuration.host, port: port)  // pre-signed URLs point here, whatever Host says
            if let readyFile = configuration.readyFile {
                // Written atomically (temporary file + rename) so a reader never sees half a URL.
                let shown = ServerAddress.shownHost(configuration.host)
                try? Data("http://\(shown):\(port)\n".utf8).write(to: URL(fileURLWithPath: readyFile), options: .atomic)
            }
            await onServerRunning(port)
            // Containers and functions that were running before a restart run again.
            Task { await runtime.restoreAfterRestart() }
        },
        logger: logger)
}

/// Reset to the seeded state (`POST /_mock/reset`): the copy taken right after seeding a fresh store, else (a store
/// that existed before this start) wipe, then the same identity and seed paths as at start.
final class Administration: MockAdministration {
    let database: AppDatabase
    let configuration: MockConfiguration
    let namespaces: NamespaceService
    let authenticator: Authenticator
    let keys: KeyRing
    let runtime: RuntimeCoordinator
    let services: SeedLoader.Services
    let clock: MockClock
    /// Deletions still readable as `deleting`: a reset forgets them with everything else.
    let deletions: DeletionWindow
    /// The seeded state (taken at start, or by the first reset); resets restore it in about a millisecond.
    let seeded: Mutex<StoreCopy?>
    /// `--deterministic-ids`: a reset puts the counters back where they stood after the seed.
    let deterministicIDs: DeterministicIDSource?

    init(database: AppDatabase, configuration: MockConfiguration, namespaces: NamespaceService, authenticator: Authenticator,
         keys: KeyRing, runtime: RuntimeCoordinator, services: SeedLoader.Services, clock: MockClock, deletions: DeletionWindow,
         seeded: StoreCopy?, deterministicIDs: DeterministicIDSource? = nil) {
        self.deterministicIDs = deterministicIDs
        self.deletions = deletions
        self.database = database
        self.configuration = configuration
        self.namespaces = namespaces
        self.authenticator = authenticator
        self.keys = keys
        self.runtime = runtime
        self.services = services
        self.clock = clock
        self.seeded = Mutex(seeded)
    }

    func reset(toEmpty: Bool) async throws {
        // Processes of containers the reset removes must not outlive them.
        await runtime.stopEveryWorkload()
        // Namespaces keyed after the seeded state was taken (from the pool) keep their key, so that the public keys
        // clients fetched, and the token file's tokens, still verify. Tokens are another matter: the
        // gateway accepts only ids the store knows, so tokens and issue-jwt tokens minted since the seed are unknown
        // after the reset, whichever path below runs (the copy holds none of them; a wipe cascades from namespaces).
        let keptKeys = try database.allNamespaceKeys()
        keys.forgetAll()
        deletions.removeAll()
        clock.resetOffset()
        deterministicIDs?.rewind()
        runtime.resetMappings()
        if !toEmpty, let copy = seeded.withLock({ $0 }) {
            try database.restore(copy)
        } else {
            try database.wipe()
            try database.saveIdentity(organizations: [(WellKnownIdentity.organizationID, "default")],
                                      projects: [WellKnownIdentity.project], apiKeys: [WellKnownIdentity.apiKey])
            if !toEmpty {
                try await SeedLoader.apply(paths: configuration.seedPaths, to: database, namespaces: namespaces, runtime: runtime,
                                           services: services)
                let copy = try database.copy()
                seeded.withLock { $0 = copy }
                deterministicIDs?.mark()
            }
        }
        if !toEmpty {
            for (id, pem) in keptKeys {
                guard let bits = (try? NamespaceKey(pem: pem))?.privateKey.keySizeInBits else { continue }
                _ = try database.assignKey(id, pem: pem, bits: bits)
            }
            // The restored pool may hold keys handed out since: never give one to a second namespace.
            try database.discardPooledKeysInUse()
        }
        try authenticator.reload()
        await runtime.restoreAfterRestart()
    }

    func projects() throws -> [Project] { try database.allProjects() }

    func exportState() throws -> Data {
        try WireJSON.encoder.encode(StateExport.document(try database.snapshot(), organizations: try database.allOrganizations(),
                                                         registry: try database.registrySnapshot()))
    }

    func applySeed(_ body: Data) async throws {
        // YAML or JSON (JSON is YAML); its image and runtime mappings are added to the seed's.
        let text = Result<String, any Error> {
            guard let text = String(data: body, encoding: .utf8) else { throw SeedError(problems: [SeedProblem(file: "body", field: "-", message: "expected UTF-8 text")]) }
            return text
        }
        do {
            // Data only unless the operator opted in: a posted fixture must not run commands or touch files (catalog C03).
            try await SeedLoader.apply(documents: [("body", text)], to: database, namespaces: namespaces, runtime: runtime, services: services,
                                       addingMappings: true, trusted: configuration.trustPostedSeeds)
        } catch let error as SeedError {
            // One entry per fixture problem, as Scaleway-shaped invalid arguments.
            throw ScwError.invalidArguments(error.problems.map { ArgumentProblem(argumentName: $0.field, reason: .constraint, helpMessage: $0.message) })
        }
        try authenticator.reload()
    }

    func storage(limit: Int??) throws -> StorageState {
        guard let limit else { return try database.storageState() }
        return try database.limitGrowth(toPages: limit)
    }
}

/// Whether the store holds nothing but the well-known identity (a new store, or `:memory:`).
func holdsOnlyTheIdentity(_ database: AppDatabase) throws -> Bool {
    let s = try database.snapshot()
    return s.namespaces.isEmpty && s.projects.allSatisfy { $0.id == WellKnownIdentity.projectID }
        && s.apiKeys.allSatisfy { $0.accessKey == WellKnownIdentity.accessKey }
}

/// Keeps the database open for the life of the application and closes it cleanly at shutdown.
struct DatabaseService: Service {
    let database: AppDatabase
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        try database.close()
        logger.info("database closed", metadata: ["path": "\(database.path)"])
    }
}

/// Stops key generation at shutdown, before the database closes.
struct KeyForgeService: Service {
    let forge: KeyForge

    func run() async throws {
        try? await gracefulShutdown()
        await forge.stop()
    }
}

/// Stops every launched process at shutdown (before the database closes).
struct RuntimeService: Service {
    let runtime: RuntimeCoordinator
    let crons: CronScheduler?

    func run() async throws {
        await crons?.start()
        try? await gracefulShutdown()
        await crons?.stop()
        await runtime.stopAll()
    }
}

/// The path of this program (to launch `scw-mock sample-app`).
/// This binary, for the processes that are subcommands of it (the sample app, `run-child`, the watchdog):
/// `/proc/self/exe`, which the kernel resolves to the running file even after a rebuild replaced or removed it.
func selfExecutable() -> String {
    FileManager.default.isExecutableFile(atPath: "/proc/self/exe") ? "/proc/self/exe" : CommandLine.arguments[0]
}

/// The browser console's address, printed at start on stderr (stdout carries the export line alone).
public func consoleURL(host: String, port: Int) -> String { "http://\(ServerAddress.shownHost(host)):\(port)/_mock/console" }

/// The line printed at start that points clients at the mock.
public func exportLine(host: String, port: Int) -> String {
    let shownHost = ServerAddress.shownHost(host)
    return "export SCW_API_URL=http://\(shownHost):\(port) SCW_ACCESS_KEY=\(WellKnownIdentity.accessKey) "
        + "SCW_SECRET_KEY=\(WellKnownIdentity.secretKey) SCW_DEFAULT_PROJECT_ID=\(WellKnownIdentity.projectID.rawValue) "
        + "SCW_DEFAULT_REGION=fr-par"
}

/// Checks fixture files without starting a server (`scw-mock seed check`): they are tried on a throwaway in-memory
/// store through the same code paths as at start, and no file is written. Returns how many files were read and the
/// warnings (paths leading out of a fixture's folder); problems are thrown as a `SeedError`, which carries the warnings too.
public func checkSeeds(paths: [String]) async throws -> SeedCheck {
    let database = try AppDatabase.open(path: ":memory:")
    try database.saveIdentity(organizations: [(WellKnownIdentity.organizationID, "default")],
                              projects: [WellKnownIdentity.project], apiKeys: [WellKnownIdentity.apiKey])
    let clock = MockClock(base: SystemClock())
    let forge = KeyForge(database: database, bits: 2048, poolTarget: 0, logger: Logger(label: "seed-check"))
    let keys = KeyRing(database: database, forge: forge)
    let settings = EngineSettings()
    let ids = RandomIDSource()
    let namespaces = NamespaceService(database: database, clock: clock, ids: ids, settings: settings, keys: keys)
    let services = SeedLoader.Services(
        containers: ContainerService(database: database, clock: clock, ids: ids, settings: settings),
        functions: FunctionService(database: database, clock: clock, ids: ids, settings: settings),
        triggers: TriggerService(database: database, clock: clock, ids: ids, settings: settings),
        tokens: TokenService(database: database, clock: clock, ids: ids, settings: settings, keys: keys), clock: clock)
    // Check only: nothing is written, not even the fixtures' token files.
    let warnings = try await SeedLoader.apply(paths: paths, to: database, namespaces: namespaces, services: services, checkOnly: true)
    await forge.stop()
    return SeedCheck(files: try SeedLoader.files(in: paths).count, warnings: warnings)
}
