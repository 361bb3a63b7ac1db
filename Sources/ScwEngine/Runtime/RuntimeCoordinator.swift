import Foundation
import Logging
import ScwDomain
import ScwKeys
import ScwStore
import Synchronization

/// Settings of the runtime.
public struct RuntimeSettings: Sendable {
    /// Launch processes for deployed containers and functions; off, deploys settle after the transition delay.
    public var enabled: Bool
    /// The program that serves `scw-mock sample-app` (this binary).
    public var sampleAppCommand: [String]
    /// Seconds a process has to listen on `PORT`.
    public var readyTimeoutSeconds: Double
    /// Who validates tokens of private applications; told to processes as `SCW_MOCK_PRIVATE_AUTH`.
    public var privateAuth: PrivateAuthMode
    /// Idle seconds after which an application with `min_scale: 0` is stopped (`--scale-to-zero`); nil = never.
    public var scaleToZeroSeconds: Double?
    /// The command that runs the process watchdog (`scw-mock watchdog`); nil = none.
    public var watchdogCommand: [String]?
    /// The command each workload runs under (`scw-mock run-child --`); nil = `setpriv --pdeathsig KILL --`.
    public var launcherCommand: [String]?
    /// The container engine that runs containers' images (`--runtime container`, or `auto` when one answered); nil =
    /// containers run as processes. Functions always run as processes.
    public var engine: EngineClient?

    /// Creates settings.
    public init(enabled: Bool, sampleAppCommand: [String], readyTimeoutSeconds: Double = 30, privateAuth: PrivateAuthMode = .edge,
                scaleToZeroSeconds: Double? = nil, watchdogCommand: [String]? = nil, launcherCommand: [String]? = nil) {
        self.watchdogCommand = watchdogCommand
        self.launcherCommand = launcherCommand
        self.enabled = enabled
        self.sampleAppCommand = sampleAppCommand
        self.readyTimeoutSeconds = readyTimeoutSeconds
        self.privateAuth = privateAuth
        self.scaleToZeroSeconds = scaleToZeroSeconds
    }
}

/// A fixture's mapping from container images (or function runtimes) to a local command (`images:` / `runtimes:`).
public struct CommandMapping: Sendable, Equatable {
    /// Exact name or glob (`*` matches anything) of the image or runtime.
    public var pattern: String
    public var command: [String]
    public var workingDirectory: String?
    public var environment: [String: String]

    /// The image an engine runs instead of the container's own (`engine_image`: a local tag or another registry);
    /// nil = the mapping is for processes only.
    public var engineImage: String?

    /// Creates a mapping.
    public init(pattern: String, command: [String], workingDirectory: String?, environment: [String: String], engineImage: String? = nil) {
        self.engineImage = engineImage
        self.pattern = pattern
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
    }

    /// Whether `name` matches the pattern.
    public func matches(_ name: String) -> Bool { Self.glob(pattern, name) }

    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != "*", p[pi] == t[ti] { pi += 1; ti += 1 }
            else if pi < p.count, p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// Ties deployed containers and functions to processes: builds the environment the platform injects
///, starts the process through the supervisor, and writes `ready` / `error` back to the store.
public final class RuntimeCoordinator: Sendable {
    let database: AppDatabase
    let keys: KeyRing
    let clock: any WallClock
    public let settings: RuntimeSettings
    let logger: Logger
    private let box = SupervisorBox()
    /// The server's private folder: unpacked code here, uploads being received by the API.
    public let workspace = PrivateWorkspace()
    /// How archives are unpacked (Scaleway's limits).
    let unpacker = CodeUnpacker()
    /// The folder each function's process runs in; removed on redeploy, delete, reset and shutdown.
    private let codeFolders = Mutex<[String: URL]>([:])
    /// The image and runtime mappings in force: those added at run time first (they win), then the seed's.
    let mappings = Mutex<(images: [CommandMapping], runtimes: [CommandMapping])>(([], []))
    /// The gateway's lines about the calls it answered for each application (stream `gateway`), shown with the
    /// process's output by `logs(of:)`: kept here, apart from the supervisors, so that the event loop appends them
    /// without waiting for an actor.
    private let gatewayLogs = Mutex<[String: LogBuffer]>([:])
    /// The seed's own mappings, which a reset goes back to.
    private let seedMappings = Mutex<(images: [CommandMapping], runtimes: [CommandMapping])>(([], []))

    /// Replaces the fixtures' image and runtime mappings (the seed's, at start).
    public func setMappings(images: [CommandMapping], runtimes: [CommandMapping]) {
        seedMappings.withLock { $0 = (images, runtimes) }
        mappings.withLock { $0 = (images, runtimes) }
    }

    /// Adds mappings in front of the current ones, so they win (`POST /_mock/seed`).
    public func addMappings(images: [CommandMapping], runtimes: [CommandMapping]) {
        mappings.withLock { $0 = (images + $0.images, runtimes + $0.runtimes) }
    }

    /// Forgets the mappings added at run time (`POST /_mock/reset`): the seed's are in force again.
    public func resetMappings() {
        let seed = seedMappings.withLock { $0 }
        mappings.withLock { $0 = seed }
    }

    final class SupervisorBox: @unchecked Sendable {
        var supervisor: ProcessSupervisor?
        var engine: EngineSupervisor?
    }

    /// Creates the coordinator and its supervisor.
    public init(database: AppDatabase, keys: KeyRing, clock: any WallClock, settings: RuntimeSettings, logger: Logger) {
        self.database = database
        self.keys = keys
        self.clock = clock
        self.settings = settings
        self.logger = logger
        let clockCopy = clock
        let markerFile = database.path == ":memory:" ? nil : database.path + ".processes"
        box.supervisor = ProcessSupervisor(
            logger: logger, markerFile: markerFile, watchdogCommand: settings.watchdogCommand, launcherCommand: settings.launcherCommand,
            now: { clockCopy.now().rfc3339(fractionDigits: 6) }, onEvent: { [weak self] id, event in await self?.record(id, event) })
        if let client = settings.engine {
            box.engine = EngineSupervisor(
                client: client, identity: .current(databasePath: database.path), logger: logger,
                now: { clockCopy.now().rfc3339(fractionDigits: 6) }, onEvent: { [weak self] id, event in await self?.record(id, event) })
        }
    }

    var supervisor: ProcessSupervisor { box.supervisor! }
    /// Runs containers' images when an engine is in use.
    var engine: EngineSupervisor? { box.engine }

    /// A deploy's settlement instant when the runtime decides it (never by time).
    public static let settledByRuntime = Timestamp(nanoseconds: Int64.max)

    /// Starts (or restarts) the process of a container or function: what runs is its kind's `launchPlan`; the
    /// environment is the platform's, the same for both kinds.
    public func deploy(_ ref: ApplicationRef) async {
        guard settings.enabled, let app = (try? database.application(ref)) as? any RunnableApplication,
              let ns = try? database.namespace(id: app.namespaceID) else { return }
        await deploy(app, in: ns)
    }

    private func deploy<A: RunnableApplication>(_ app: A, in ns: Namespace) async {
        let id = app.id.rawValue
        if let engine, let container = app as? Container {
            await deployImage(container, in: ns, engine: engine)
            return
        }
        let plan: LaunchPlan
        switch await app.launchPlan(in: self) {
        case .failure(let refusal):
            await record(id, .failed(refusal.message))
            return
        case .success(let made):
            plan = made
        }
        await launch(id: id, namespace: ns, privacy: app.spec.privacy, environment: plan.environment, secrets: app.secretValues,
                     command: plan.command, workingDirectory: plan.workingDirectory, httpProbePath: plan.httpProbePath,
                     minScaleZero: app.spec.minScale == 0)
        // The previous deploy's code goes once the new process replaces the old one.
        let previous = codeFolders.withLock { folders in
            defer { folders[id] = plan.codeFolder }
            return folders[id]
        }
        if let previous, previous != plan.codeFolder { try? FileManager.default.removeItem(at: previous) }
    }

    /// Removes the unpacked code of a function (its process is stopped).
    private func removeCode(of id: String) {
        if let folder = codeFolders.withLock({ $0.removeValue(forKey: id) }) { try? FileManager.default.removeItem(at: folder) }
    }

    /// Stops a container's or function's process (and removes a function's unpacked code).
    public func stop(_ id: String) async {
        await supervisor.stop(id)
        await engine?.stop(id)
        removeCode(of: id)
        gatewayLogs.withLock { $0[id] = nil }
    }

    /// Stops every process (shutdown) and removes the server's private folder.
    public func stopAll() async {
        await supervisor.stopAll()
        await engine?.stopAll()
        codeFolders.withLock { $0.removeAll() }
        gatewayLogs.withLock { $0.removeAll() }
        workspace.removeAll()
    }

    /// Stops every process and forgets their logs' owners, keeping the runtime usable (reset).
    public func stopEveryWorkload() async {
        await supervisor.stopEveryWorkload()
        await engine?.stopEveryWorkload()
        gatewayLogs.withLock { $0.removeAll() }
        for folder in codeFolders.withLock({ folders in defer { folders.removeAll() }; return Array(folders.values) }) {
            try? FileManager.default.removeItem(at: folder)
        }
    }

    /// The port of a ready process, without waiting (nil: not ready, or scaled to zero; `port(of:timeout:)` waits).
    public func readyPort(of id: String) -> Int? { supervisor.readyPort(id) ?? engine?.readyPort(id) }

    /// The port of a ready process, waiting up to `timeout` seconds for one being started.
    public func port(of id: String, timeout: Double) async -> Int? {
        if let port = supervisor.readyPort(id) { return port }
        if let engine, await engine.isManaged(id) {
            if let port = await engine.touchAndPort(id) { return port }
            let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
            while true {
                if let port = await engine.port(of: id) { return port }
                guard await engine.isManaged(id), ContinuousClock.now < deadline else { return nil }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        if let port = await supervisor.touchAndPort(id) { return port }
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if let port = await supervisor.port(of: id) { return port }
            guard await supervisor.isManaged(id), ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Makes the next deploy of an application fail.
    public func failNextDeploy(of id: String) async {
        await supervisor.failNextDeploy(of: id)
        await engine?.failNextDeploy(of: id)
    }

    /// Kills an application's process as a crash would; false when nothing runs.
    public func crash(_ id: String) async -> Bool {
        if await supervisor.crash(id) { return true }
        return await engine?.crash(id) ?? false
    }

    /// Adds a line of the mock's own to an application's log.
    public func note(_ id: String, _ text: String) async {
        if let engine, await engine.hasLogs(id) { return await engine.note(id, text) }
        await supervisor.note(id, text)
    }

    /// The environment a container's or function's process was started with (nil: none was), for the console.
    public func environment(of id: String) async -> [String: String]? {
        if let engine, let environment = await engine.environment(of: id) { return environment }
        return await supervisor.environment(of: id)
    }

    /// The captured output of a container or function, with the gateway's lines about its calls, in time order.
    public func logs(of id: String) async -> (lines: [LogLine], dropped: Int)? {
        var own: (lines: [LogLine], dropped: Int)?
        if let engine, let lines = await engine.logLines(of: id) { own = lines } else { own = await supervisor.logLines(of: id) }
        guard let gateway = gatewayLogs.withLock({ $0[id] })?.snapshot() else { return own }
        // Merged by time, stable; a partial line (no time yet) stays last.
        let merged = ((own?.lines ?? []) + gateway.lines).enumerated().sorted { a, b in
            let (x, y) = (a.element.time.isEmpty ? "~" : a.element.time, b.element.time.isEmpty ? "~" : b.element.time)
            return x == y ? a.offset < b.offset : x < y
        }
        return (merged.map(\.element), (own?.dropped ?? 0) + gateway.dropped)
    }

    /// Adds the gateway's line about a call it answered for `id` (method, path, status, time taken, or why it refused).
    public func noteGatewayCall(_ id: String, _ text: @escaping @Sendable () -> String) {
        let buffer = gatewayLogs.withLock { logs in
            if let buffer = logs[id] { return buffer }
            let buffer = LogBuffer(capacity: 500)
            logs[id] = buffer
            return buffer
        }
        buffer.add(stream: "gateway", at: clock.now(), text)
    }

    /// Restarts, after a restart of the mock, every container and function that was ready or deploying; those the
    /// supervisor already runs (deployed by the seed in this run) are left alone.
    public func restoreAfterRestart() async {
        await supervisor.sweepLeftovers()
        await engine?.sweepLeftovers()
        guard settings.enabled, let apps = try? database.deployedApplications() else { return }
        for app in apps where !(await supervisor.isManaged(app.rawValue)) {
            if let engine, await engine.isManaged(app.rawValue) { continue }
            await deploy(app)
        }
    }

    private func launch(id: String, namespace ns: Namespace, privacy: Privacy, environment: [String: String], secrets: [String: String],
                        command: [String], workingDirectory: String? = nil, httpProbePath: String? = nil, minScaleZero: Bool = false) async {
        guard let env = await platformEnvironment(id: id, namespace: ns, privacy: privacy, environment: environment, secrets: secrets) else { return }
        var spec = WorkloadSpec(id: id, command: command, environment: env, workingDirectory: workingDirectory,
                                readyTimeoutSeconds: settings.readyTimeoutSeconds, httpProbePath: httpProbePath)
        spec.idleStopSeconds = minScaleZero ? settings.scaleToZeroSeconds : nil
        await supervisor.deploy(spec)
    }

    /// Runs a container's image through the engine: the fixtures' `engine_image` for its image if one matches, else
    /// the image itself; `command` replaces the image's ENTRYPOINT and `args` its CMD, as on Scaleway.
    private func deployImage(_ container: Container, in ns: Namespace, engine: EngineSupervisor) async {
        let id = container.id.rawValue
        let spec = container.spec
        let mapping = mappings.withLock { $0.images.first { $0.engineImage != nil && $0.matches(spec.image) } }
        let variables = (mapping?.environment ?? [:]).merging(spec.environmentVariables) { _, new in new }
        // A container has its image's own PATH, HOME and locale: none of the host's are passed.
        guard let env = await platformEnvironment(id: id, namespace: ns, privacy: spec.privacy, environment: variables,
                                                  secrets: container.secretValues, hostVariables: []) else { return }
        var workload = EngineWorkload(
            id: id, image: mapping?.engineImage ?? spec.image, entrypoint: spec.command.isEmpty ? nil : spec.command,
            cmd: spec.command.isEmpty && spec.args.isEmpty ? nil : spec.args, environment: env, declaredPort: spec.port,
            memoryBytes: spec.memoryLimitBytes, nanoCPUs: Int64(spec.mvcpuLimit) * 1_000_000,
            labels: [EngineIdentity.namespaceLabel: ns.id.rawValue, EngineIdentity.applicationLabel: id],
            readyTimeoutSeconds: settings.readyTimeoutSeconds, httpProbePath: container.httpProbePath)
        workload.idleStopSeconds = spec.minScale == 0 ? settings.scaleToZeroSeconds : nil
        await engine.deploy(workload)
    }

    /// The environment the platform gives a workload, process or container alike: `hostVariables` of the mock's own,
    /// the namespace's variables, then the application's (which win), then secrets; then what the platform injects.
    /// Nil (and the deploy recorded as failed) when the namespace's key cannot be had.
    private func platformEnvironment(id: String, namespace ns: Namespace, privacy: Privacy, environment: [String: String], secrets: [String: String],
                                     hostVariables: [String] = ["PATH", "HOME", "LANG", "TMPDIR"]) async -> [String: String]? {
        guard let key = try? await keys.key(for: ns.id) else {
            await record(id, .failed("An internal error occurred while deploying: the namespace key is not ready"))
            return nil
        }
        var env: [String: String] = [:]
        let host = ProcessInfo.processInfo.environment
        for name in hostVariables { env[name] = host[name] }
        env.merge(ns.environmentVariables) { _, new in new }
        env.merge(ns.secretValues) { _, new in new }
        env.merge(environment) { _, new in new }
        env.merge(secrets) { _, new in new }
        env["SCW_PUBLIC"] = privacy == .public ? "true" : "false"
        env["SCW_PUBLIC_KEY"] = key.publicKey.pkcs1PEM
        env["SCW_NAMESPACE_ID"] = ns.id.rawValue
        env["SCW_APPLICATION_ID"] = id
        // Not a Scaleway variable: tells the sample app whether the gateway already checked the token.
        env["SCW_MOCK_PRIVATE_AUTH"] = settings.privateAuth.rawValue
        return env
    }

    /// Unpacks a function's zip archive into a fresh private folder (0700) of the workspace, within Scaleway's limits
    /// (`CodeUnpacker`); on a refusal the partial folder is removed and the reason returned.
    func unpack(_ archive: Data, for id: String) -> Result<URL, CodeUnpacker.Refusal> {
        let dir: URL
        do { dir = try workspace.makeFolder("code-\(id)") } catch {
            return .failure(.init(message: "the uploaded archive could not be unpacked: no private folder could be created"))
        }
        do throws(CodeUnpacker.Refusal) {
            try unpacker.unpack(archive, into: dir)
            return .success(dir)
        } catch {
            try? FileManager.default.removeItem(at: dir)
            return .failure(error)
        }
    }

    /// The status change a process outcome makes.
    static func applyEvent(_ event: WorkloadEvent, now: Timestamp, _ phase: inout ApplicationPhase, _ message: inout String?,
                           _ readyAt: inout Timestamp?, _ updatedAt: inout Timestamp, _ settlesAt: inout Timestamp) {
        switch event {
        case .ready:
            guard phase.isDeploying || phase == .error || phase == .ready else { return }
            phase = ApplicationLifecycle.apply(.deploySucceeded, to: phase.isDeploying ? phase : .updating).phase
            message = nil
            readyAt = now
        case .failed(let why):
            phase = ApplicationLifecycle.apply(.deployFailed, to: phase.isDeploying ? phase : .updating).phase
            message = why
        }
        updatedAt = now
        settlesAt = now
    }

    /// Writes a process's outcome to its container or function.
    func record(_ id: String, _ event: WorkloadEvent) async {
        if let app = (try? database.application(id: id)) as? any RunnableApplication {
            record(app, event)
        }
        logger.info("workload \(event)", metadata: ["application_id": "\(id)"])
    }

    private func record<A: RunnableApplication>(_ app: A, _ event: WorkloadEvent) {
        let now = clock.now()
        _ = try? database.updateApplication(A.self, id: app.id) { app, _ in
            var message = app.errorMessage
            var final = event
            if case .failed(let why) = event { final = .failed(app.failureMessage(why)) }
            var (phase, readyAt, updatedAt, settlesAt) = (app.phase, app.readyAt, app.updatedAt, app.settlesAt)
            Self.applyEvent(final, now: now, &phase, &message, &readyAt, &updatedAt, &settlesAt)
            (app.phase, app.readyAt, app.updatedAt, app.settlesAt, app.errorMessage) = (phase, readyAt, updatedAt, settlesAt, message)
        }
    }
}
