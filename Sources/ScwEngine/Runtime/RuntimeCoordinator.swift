import Foundation
import Logging
import ScwDomain
import ScwKeys
import ScwStore

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

    /// Creates settings.
    public init(enabled: Bool, sampleAppCommand: [String], readyTimeoutSeconds: Double = 30, privateAuth: PrivateAuthMode = .edge) {
        self.enabled = enabled
        self.sampleAppCommand = sampleAppCommand
        self.readyTimeoutSeconds = readyTimeoutSeconds
        self.privateAuth = privateAuth
    }
}

/// Ties deployed containers and functions to processes: builds the environment the platform injects
/// (spec section 13), starts the process through the supervisor, and writes `ready` / `error` back to the store.
public final class RuntimeCoordinator: Sendable {
    let database: AppDatabase
    let keys: KeyRing
    let clock: any WallClock
    public let settings: RuntimeSettings
    let logger: Logger
    private let box = SupervisorBox()

    final class SupervisorBox: @unchecked Sendable { var supervisor: ProcessSupervisor? }

    /// Creates the coordinator and its supervisor.
    public init(database: AppDatabase, keys: KeyRing, clock: any WallClock, settings: RuntimeSettings, logger: Logger) {
        self.database = database
        self.keys = keys
        self.clock = clock
        self.settings = settings
        self.logger = logger
        let clockCopy = clock
        box.supervisor = ProcessSupervisor(logger: logger, now: { clockCopy.now().rfc3339(fractionDigits: 6) }) { [weak self] id, event in
            await self?.record(id, event)
        }
    }

    var supervisor: ProcessSupervisor { box.supervisor! }

    /// A deploy's settlement instant when the runtime decides it (never by time).
    public static let settledByRuntime = Timestamp(nanoseconds: Int64.max)

    /// Starts (or restarts) the process of a container.
    public func deploy(container id: ContainerID) async {
        guard settings.enabled, let c = try? database.container(id: id), let ns = try? database.namespace(id: c.namespaceID) else { return }
        let command = c.spec.command.isEmpty ? settings.sampleAppCommand : c.spec.command + c.spec.args
        var probe: String?
        if case .http(let path) = (c.spec.startupProbe ?? c.spec.livenessProbe).check { probe = path }
        await launch(id: id.rawValue, namespace: ns, privacy: c.spec.privacy, environment: c.spec.environmentVariables,
                     secrets: c.secretValues, command: command, httpProbePath: probe)
    }

    /// Starts (or restarts) the process of a function (the sample app, until fixtures map runtimes to commands).
    public func deploy(function id: FunctionID) async {
        guard settings.enabled, let f = try? database.function(id: id), let ns = try? database.namespace(id: f.namespaceID) else { return }
        guard f.hasCode else {
            await record(id.rawValue, .failed(Function.noCodeMessage))
            return
        }
        var env = f.spec.environmentVariables
        env["SCW_HANDLER"] = f.spec.handler
        env["SCW_RUNTIME"] = f.spec.runtime
        await launch(id: id.rawValue, namespace: ns, privacy: f.spec.privacy, environment: env, secrets: f.secretValues,
                     command: settings.sampleAppCommand)
    }

    /// Stops a container's or function's process.
    public func stop(_ id: String) async { await supervisor.stop(id) }

    /// Stops every process (shutdown).
    public func stopAll() async { await supervisor.stopAll() }

    /// Stops every process and forgets their logs' owners, keeping the runtime usable (reset).
    public func stopEveryWorkload() async { await supervisor.stopEveryWorkload() }

    /// The port of a ready process, waiting up to `timeout` seconds for one being started.
    public func port(of id: String, timeout: Double) async -> Int? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if let port = await supervisor.port(of: id) { return port }
            guard await supervisor.isManaged(id), ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Adds a line of the mock's own to an application's log.
    public func note(_ id: String, _ text: String) async { await supervisor.note(id, text) }

    /// The captured output of a container or function.
    public func logs(of id: String) async -> (lines: [LogLine], dropped: Int)? { await supervisor.logLines(of: id) }

    /// Restarts, after a restart of the mock, every container and function that was ready or deploying.
    public func restoreAfterRestart() async {
        guard settings.enabled, let apps = try? database.deployedApplications() else { return }
        for app in apps {
            switch app {
            case .container(let id): await deploy(container: id)
            case .function(let id): await deploy(function: id)
            }
        }
    }

    private func launch(id: String, namespace ns: Namespace, privacy: Privacy, environment: [String: String], secrets: [String: String],
                        command: [String], httpProbePath: String? = nil) async {
        guard let key = try? await keys.key(for: ns.id) else {
            await record(id, .failed("An internal error occurred while deploying: the namespace key is not ready"))
            return
        }
        // Namespace variables, then the application's (which win), then secrets; then what the platform injects.
        var env: [String: String] = [:]
        let host = ProcessInfo.processInfo.environment
        for name in ["PATH", "HOME", "LANG", "TMPDIR"] { env[name] = host[name] }
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
        await supervisor.deploy(WorkloadSpec(id: id, command: command, environment: env, workingDirectory: nil,
                                             readyTimeoutSeconds: settings.readyTimeoutSeconds, httpProbePath: httpProbePath))
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
        let now = clock.now()
        if let cid = ContainerID(id), let container = try? database.container(id: cid) {
            var event = event
            if case .failed(let why) = event {
                // Scaleway's own wording first (spec section 4d), then what the mock saw.
                var lead = "Container is unable to start OR is not listening on port \(container.spec.port)"
                if case .http(let path) = (container.spec.startupProbe ?? container.spec.livenessProbe).check {
                    lead = "Container is unable to start OR does not respond to HTTP requests on port \(container.spec.port) and path \(path)"
                }
                event = .failed("\(lead): \(why)")
            }
            let final = event
            _ = try? database.updateContainer(id: cid) { c, _ in
                var message = c.errorMessage
                Self.applyEvent(final, now: now, &c.phase, &message, &c.readyAt, &c.updatedAt, &c.settlesAt)
                c.errorMessage = message
            }
        } else if let fid = FunctionID(id), (try? database.function(id: fid)) != nil {
            _ = try? database.updateFunction(id: fid) { f, _ in
                var message = f.errorMessage
                Self.applyEvent(event, now: now, &f.phase, &message, &f.readyAt, &f.updatedAt, &f.settlesAt)
                f.errorMessage = message
            }
        }
        logger.info("workload \(event)", metadata: ["application_id": "\(id)"])
    }
}
