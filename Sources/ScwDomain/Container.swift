/// Tag for container ids.
public enum ContainerTag {}
/// Id of a container.
public typealias ContainerID = Identifier<ContainerTag>

/// `public` or `private` (private containers need a token or an allowed API key at the gateway).
public enum Privacy: String, Sendable, Codable, CaseIterable { case `public`, `private` }
/// The protocol the container speaks behind the gateway.
public enum ContainerProtocol: String, Sendable, Codable, CaseIterable { case http1, h2c }
/// Scaleway's sandbox generation.
public enum Sandbox: String, Sendable, Codable, CaseIterable { case v1, v2 }

/// How the platform scales a container: exactly one threshold.
public enum ScalingOption: Sendable, Equatable, Codable {
    case concurrentRequests(Int)
    case cpuUsage(Int)
    case memoryUsage(Int)
}

/// A health check: v1beta1 `health_check`, v1 `liveness_probe` / `startup_probe`.
public struct Probe: Sendable, Equatable, Codable {
    /// HTTP GET on a path, or a TCP connect.
    public enum Check: Sendable, Equatable, Codable {
        case http(path: String)
        case tcp
    }
    public var failureThreshold: Int
    public var intervalSeconds: Int
    /// v1 only; v1beta1 does not show it (default 1 s).
    public var timeoutSeconds: Int
    public var check: Check

    /// Creates a probe.
    public init(failureThreshold: Int, intervalSeconds: Int, timeoutSeconds: Int, check: Check) {
        self.failureThreshold = failureThreshold
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.check = check
    }

    /// The recorded default: `{"failure_threshold":30,"interval":"10s","timeout":"1s","tcp":{}}`.
    public static let defaultLiveness = Probe(failureThreshold: 30, intervalSeconds: 10, timeoutSeconds: 1, check: .tcp)
}

/// Everything a client configures on a container, in one version-neutral shape (v1's units: bytes and mvCPU).
public struct ContainerSpec: Sendable, Equatable, Codable {
    public var description: String
    public var environmentVariables: [String: String]
    public var minScale: Int
    public var maxScale: Int
    public var memoryLimitBytes: Int64
    public var mvcpuLimit: Int
    public var timeoutSeconds: Int
    public var privacy: Privacy
    public var image: String
    public var maxConcurrency: Int
    public var `protocol`: ContainerProtocol
    public var port: Int
    /// v1 `https_connections_only`; v1beta1 `http_option` `redirected` (true) / `enabled` (false).
    public var httpsOnly: Bool
    public var sandbox: Sandbox
    public var localStorageLimitBytes: Int64
    public var scalingOption: ScalingOption
    public var livenessProbe: Probe
    public var startupProbe: Probe?
    public var tags: [String]
    public var privateNetworkID: String?
    public var command: [String]
    public var args: [String]

    /// The server-side defaults recorded in 2025-26, for a container named `name` in `namespace`.
    public static func defaults(name: String, namespace: Namespace) -> ContainerSpec {
        ContainerSpec(
            description: "", environmentVariables: [:], minScale: 0, maxScale: 5, memoryLimitBytes: 2_048_000_000, mvcpuLimit: 1000,
            timeoutSeconds: 300, privacy: .public, image: "\(namespace.registryEndpoint)/\(name):latest", maxConcurrency: 50,
            protocol: .http1, port: 8080, httpsOnly: false, sandbox: .v2, localStorageLimitBytes: 1_000_000_000,
            scalingOption: .concurrentRequests(50), livenessProbe: .defaultLiveness, startupProbe: nil, tags: [],
            privateNetworkID: nil, command: [], args: [])
    }
}

/// The lifecycle phase of a container or function ("application"); each API renders it in its own words
///.
public enum ApplicationPhase: String, Sendable, Codable, CaseIterable {
    /// v1beta1 only: created without a deploy.
    case created
    /// First deploy in progress (v1 `creating`, v1beta1 `pending`).
    case creating
    /// Later deploy in progress (v1 `updating`, v1beta1 `pending`).
    case updating
    case ready, error, deleting

    /// Whether a deploy is under way (writes that need a settled container answer 409 `transient_state`).
    public var isDeploying: Bool { self == .creating || self == .updating }
}

/// A serverless container: the fields every application has (`core`), and its settings.
public struct Container: Sendable, Equatable {
    public var id: ContainerID
    public var core: ApplicationCore
    public var spec: ContainerSpec

    /// Creates a container value.
    public init(id: ContainerID, core: ApplicationCore, spec: ContainerSpec) {
        self.id = id
        self.core = core
        self.spec = spec
    }

    /// `https://` + the domain name: v1's `public_endpoint`.
    public var publicEndpoint: String { "https://\(domainName)" }
}

extension ContainerSpec: ApplicationSpec {}
extension ContainerPatch: ApplicationPatch {}

extension Container: Application {
    public static var kind: ResourceKind { .container }
    public static var namespaceKind: NamespaceKind { .container }
    public static func ref(_ id: ContainerID) -> ApplicationRef { .container(id) }

    /// A container's deploy succeeds until its process says otherwise.
    public var deployOutcome: String? { nil }

    public static func defaults(name: String, namespace: Namespace, patch: ContainerPatch) -> ContainerSpec {
        .defaults(name: name, namespace: namespace)
    }

    public static func problems(_ spec: ContainerSpec, in namespace: Namespace) -> [ArgumentProblem] {
        ContainerRules.problems(spec, in: namespace)
    }

    /// The default image is made from the name: a bad name is reported once, as the name's problem.
    public static func createProblems(name: String, patch: ContainerPatch, spec: ContainerSpec, in namespace: Namespace) -> [ArgumentProblem] {
        let nameProblems = ContainerRules.nameProblem(name).map { [$0] } ?? []
        var specProblems = ContainerRules.problems(spec, in: namespace)
        if !nameProblems.isEmpty, patch.image == nil { specProblems.removeAll { $0.argumentName == "image" } }
        return nameProblems + specProblems
    }

    /// v1 always deploys at create; v1beta1 when an image is given.
    public static func creationEvent(deploy: Bool) -> ApplicationLifecycle.Event { deploy ? .createdAndDeployed : .createdOnly }
}

/// The container and function status machine as a value: v1beta1 created → pending → ready/error,
/// every PATCH and deploy back to pending; v1 creating/updating → ready/error; deleting → gone.
public enum ApplicationLifecycle {
    /// Things that happen to a container.
    public enum Event: Sendable, CaseIterable {
        /// Created and deployed at once (v1 always; v1beta1 when an image is given).
        case createdAndDeployed
        /// Created without a deploy (v1beta1 without an image).
        case createdOnly
        /// `deploy` (v1beta1) or `redeploy` (v1).
        case deployRequested
        /// Any container PATCH: it redeploys (v1beta1: every PATCH redeploys → `pending`; v1: PATCH → `updating`), even of
        /// description or tags only, restarting a deploy in progress.
        case configurationChanged
        /// A change that leaves the status alone (not used by containers: every PATCH redeploys them).
        case metadataChanged
        case deploySucceeded
        case deployFailed
        case deleteRequested
    }

    /// Work the service must do after a transition.
    public enum Effect: Sendable, Equatable {
        case scheduleSettlement
        case purge
    }

    /// The outcome of one event; `refused` means a 409 `transient_state`.
    public struct Transition: Sendable, Equatable {
        public var phase: ApplicationPhase
        public var effects: [Effect]
        public var refused: Bool

        /// Creates a transition.
        public init(phase: ApplicationPhase, effects: [Effect] = [], refused: Bool = false) {
            self.phase = phase
            self.effects = effects
            self.refused = refused
        }
    }

    /// Applies `event` to a container in `phase` (ignored for the two creation events).
    public static func apply(_ event: Event, to phase: ApplicationPhase) -> Transition {
        switch (event, phase) {
        case (.createdAndDeployed, _): return Transition(phase: .creating, effects: [.scheduleSettlement])
        case (.createdOnly, _): return Transition(phase: .created)
        case (.deployRequested, .created): return Transition(phase: .creating, effects: [.scheduleSettlement])
        case (.deployRequested, .ready), (.deployRequested, .error): return Transition(phase: .updating, effects: [.scheduleSettlement])
        // A deploy while one is running is refused (migration guide: deploy right after update can return transient_state).
        case (.deployRequested, .creating), (.deployRequested, .updating), (.deployRequested, .deleting):
            return Transition(phase: phase, refused: true)
        case (.configurationChanged, .created), (.configurationChanged, .creating):
            return Transition(phase: .creating, effects: [.scheduleSettlement])
        case (.configurationChanged, .ready), (.configurationChanged, .error), (.configurationChanged, .updating):
            return Transition(phase: .updating, effects: [.scheduleSettlement])
        case (.configurationChanged, .deleting): return Transition(phase: .deleting, refused: true)
        case (.metadataChanged, let p): return Transition(phase: p)
        case (.deploySucceeded, .creating), (.deploySucceeded, .updating): return Transition(phase: .ready)
        case (.deployFailed, .creating), (.deployFailed, .updating): return Transition(phase: .error)
        case (.deploySucceeded, let p), (.deployFailed, let p): return Transition(phase: p)
        case (.deleteRequested, _): return Transition(phase: .deleting, effects: [.purge])
        }
    }
}
