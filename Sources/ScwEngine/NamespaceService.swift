import ScwDomain
import ScwKeys
import ScwStore

/// Use cases on container and function namespaces. Version-neutral: each API translates its wire shape into
/// `NamespaceDraft` / `NamespaceChange` and renders the returned `Namespace` in its own vocabulary.
public struct NamespaceService: Sendable {
    let database: AppDatabase
    let clock: any WallClock
    let ids: any IDSource
    /// The engine's settings (fixture trial runs reuse its quotas and hash cost).
    public let settings: EngineSettings
    let keys: KeyRing
    let runtime: RuntimeCoordinator?

    /// Creates the service.
    public init(database: AppDatabase, clock: any WallClock, ids: any IDSource, settings: EngineSettings, keys: KeyRing,
                runtime: RuntimeCoordinator? = nil) {
        self.database = database
        self.clock = clock
        self.ids = ids
        self.settings = settings
        self.keys = keys
        self.runtime = runtime
    }

    /// Creates a namespace in `region` for the principal (in `draft.projectID`, else the key's default project).
    /// Its RSA key comes from the pool when one is ready (else the forge makes one and the namespace stays
    /// `creating`/`pending` until then); seeds may fix the id and give the key.
    ///
    /// `keyOnFirstUse` (fixtures): without a given key, no key is taken or queued now; the namespace settles as if keyed
    /// and its key is made the first time one is needed (a token, the public key, the gateway, a launch; see
    /// `KeyRing.key(for:)`). A fixture of 20,000 namespaces thus costs no RSA generation at start (reliability catalog C13).
    public func create(kind: NamespaceKind, region: Region, draft: NamespaceDraft, by principal: Principal,
                       fixedID: NamespaceID? = nil, key providedKey: ScwKeys.NamespaceKey? = nil,
                       keyOnFirstUse: Bool = false) async throws(ScwError) -> Namespace {
        let projectID = draft.projectID ?? principal.defaultProjectID
        guard let project = try database.project(id: projectID),
              principal.may(access: project.id, of: project.organizationID)
        else { throw .permissionsDenied([PermissionDetail(action: "write", resource: "namespace")]) }

        let name = draft.name ?? ids.nextName(prefix: kind.generatedNamePrefix)
        var problems: [ArgumentProblem] = []
        if let p = NamespaceRules.nameProblem(name) { problems.append(p) }
        problems += NamespaceRules.metadataProblems(description: draft.description, tags: draft.tags)
        problems += NamespaceRules.environmentProblems(draft.environmentVariables)
        problems += NamespaceRules.secretProblems(draft.secrets.map { ($0.key, $0.value) })
        if !problems.isEmpty { throw .invalidArguments(problems) }
        // Refuse a taken name before the slow hashing (the insert checks again inside its transaction).
        if fixedID == nil, try database.namespace(named: name, kind: kind, region: region, project: project.id) != nil {
            throw .alreadyExists(.namespace, name: name)
        }

        let change = SecretChange.merge(draft.secrets.map { ($0.key, Optional($0.value)) })
        let hashed = SecretsUpdate.apply(change, to: [], fresh: await SecretsUpdate.hash(change, profile: draft.hashProfile, cost: settings.secretHashCost, ids: ids))

        let now = clock.now()
        let id: NamespaceID = fixedID ?? ids.make()
        let suffix = kind.endpointSuffixFromID ? String(id.rawValue.prefix(8)) : ids.nextSuffix()
        let transition = ResourceLifecycle.apply(.created, to: .creating)
        var namespace = Namespace(
            id: id, kind: kind, name: name, projectID: project.id, organizationID: project.organizationID,
            region: region, description: draft.description ?? "", phase: transition.phase,
            settlesAt: settlement(from: now, transition), environmentVariables: draft.environmentVariables,
            secrets: hashed, tags: draft.tags, registryNamespaceID: ids.make(), endpointSuffix: suffix,
            vpcIntegrationActivated: draft.activateVPCIntegration, errorMessage: nil, createdAt: now, updatedAt: now,
            keyReady: false)
        namespace.secretValues = SecretsUpdate.applyPlain(change, to: [:])
        let forge = keys.forge
        let source: KeySource? = providedKey.map { .provided(pem: $0.privatePEM, bits: $0.publicKey.bits) }
            ?? ids.nextKeyIndex().flatMap(forge.fixedKey)  // --deterministic-ids: the fixed keys in turn
            ?? (keyOnFirstUse ? nil : .pool(bits: forge.bits))
        // In the store, "ready" then means "not waiting for the forge": the key row comes on first use.
        if source == nil { namespace.keyReady = true }
        try settings.quotas.checkNamespace(kind: kind, region: region, project: project.id, organization: project.organizationID, in: database)
        let stored = try database.createNamespace(namespace, key: source)
        // Refill the pool, or make this namespace's key.
        if source != nil { await forge.kick() }
        return stored
    }

    /// A namespace of `kind` in `region`, as its reader sees it now.
    public func get(_ id: NamespaceID, kind: NamespaceKind, region: Region, by principal: Principal) throws(ScwError) -> Namespace {
        let now = clock.now()
        guard let ns = try database.namespace(id: id) ?? settings.deletions.value(Namespace.self, kind: .namespace, id: id.rawValue, now: now),
              ns.kind == kind, ns.region == region else {
            throw .notFound(.namespace, id: id.rawValue)
        }
        try authorize(principal, ns, action: "read")
        return ns.observed(at: now)
    }

    /// One page of the namespaces the principal may see, filtered as asked.
    public func list(kind: NamespaceKind, region: Region, name: String?, projectID: ProjectID?,
                     organizationID: OrganizationID?, page: PageRequest, by principal: Principal) throws(ScwError) -> Page<Namespace> {
        let projects = try principal.listScope(projectID: projectID, organizationID: organizationID, resource: "namespace")
        let query = NamespaceQuery(kind: kind, region: region, nameContains: name, projectIDs: projects,
                                   organizationID: principal.organizationID, page: page)
        var result = try database.namespaces(matching: query)
        let now = clock.now()
        result.items = result.items.map { $0.observed(at: now) }
        return result
    }

    /// Applies a change; env or secret changes move the namespace to `updating` until it settles.
    public func update(_ id: NamespaceID, kind: NamespaceKind, region: Region, change: NamespaceChange,
                       by principal: Principal) async throws(ScwError) -> Namespace {
        var problems = NamespaceRules.metadataProblems(description: change.description, tags: change.tags)
        if let env = change.environmentVariables { problems += NamespaceRules.environmentProblems(env) }
        problems += SecretsUpdate.problems(change.secrets)
        if !problems.isEmpty { throw .invalidArguments(problems) }
        // 404/403 before the slow hashing (checked again in the transaction).
        guard let existing = try database.namespace(id: id), existing.kind == kind, existing.region == region else {
            throw .notFound(.namespace, id: id.rawValue)
        }
        try authorize(principal, existing, action: "write")

        let fresh = await SecretsUpdate.hash(change.secrets, profile: change.hashProfile, cost: settings.secretHashCost, ids: ids)

        let now = clock.now()
        let delay = settings.transitionDelayNanoseconds
        let principalCopy = principal
        let updated = try database.updateNamespace(id: id) { ns in
            guard ns.kind == kind, ns.region == region else { throw ScwError.notFound(.namespace, id: id.rawValue) }
            try Self.authorize(principalCopy, ns, action: "write")
            ns = ns.observed(at: now)
            if let description = change.description { ns.description = description }
            if let tags = change.tags { ns.tags = tags }
            if let env = change.environmentVariables { ns.environmentVariables = env }
            ns.secrets = SecretsUpdate.apply(change.secrets, to: ns.secrets, fresh: fresh)
            ns.secretValues = SecretsUpdate.applyPlain(change.secrets, to: ns.secretValues)
            // A merge can go past the limits each request keeps to (throwing rolls the transaction back).
            let secretProblems = SecretsUpdate.resultProblems(change.secrets, ns.secrets, plain: ns.secretValues)
            if !secretProblems.isEmpty { throw ScwError.invalidArguments(secretProblems) }
            let runtimeChange: Bool
            if case .unchanged = change.secrets { runtimeChange = change.environmentVariables != nil } else { runtimeChange = true }
            let transition = ResourceLifecycle.apply(runtimeChange ? .configurationChanged : .metadataChanged, to: ns.phase)
            ns.phase = transition.phase
            if transition.effects.contains(.scheduleSettlement) { ns.settlesAt = now.adding(nanoseconds: delay) }
            ns.updatedAt = now
        }
        guard let updated else { throw .notFound(.namespace, id: id.rawValue) }
        return updated
    }

    /// Deletes a namespace and everything in it; returns it as it was, in `deleting`.
    public func delete(_ id: NamespaceID, kind: NamespaceKind, region: Region, by principal: Principal) async throws(ScwError) -> Namespace {
        let principalCopy = principal
        let applications = (try? database.applicationIDs(inNamespace: id)) ?? []
        guard let deleted = try database.deleteNamespace(id: id, { ns in
            guard ns.kind == kind, ns.region == region else { throw ScwError.notFound(.namespace, id: id.rawValue) }
            try Self.authorize(principalCopy, ns, action: "write")
        }) else { throw .notFound(.namespace, id: id.rawValue) }
        keys.forget(id)
        for app in applications { await runtime?.stop(app) }
        let now = clock.now()
        var shown = deleted.observed(at: now)
        shown.phase = ResourceLifecycle.apply(.deleteRequested, to: shown.phase).phase
        settings.deletions.keep(shown, kind: .namespace, id: id.rawValue, now: now, until: settings.deletionEnds(now))
        return shown
    }

    private func settlement(from now: Timestamp, _ transition: ResourceLifecycle.Transition) -> Timestamp {
        transition.effects.contains(.scheduleSettlement) ? now.adding(nanoseconds: settings.transitionDelayNanoseconds) : now
    }

    private func authorize(_ principal: Principal, _ ns: Namespace, action: String) throws(ScwError) {
        try Self.authorize(principal, ns, action: action)
    }

    static func authorize(_ principal: Principal, _ ns: Namespace, action: String) throws(ScwError) {
        guard principal.may(access: ns.projectID, of: ns.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: action, resource: "namespace")])
        }
    }
}
