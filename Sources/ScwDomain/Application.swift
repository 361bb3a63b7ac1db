/// What a serverless container and a serverless function share ("application" is Scaleway's own word for either, as in
/// `SCW_APPLICATION_ID`): a row of a namespace of its kind, its name unique there, one status machine
/// (`ApplicationLifecycle`), one generated domain, secrets hashed as the API shows them. The engine, the store, the
/// runtime and the gateway are written once against this protocol; each kind adds only what truly differs through the
/// hooks below.
public protocol Application: Sendable, Equatable {
    associatedtype Tag
    associatedtype Spec: ApplicationSpec
    associatedtype Patch: ApplicationPatch where Patch.Spec == Spec

    /// The kind named in error bodies (`Container was not found`) and permission details.
    static var kind: ResourceKind { get }
    /// The namespaces that hold this kind (a container namespace holds no function).
    static var namespaceKind: NamespaceKind { get }

    var id: Identifier<Tag> { get }
    /// The fields every application has.
    var core: ApplicationCore { get set }
    var spec: Spec { get set }

    /// Kind hook: the error a deploy starting now will end with, nil when it succeeds. A function without uploaded
    /// code ends in "internal error"; a container's deploy always succeeds until a process says otherwise.
    var deployOutcome: String? { get }

    /// An application value.
    init(id: Identifier<Tag>, core: ApplicationCore, spec: Spec)

    /// Kind hook: the settings a create starts from, before the request's patch (a function needs its runtime).
    static func defaults(name: String, namespace: Namespace, patch: Patch) throws(ScwError) -> Spec
    /// Kind hook: every problem with `spec` for an application of this kind in `namespace`.
    static func problems(_ spec: Spec, in namespace: Namespace) -> [ArgumentProblem]
    /// Kind hook: the problems of a create (the name, then the settings), as the kind words them.
    static func createProblems(name: String, patch: Patch, spec: Spec, in namespace: Namespace) -> [ArgumentProblem]
    /// Kind hook: the lifecycle event a create is (v1 and an image-given v1beta1 create deploy at once).
    static func creationEvent(deploy: Bool) -> ApplicationLifecycle.Event

    /// The reference the runtime, the gateway and the attachments use.
    static func ref(_ id: Identifier<Tag>) -> ApplicationRef
}

/// The settings both kinds have, under the same names.
public protocol ApplicationSpec: Sendable, Equatable, Codable {
    var description: String { get set }
    var environmentVariables: [String: String] { get set }
    var minScale: Int { get set }
    var maxScale: Int { get set }
    var privacy: Privacy { get set }
    var timeoutSeconds: Int { get set }
    /// v1 `https_connections_only`; v1beta1 `http_option` `redirected` (true) / `enabled` (false).
    var httpsOnly: Bool { get set }
    var sandbox: Sandbox { get set }
    var tags: [String] { get set }
    var privateNetworkID: String? { get set }
}

/// The limits both kinds keep to, in the order each kind's checks report them.
public enum ApplicationRules {
    /// 0 to 50 instances at least, 1 to 50 at most, the least not above the most.
    public static func scaleProblems(_ spec: some ApplicationSpec) -> [ArgumentProblem] {
        var p: [ArgumentProblem] = []
        if spec.minScale < 0 || spec.minScale > 50 { p.append(.init(argumentName: "min_scale", reason: .constraint, helpMessage: "min_scale must be between 0 and 50")) }
        if spec.maxScale < 1 || spec.maxScale > 50 { p.append(.init(argumentName: "max_scale", reason: .constraint, helpMessage: "max_scale must be between 1 and 50")) }
        if spec.minScale > spec.maxScale { p.append(.init(argumentName: "min_scale", reason: .constraint, helpMessage: "min_scale must not exceed max_scale")) }
        return p
    }

    /// Description and tags as on namespaces; variables as on namespaces, and at most 100 counting the namespace's.
    public static func metadataAndEnvironmentProblems(_ spec: some ApplicationSpec, in namespace: Namespace) -> [ArgumentProblem] {
        var p = NamespaceRules.metadataProblems(description: spec.description, tags: spec.tags)
        p += NamespaceRules.environmentProblems(spec.environmentVariables)
        if spec.environmentVariables.count + namespace.environmentVariables.count > NamespaceRules.maxVariables,
           spec.environmentVariables.count <= NamespaceRules.maxVariables {
            p.append(.init(argumentName: "environment_variables", reason: .constraint,
                           helpMessage: "at most \(NamespaceRules.maxVariables) environment variables are allowed, counting the namespace's"))
        }
        return p
    }

    /// A private network is named by its UUID.
    public static func networkProblems(_ spec: some ApplicationSpec) -> [ArgumentProblem] {
        guard let network = spec.privateNetworkID, Identifier<Never>(network) == nil else { return [] }
        return [.init(argumentName: "private_network_id", reason: .format, helpMessage: "private_network_id must be a UUID")]
    }
}

/// What a client asks to change on an application of one kind; nil fields are left alone.
public protocol ApplicationPatch: Sendable {
    associatedtype Spec: ApplicationSpec
    var description: String? { get }
    var environmentVariables: [String: String]? { get }
    var minScale: Int? { get }
    var maxScale: Int? { get }
    var privacy: Privacy? { get }
    var timeoutSeconds: Int? { get }
    var httpsOnly: Bool? { get }
    var sandbox: Sandbox? { get }
    var tags: [String]? { get }
    /// `""` detaches (v1 PATCH).
    var privateNetworkID: String? { get }
    var secrets: SecretChange { get }
    /// How new secrets are hashed: each API version shows its own Argon2id parameters.
    var hashProfile: SecretHashProfile { get }
    /// The patch applied to `spec`; `creating` is true on create (some derivations happen only then).
    func applied(to spec: Spec, creating: Bool) -> Spec
}

/// The fields a container and a function both have, stored and rendered alike.
public struct ApplicationCore: Sendable, Equatable {
    public var namespaceID: NamespaceID
    public var name: String
    public var region: Region
    public var projectID: ProjectID
    public var organizationID: OrganizationID
    public var secrets: [HashedSecret]
    /// Plain secret values, kept only to hand them to the launched process (never rendered by any API).
    public var secretValues: [String: String] = [:]
    public var phase: ApplicationPhase
    /// When the deploy in progress settles.
    public var settlesAt: Timestamp
    /// While deploying: the error the deploy will end with, decided when it started (nil: it succeeds).
    public var errorMessage: String?
    public var readyAt: Timestamp?
    /// The generated host, `<namespace prefix>-<name>.functions.fnc.<region>.scw.cloud` for both kinds.
    public var domainName: String
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    /// Creates the shared fields.
    public init(namespaceID: NamespaceID, name: String, region: Region, projectID: ProjectID, organizationID: OrganizationID,
                secrets: [HashedSecret], secretValues: [String: String] = [:], phase: ApplicationPhase, settlesAt: Timestamp,
                errorMessage: String?, readyAt: Timestamp?, domainName: String, createdAt: Timestamp, updatedAt: Timestamp) {
        self.namespaceID = namespaceID
        self.name = name
        self.region = region
        self.projectID = projectID
        self.organizationID = organizationID
        self.secrets = secrets
        self.secretValues = secretValues
        self.phase = phase
        self.settlesAt = settlesAt
        self.errorMessage = errorMessage
        self.readyAt = readyAt
        self.domainName = domainName
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension ApplicationPatch {
    /// The settings both kinds have, applied alike; each kind's `applied(to:creating:)` adds its own.
    public func appliedShared(to spec: Spec) -> Spec {
        var s = spec
        if let v = description { s.description = v }
        if let v = environmentVariables { s.environmentVariables = v }
        if let v = minScale { s.minScale = v }
        if let v = maxScale { s.maxScale = v }
        if let v = privacy { s.privacy = v }
        if let v = timeoutSeconds { s.timeoutSeconds = v }
        if let v = httpsOnly { s.httpsOnly = v }
        if let v = sandbox { s.sandbox = v }
        if let v = tags { s.tags = v }
        if let v = privateNetworkID { s.privateNetworkID = v.isEmpty ? nil : v }
        return s
    }
}

extension Application {
    /// An application value from its fields.
    public init(id: Identifier<Tag>, namespaceID: NamespaceID, name: String, region: Region, projectID: ProjectID,
                organizationID: OrganizationID, spec: Spec, secrets: [HashedSecret], phase: ApplicationPhase, settlesAt: Timestamp,
                errorMessage: String?, readyAt: Timestamp?, domainName: String, createdAt: Timestamp, updatedAt: Timestamp) {
        self.init(id: id, core: ApplicationCore(
            namespaceID: namespaceID, name: name, region: region, projectID: projectID, organizationID: organizationID, secrets: secrets,
            phase: phase, settlesAt: settlesAt, errorMessage: errorMessage, readyAt: readyAt, domainName: domainName,
            createdAt: createdAt, updatedAt: updatedAt), spec: spec)
    }

    public var namespaceID: NamespaceID { core.namespaceID }
    public var name: String { core.name }
    public var region: Region { core.region }
    public var projectID: ProjectID { core.projectID }
    public var organizationID: OrganizationID { core.organizationID }
    public var domainName: String { core.domainName }
    public var createdAt: Timestamp { core.createdAt }
    public var secrets: [HashedSecret] { get { core.secrets } set { core.secrets = newValue } }
    public var secretValues: [String: String] { get { core.secretValues } set { core.secretValues = newValue } }
    public var phase: ApplicationPhase { get { core.phase } set { core.phase = newValue } }
    public var settlesAt: Timestamp { get { core.settlesAt } set { core.settlesAt = newValue } }
    public var errorMessage: String? { get { core.errorMessage } set { core.errorMessage = newValue } }
    public var readyAt: Timestamp? { get { core.readyAt } set { core.readyAt = newValue } }
    public var updatedAt: Timestamp { get { core.updatedAt } set { core.updatedAt = newValue } }

    /// The reference to this application.
    public var ref: ApplicationRef { Self.ref(id) }

    /// The application as a reader sees it at `now`: a deploy whose time has come ends as decided when it started
    /// (`errorMessage`, else `deployOutcome`), and `ready_at` / `updated_at` move to the settlement instant.
    public func observed(at now: Timestamp) -> Self {
        guard phase.isDeploying, settlesAt <= now else { return self }
        var copy = self
        let failure = errorMessage ?? deployOutcome
        copy.phase = ApplicationLifecycle.apply(failure == nil ? .deploySucceeded : .deployFailed, to: phase).phase
        copy.errorMessage = failure
        if failure == nil { copy.readyAt = settlesAt }
        copy.updatedAt = max(updatedAt, settlesAt)
        return copy
    }

    /// By default a create is the name's problem and the settings' problems.
    public static func createProblems(name: String, patch: Patch, spec: Spec, in namespace: Namespace) -> [ArgumentProblem] {
        (ContainerRules.nameProblem(name, kind: kind).map { [$0] } ?? []) + problems(spec, in: namespace)
    }
}
