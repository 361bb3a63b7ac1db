import ScwDomain
import ScwStore
import Synchronization

/// Use cases on containers and functions, version-neutral and written once for both kinds: create, get, list,
/// update, deploy, delete. Each API builds its kind's patch from its wire shape and renders the returned value in its
/// own vocabulary; the kind's hooks (`Application`) supply defaults, rules and wording. Every lifecycle effect a
/// transition asks for is performed here: `scheduleSettlement` sets the settlement instant and the deploy's outcome and
/// starts the process, `purge` stops it.
public struct ApplicationService<A: StoredApplication>: Sendable {
    let database: AppDatabase
    let clock: any WallClock
    let ids: any IDSource
    let settings: EngineSettings
    let runtime: RuntimeCoordinator?
    /// Where uploads are received (the runtime's private folder when there is one): functions' code archives.
    let workspace: PrivateWorkspace
    /// The server's own address, the base of pre-signed URLs (functions' code upload and download).
    public let address = ServerAddress()

    /// Creates the service; with a runtime, deploys settle when the application's process is ready.
    public init(database: AppDatabase, clock: any WallClock, ids: any IDSource, settings: EngineSettings, runtime: RuntimeCoordinator? = nil) {
        self.database = database
        self.clock = clock
        self.ids = ids
        self.settings = settings
        self.runtime = runtime
        self.workspace = runtime?.workspace ?? PrivateWorkspace()
    }

    /// When a deploy started `now` settles: when the runtime says so, else after the transition delay.
    func settlement(_ now: Timestamp) -> Timestamp {
        runtime?.settings.enabled == true ? RuntimeCoordinator.settledByRuntime : now.adding(nanoseconds: settings.transitionDelayNanoseconds)
    }

    /// Applies a transition's phase and in-row effects to `app` (inside the write's transaction); a refused transition
    /// is a 409 `transient_state`. The effects outside the row are performed after the commit (`perform`).
    static func apply(_ transition: ApplicationLifecycle.Transition, to app: inout A, settles: Timestamp) throws(ScwError) {
        if transition.refused { throw .transientState(A.kind, id: app.id.rawValue, currentState: app.phase.rawValue) }
        app.phase = transition.phase
        if transition.effects.contains(.scheduleSettlement) {
            app.settlesAt = settles
            app.errorMessage = app.deployOutcome
        }
    }

    /// Performs the effects that come after the commit: starting or stopping the application's process.
    func perform(_ effects: [ApplicationLifecycle.Effect], on app: A) async {
        guard let runtime else { return }
        if effects.contains(.purge) {
            await runtime.stop(app.id.rawValue)
        } else if effects.contains(.scheduleSettlement) {
            await runtime.deploy(app.ref)
        }
    }

    /// Creates an application in a namespace of its kind; `deploy` asks for its first deploy at once (the kind decides
    /// whether a create deploys). A `private_network_id` is accepted whatever the namespace's `vpc_integration_activated`
    /// (2026 recordings: the 2025 400 "vpc integration must be activated on its parent namespace" is no longer sent, by
    /// either containers API version or the functions API).
    public func create(namespaceID: NamespaceID, name: String, patch: A.Patch, deploy: Bool = false, region: Region,
                       by principal: Principal, fixedID: Identifier<A.Tag>? = nil) async throws(ScwError) -> A {
        guard let ns = try database.namespace(id: namespaceID), ns.kind == A.namespaceKind, ns.region == region else {
            throw .notFound(.namespace, id: namespaceID.rawValue)
        }
        guard principal.may(access: ns.projectID, of: ns.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: "write", resource: A.kind.rawValue)])
        }
        let spec = patch.applied(to: try A.defaults(name: name, namespace: ns, patch: patch), creating: true)
        let problems = A.createProblems(name: name, patch: patch, spec: spec, in: ns) + SecretsUpdate.problems(patch.secrets)
        if !problems.isEmpty { throw .invalidArguments(problems) }
        // Refuse a taken name before the slow hashing (the insert checks again in its transaction).
        if try database.applicationID(named: name, in: ns.id) != nil { throw .alreadyExists(A.kind, name: name) }
        let hashed = await SecretsUpdate.hash(patch.secrets, profile: patch.hashProfile, cost: settings.secretHashCost, ids: ids)
        let now = clock.now()
        let transition = ApplicationLifecycle.apply(A.creationEvent(deploy: deploy), to: .created)
        var app = A(id: fixedID ?? ids.make(), namespaceID: ns.id, name: name, region: region, projectID: ns.projectID,
                    organizationID: ns.organizationID, spec: spec, secrets: SecretsUpdate.apply(patch.secrets, to: [], fresh: hashed),
                    phase: .created, settlesAt: now, errorMessage: nil, readyAt: nil,
                    domainName: settings.domainName(prefix: ns.endpointPrefix, name: name, region: region), createdAt: now, updatedAt: now)
        app.secretValues = SecretsUpdate.applyPlain(patch.secrets, to: [:])
        try Self.apply(transition, to: &app, settles: settlement(now))
        try settings.quotas.checkApplication(A.self, region: region, organization: ns.organizationID, in: database)
        try database.createApplication(app)
        await perform(transition.effects, on: app)
        return app
    }

    /// An application in `region`, as its reader sees it now.
    public func get(_ id: Identifier<A.Tag>, region: Region, by principal: Principal) throws(ScwError) -> A {
        let now = clock.now()
        guard let app = try database.application(A.self, id: id) ?? settings.deletions.value(A.self, kind: A.kind, id: id.rawValue, now: now),
              app.region == region else { throw .notFound(A.kind, id: id.rawValue) }
        try Self.authorize(principal, app, action: "read")
        return app.observed(at: now)
    }

    /// One page of the principal's applications of this kind.
    public func list(region: Region, namespaceID: NamespaceID?, name: String?, projectID: ProjectID?, organizationID: OrganizationID?,
                     page: PageRequest, by principal: Principal) throws(ScwError) -> Page<A> {
        let projects = try principal.listScope(projectID: projectID, organizationID: organizationID, resource: A.kind.rawValue)
        var result = try database.applications(A.self, matching: ApplicationQuery(
            region: region, namespaceID: namespaceID, nameContains: name, projectIDs: projects, organizationID: principal.organizationID, page: page))
        let now = clock.now()
        result.items = result.items.map { $0.observed(at: now) }
        return result
    }

    /// Applies a PATCH: every PATCH of a container or function redeploys it, description- or tags-only ones too
    /// (v1beta1 goes back to `pending`, v1 to `updating`; a never-deployed function goes pending, then error).
    public func update(_ id: Identifier<A.Tag>, patch: A.Patch, region: Region, by principal: Principal) async throws(ScwError) -> A {
        let secretIssues = SecretsUpdate.problems(patch.secrets)
        if !secretIssues.isEmpty { throw .invalidArguments(secretIssues) }
        // 404/403 before the slow hashing (checked again in the transaction).
        guard let existing = try database.application(A.self, id: id), existing.region == region else { throw .notFound(A.kind, id: id.rawValue) }
        try Self.authorize(principal, existing, action: "write")
        let fresh = await SecretsUpdate.hash(patch.secrets, profile: patch.hashProfile, cost: settings.secretHashCost, ids: ids)
        return try await transition(id, .configurationChanged, region: region, by: principal, check: { app, ns in
            let problems = A.problems(patch.applied(to: app.spec, creating: false), in: ns)
            if !problems.isEmpty { throw ScwError.invalidArguments(problems) }
        }, change: { app in
            let secrets = SecretsUpdate.apply(patch.secrets, to: app.secrets, fresh: fresh)
            let secretValues = SecretsUpdate.applyPlain(patch.secrets, to: app.secretValues)
            // A merge can go past the limits each request keeps to (throwing rolls the transaction back).
            let secretProblems = SecretsUpdate.resultProblems(patch.secrets, secrets, plain: secretValues)
            if !secretProblems.isEmpty { throw ScwError.invalidArguments(secretProblems) }
            app.spec = patch.applied(to: app.spec, creating: false)
            app.secrets = secrets
            app.secretValues = secretValues
        })
    }

    /// `deploy` (v1beta1) / `redeploy` (v1): 409 `transient_state` while a deploy is running.
    public func deploy(_ id: Identifier<A.Tag>, region: Region, by principal: Principal) async throws(ScwError) -> A {
        try await transition(id, .deployRequested, region: region, by: principal)
    }

    /// One lifecycle event on a stored application, in one transaction: the region and the caller's rights checked
    /// again, the pending deploy settled, `check` (the request's own rules), the transition (a refused one is a 409
    /// `transient_state`), `change`, the transition's in-row effects; the other effects once committed.
    private func transition(_ id: Identifier<A.Tag>, _ event: ApplicationLifecycle.Event, region: Region, by principal: Principal,
                            check: @escaping @Sendable (A, Namespace) throws -> Void = { _, _ in },
                            change: @escaping @Sendable (inout A) throws -> Void = { _ in }) async throws(ScwError) -> A {
        let now = clock.now()
        let settles = settlement(now)
        let effects = Mutex<[ApplicationLifecycle.Effect]>([])
        guard let updated = try database.updateApplication(A.self, id: id, { app, ns in
            guard app.region == region else { throw ScwError.notFound(A.kind, id: id.rawValue) }
            try Self.authorize(principal, app, action: "write")
            app = app.observed(at: now)
            try check(app, ns)
            let transition = ApplicationLifecycle.apply(event, to: app.phase)
            if transition.refused { throw ScwError.transientState(A.kind, id: id.rawValue, currentState: app.phase.rawValue) }
            effects.withLock { $0 = transition.effects }
            try change(&app)
            try Self.apply(transition, to: &app, settles: settles)
            app.updatedAt = now
        }) else { throw .notFound(A.kind, id: id.rawValue) }
        await perform(effects.withLock { $0 }, on: updated)
        return updated
    }

    /// Deletes an application, its tokens and what hangs off it; returns it in `deleting`.
    public func delete(_ id: Identifier<A.Tag>, region: Region, by principal: Principal) async throws(ScwError) -> A {
        let principalCopy = principal
        guard let deleted = try database.deleteApplication(A.self, id: id, { app in
            guard app.region == region else { throw ScwError.notFound(A.kind, id: id.rawValue) }
            try Self.authorize(principalCopy, app, action: "write")
        }) else { throw .notFound(A.kind, id: id.rawValue) }
        let now = clock.now()
        var shown = deleted.observed(at: now)
        let transition = ApplicationLifecycle.apply(.deleteRequested, to: shown.phase)
        shown.phase = transition.phase
        settings.deletions.keep(shown, kind: A.kind, id: id.rawValue, now: now, until: settings.deletionEnds(now))
        await perform(transition.effects, on: shown)
        return shown
    }

    static func authorize(_ principal: Principal, _ app: A, action: String) throws(ScwError) {
        guard principal.may(access: app.projectID, of: app.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: action, resource: A.kind.rawValue)])
        }
    }
}

/// Containers: everything is the shared core; what a container runs (its image, command and probes) is the runtime's
/// business (`RuntimeCoordinator`).
public typealias ContainerService = ApplicationService<Container>
