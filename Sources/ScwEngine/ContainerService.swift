import ScwDomain
import ScwStore

/// Use cases on containers, version-neutral (spec sections 3a, 3b, 4c, 4d, 9). Each API builds a `ContainerPatch`
/// from its wire shape and renders the returned `Container` in its own vocabulary.
public struct ContainerService: Sendable {
    let database: AppDatabase
    let clock: any WallClock
    let ids: any IDSource
    let settings: EngineSettings
    let runtime: RuntimeCoordinator?

    /// Creates the service; with a runtime, deploys settle when the container's process is ready (issue 6).
    public init(database: AppDatabase, clock: any WallClock, ids: any IDSource, settings: EngineSettings, runtime: RuntimeCoordinator? = nil) {
        self.database = database
        self.clock = clock
        self.ids = ids
        self.settings = settings
        self.runtime = runtime
    }

    /// When a deploy started `now` settles: when the runtime says so, else after the transition delay.
    func settlement(_ now: Timestamp) -> Timestamp {
        runtime?.settings.enabled == true ? RuntimeCoordinator.settledByRuntime : now.adding(nanoseconds: settings.transitionDelayNanoseconds)
    }

    /// Starts the container's process once the deploy is committed.
    func launch(_ c: Container) async {
        guard let runtime, c.phase.isDeploying else { return }
        await runtime.deploy(container: c.id)
    }

    /// Creates a container in a container namespace; `deploy` starts its first deploy at once. A `private_network_id` is
    /// accepted whatever the namespace's `vpc_integration_activated` (2026 recordings: the 2025 400 "vpc integration
    /// must be activated on its parent namespace" is no longer sent, by either API version or the functions API).
    public func create(namespaceID: NamespaceID, name: String, patch: ContainerPatch, deploy: Bool,
                       region: Region, by principal: Principal, fixedID: ContainerID? = nil) async throws(ScwError) -> Container {
        guard let ns = try database.namespace(id: namespaceID), ns.kind == .container, ns.region == region else {
            throw .notFound(.namespace, id: namespaceID.rawValue)
        }
        guard principal.may(access: ns.projectID, of: ns.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: "write", resource: "container")])
        }
        var problems = ContainerRules.nameProblem(name).map { [$0] } ?? []
        let spec = patch.applied(to: .defaults(name: name, namespace: ns), creating: true)
        var specProblems = ContainerRules.problems(spec, in: ns)
        // The default image is made from the name: a bad name is reported once, as the name's problem.
        if !problems.isEmpty, patch.image == nil { specProblems.removeAll { $0.argumentName == "image" } }
        problems += specProblems
        problems += SecretsUpdate.problems(patch.secrets)
        if !problems.isEmpty { throw .invalidArguments(problems) }
        // Refuse a taken name before the slow hashing (the insert checks again in its transaction).
        if try database.applicationID(named: name, in: ns.id) != nil { throw .alreadyExists(.container, name: name) }
        let secrets = SecretsUpdate.apply(patch.secrets, to: [], fresh: await SecretsUpdate.hash(patch.secrets, profile: patch.hashProfile, cost: settings.secretHashCost))
        let now = clock.now()
        let transition = ApplicationLifecycle.apply(deploy ? .createdAndDeployed : .createdOnly, to: .created)
        var container = Container(
            id: fixedID ?? ids.make(), namespaceID: ns.id, name: name, region: region, projectID: ns.projectID, organizationID: ns.organizationID,
            spec: spec, secrets: secrets, phase: transition.phase, settlesAt: settlement(now),
            errorMessage: nil, readyAt: nil, domainName: settings.domainName(prefix: ns.endpointPrefix, name: name, region: region),
            createdAt: now, updatedAt: now)
        container.secretValues = SecretsUpdate.applyPlain(patch.secrets, to: [:])
        try settings.quotas.checkContainer(region: region, organization: ns.organizationID, in: database)
        try database.createContainer(container)
        await launch(container)
        return container
    }

    /// A container in `region`, as its reader sees it now.
    public func get(_ id: ContainerID, region: Region, by principal: Principal) throws(ScwError) -> Container {
        guard let c = try database.container(id: id), c.region == region else { throw .notFound(.container, id: id.rawValue) }
        try Self.authorize(principal, c, action: "read")
        return c.observed(at: clock.now())
    }

    /// One page of the principal's containers.
    public func list(region: Region, namespaceID: NamespaceID?, name: String?, projectID: ProjectID?, organizationID: OrganizationID?,
                     page: PageRequest, by principal: Principal) throws(ScwError) -> Page<Container> {
        let projects = try principal.listScope(projectID: projectID, organizationID: organizationID, resource: "container")
        var result = try database.containers(matching: ContainerQuery(region: region, namespaceID: namespaceID, nameContains: name,
                                                                      projectIDs: projects, organizationID: principal.organizationID, page: page))
        let now = clock.now()
        result.items = result.items.map { $0.observed(at: now) }
        return result
    }

    /// Applies a PATCH: every PATCH redeploys the container, description- or tags-only ones too (spec sections 3a, 4d, 9).
    public func update(_ id: ContainerID, patch: ContainerPatch, region: Region,
                       by principal: Principal) async throws(ScwError) -> Container {
        let secretIssues = SecretsUpdate.problems(patch.secrets)
        if !secretIssues.isEmpty { throw .invalidArguments(secretIssues) }
        // 404/403 before the slow hashing (checked again in the transaction).
        guard let existing = try database.container(id: id), existing.region == region else { throw .notFound(.container, id: id.rawValue) }
        try Self.authorize(principal, existing, action: "write")
        let fresh = await SecretsUpdate.hash(patch.secrets, profile: patch.hashProfile, cost: settings.secretHashCost)
        let now = clock.now()
        let settles = settlement(now)
        let principalCopy = principal
        guard let updated = try database.updateContainer(id: id, { c, ns in
            guard c.region == region else { throw ScwError.notFound(.container, id: id.rawValue) }
            try Self.authorize(principalCopy, c, action: "write")
            c = c.observed(at: now)
            let spec = patch.applied(to: c.spec, creating: false)
            let problems = ContainerRules.problems(spec, in: ns)
            if !problems.isEmpty { throw ScwError.invalidArguments(problems) }
            let transition = ApplicationLifecycle.apply(.configurationChanged, to: c.phase)
            if transition.refused { throw ScwError.transientState(.container, id: id.rawValue, currentState: c.phase.rawValue) }
            let secrets = SecretsUpdate.apply(patch.secrets, to: c.secrets, fresh: fresh)
            let secretValues = SecretsUpdate.applyPlain(patch.secrets, to: c.secretValues)
            let secretProblems = SecretsUpdate.resultProblems(patch.secrets, secrets, plain: secretValues)
            if !secretProblems.isEmpty { throw ScwError.invalidArguments(secretProblems) }
            c.spec = spec
            c.secrets = secrets
            c.secretValues = secretValues
            c.phase = transition.phase
            if transition.effects.contains(.scheduleSettlement) { c.settlesAt = settles; c.errorMessage = nil }
            c.updatedAt = now
        }) else { throw .notFound(.container, id: id.rawValue) }
        await launch(updated)
        return updated
    }

    /// `deploy` (v1beta1) / `redeploy` (v1): 409 `transient_state` while a deploy is running.
    public func deploy(_ id: ContainerID, region: Region, by principal: Principal) async throws(ScwError) -> Container {
        let now = clock.now()
        let settles = settlement(now)
        let principalCopy = principal
        guard let updated = try database.updateContainer(id: id, { c, _ in
            guard c.region == region else { throw ScwError.notFound(.container, id: id.rawValue) }
            try Self.authorize(principalCopy, c, action: "write")
            c = c.observed(at: now)
            let transition = ApplicationLifecycle.apply(.deployRequested, to: c.phase)
            if transition.refused { throw ScwError.transientState(.container, id: id.rawValue, currentState: c.phase.rawValue) }
            c.phase = transition.phase
            c.settlesAt = settles
            c.errorMessage = nil
            c.updatedAt = now
        }) else { throw .notFound(.container, id: id.rawValue) }
        await launch(updated)
        return updated
    }

    /// Deletes a container and its tokens; returns it in `deleting`.
    public func delete(_ id: ContainerID, region: Region, by principal: Principal) async throws(ScwError) -> Container {
        let principalCopy = principal
        guard let deleted = try database.deleteContainer(id: id, { c in
            guard c.region == region else { throw ScwError.notFound(.container, id: id.rawValue) }
            try Self.authorize(principalCopy, c, action: "write")
        }) else { throw .notFound(.container, id: id.rawValue) }
        await runtime?.stop(id.rawValue)
        var shown = deleted.observed(at: clock.now())
        shown.phase = ApplicationLifecycle.apply(.deleteRequested, to: shown.phase).phase
        return shown
    }


    static func authorize(_ principal: Principal, _ c: Container, action: String) throws(ScwError) {
        guard principal.may(access: c.projectID, of: c.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: action, resource: "container")])
        }
    }
}
