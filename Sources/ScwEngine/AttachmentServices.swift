import ScwDomain
import ScwStore

/// The container or function a cron, trigger or domain hangs off, resolved and authorised.
struct ResolvedApplication {
    var ref: ApplicationRef
    var namespaceID: NamespaceID
    var projectID: ProjectID
    var organizationID: OrganizationID
}

extension AppDatabase {
    /// Looks up a container or function in `region` for `principal` (404 in the API's words, 403 outside its projects).
    func resolve(_ ref: ApplicationRef, region: Region, principal: Principal, action: String, resource: String) throws(ScwError) -> ResolvedApplication {
        guard let found = try application(ref), found.region == region else {
            throw .notFound(ref.namespaceKind.applicationKind, id: ref.rawValue)
        }
        guard principal.may(access: found.projectID, of: found.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: action, resource: resource)])
        }
        return ResolvedApplication(ref: ref, namespaceID: found.namespaceID, projectID: found.projectID, organizationID: found.organizationID)
    }
}

/// Crons (v1beta1) and triggers (v1beta1 and v1) of containers and functions.
public struct TriggerService: Sendable {
    let database: AppDatabase
    let clock: any WallClock
    let ids: any IDSource
    let settings: EngineSettings

    /// Creates the service.
    public init(database: AppDatabase, clock: any WallClock, ids: any IDSource, settings: EngineSettings) {
        self.database = database
        self.clock = clock
        self.ids = ids
        self.settings = settings
    }

    /// What a create asks for.
    public struct Draft: Sendable {
        public var application: ApplicationRef
        /// nil: generated (`cron-<id>` for crons, as recorded).
        public var name: String?
        public var description: String
        public var tags: [String]
        public var source: TriggerSource
        public var httpPath: String
        public var httpMethod: String

        /// Creates a draft.
        public init(application: ApplicationRef, name: String?, description: String, tags: [String], source: TriggerSource,
                    httpPath: String = "/", httpMethod: String = "post") {
            self.application = application
            self.name = name
            self.description = description
            self.tags = tags
            self.source = source
            self.httpPath = httpPath
            self.httpMethod = httpMethod
        }
    }

    /// Creates a cron or trigger.
    public func create(_ draft: Draft, region: Region, by principal: Principal, fixedID: TriggerID? = nil) throws(ScwError) -> Trigger {
        let app = try database.resolve(draft.application, region: region, principal: principal, action: "write", resource: "trigger")
        let id: TriggerID = fixedID ?? ids.make()
        let now = clock.now()
        var scwCredential: String?
        if case .scwSQS = draft.source { scwCredential = ids.next().uuidString.lowercased() }
        if case .scwNATS = draft.source { scwCredential = ids.next().uuidString.lowercased() }
        let trigger = Trigger(
            id: id, region: region, namespaceID: app.namespaceID, application: draft.application, projectID: app.projectID,
            organizationID: app.organizationID, name: draft.name ?? "cron-\(id.rawValue)", description: draft.description, tags: draft.tags,
            source: draft.source, httpPath: draft.httpPath, httpMethod: draft.httpMethod,
            phase: ResourceLifecycle.apply(.created, to: .creating).phase, settlesAt: now.adding(nanoseconds: settings.transitionDelayNanoseconds),
            credentialID: scwCredential, createdAt: now, updatedAt: now)
        let problems = Self.problems(trigger)
        if !problems.isEmpty { throw .invalidArguments(problems) }
        try database.createTrigger(trigger)
        return trigger
    }

    /// A trigger as its reader sees it; `kind` picks what the route serves (crons, non-cron triggers, or any).
    public func get(_ id: TriggerID, cronsOnly: Bool?, product: NamespaceKind, region: Region, by principal: Principal) throws(ScwError) -> Trigger {
        let now = clock.now()
        guard let t = try database.trigger(id: id) ?? settings.deletions.value(Trigger.self, kind: .trigger, id: id.rawValue, now: now),
              Self.matches(t, cronsOnly: cronsOnly, product: product, region: region) else {
            throw .notFound(cronsOnly == true ? .cron : .trigger, id: id.rawValue)
        }
        guard principal.may(access: t.projectID, of: t.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: "read", resource: "trigger")])
        }
        return t.observed(at: now)
    }

    /// One page of triggers; `projectID` / `organizationID` are the list filters the SDKs send (403 outside the key's scope,
    /// as for container lists).
    public func list(_ query: AttachmentQuery, projectID: ProjectID? = nil, organizationID: OrganizationID? = nil,
                     by principal: Principal) throws(ScwError) -> Page<Trigger> {
        var q = query
        q.projectIDs = try principal.listScope(projectID: projectID, organizationID: organizationID, resource: "trigger")
        q.organizationID = principal.organizationID
        var page = try database.triggers(matching: q)
        let now = clock.now()
        page.items = page.items.map { $0.observed(at: now) }
        return page
    }

    /// Applies a version's PATCH semantics (`change`); a change of name, description or tags only stays `ready`, unless
    /// `redeploys` (v1beta1 crons go `pending` on every PATCH).
    public func update(_ id: TriggerID, cronsOnly: Bool?, product: NamespaceKind, region: Region, by principal: Principal, redeploys: Bool = false,
                       _ change: @escaping @Sendable (inout Trigger) throws -> Void) throws(ScwError) -> Trigger {
        let now = clock.now()
        let delay = settings.transitionDelayNanoseconds
        let principalCopy = principal
        guard let updated = try database.updateTrigger(id: id, { t in
            guard Self.matches(t, cronsOnly: cronsOnly, product: product, region: region) else {
                throw ScwError.notFound(cronsOnly == true ? .cron : .trigger, id: id.rawValue)
            }
            guard principalCopy.may(access: t.projectID, of: t.organizationID) else {
                throw ScwError.permissionsDenied([PermissionDetail(action: "write", resource: "trigger")])
            }
            t = t.observed(at: now)
            let before = t
            try change(&t)
            let problems = Self.problems(t)
            if !problems.isEmpty { throw ScwError.invalidArguments(problems) }
            let runtimeChange = redeploys || t.source != before.source || t.httpPath != before.httpPath || t.httpMethod != before.httpMethod
            let transition = ResourceLifecycle.apply(runtimeChange ? .configurationChanged : .metadataChanged, to: t.phase)
            t.phase = transition.phase
            if transition.effects.contains(.scheduleSettlement) { t.settlesAt = now.adding(nanoseconds: delay) }
            t.updatedAt = now
        }) else { throw .notFound(cronsOnly == true ? .cron : .trigger, id: id.rawValue) }
        return updated
    }

    /// Deletes a trigger; returns it in `deleting`.
    public func delete(_ id: TriggerID, cronsOnly: Bool?, product: NamespaceKind, region: Region, by principal: Principal) throws(ScwError) -> Trigger {
        let principalCopy = principal
        guard let deleted = try database.deleteTrigger(id: id, { t in
            guard Self.matches(t, cronsOnly: cronsOnly, product: product, region: region) else {
                throw ScwError.notFound(cronsOnly == true ? .cron : .trigger, id: id.rawValue)
            }
            guard principalCopy.may(access: t.projectID, of: t.organizationID) else {
                throw ScwError.permissionsDenied([PermissionDetail(action: "write", resource: "trigger")])
            }
        }) else { throw .notFound(cronsOnly == true ? .cron : .trigger, id: id.rawValue) }
        let now = clock.now()
        var shown = deleted.observed(at: now)
        if shown.phase != .ready { shown.credentialID = nil }  // never shown: the platform had not made it yet
        shown.phase = .deleting
        settings.deletions.keep(shown, kind: .trigger, id: id.rawValue, now: now, until: settings.deletionEnds(now))
        return shown
    }

    static func matches(_ t: Trigger, cronsOnly: Bool?, product: NamespaceKind, region: Region) -> Bool {
        guard t.region == region else { return false }
        guard t.application.namespaceKind == product else { return false }
        let isCron = t.source.typeName == "cron"
        if let cronsOnly, cronsOnly != isCron { return false }
        return true
    }

    static func problems(_ t: Trigger) -> [ArgumentProblem] {
        var p: [ArgumentProblem] = []
        func bad(_ argument: String, _ help: String, _ reason: ArgumentProblem.Reason = .constraint) {
            p.append(ArgumentProblem(argumentName: argument, reason: reason, helpMessage: help))
        }
        if t.name.isEmpty || t.name.count > 100 || t.name.utf8.contains(0) { bad("name", "name must be 1 to 100 characters") }
        p += NamespaceRules.metadataProblems(description: t.description, tags: t.tags)
        if !t.httpPath.hasPrefix("/") || t.httpPath.utf8.contains(0) { bad("destination_config.http_path", "http_path must start with /", .format) }
        if !TriggerRules.methods.contains(t.httpMethod) { bad("destination_config.http_method", "http_method must be one of get, post, put, patch, delete", .format) }
        switch t.source {
        case .cron(let schedule, let timezone, let body, _):
            if !TriggerRules.isValidSchedule(schedule) { bad("schedule", "schedule must be a cron expression of 5 fields, e.g. 5 4 * * *", .format) }
            if !TriggerRules.isValidTimezone(timezone) { bad("timezone", "timezone must be an IANA time zone such as Europe/Paris", .format) }
            if body.utf8.count > 65536 { bad("body", "body must be at most 64 KiB") }
        case .sqs(_, let endpoint, let queueURL, let accessKeyID, _):
            if endpoint.isEmpty { bad("sqs_config.endpoint", "endpoint is required", .required) }
            if queueURL.isEmpty { bad("sqs_config.queue_url", "queue_url is required", .required) }
            if accessKeyID.isEmpty { bad("sqs_config.access_key_id", "access_key_id is required", .required) }
        case .nats(let servers, let subject, _):
            if servers.isEmpty { bad("nats_config.server_urls", "server_urls is required", .required) }
            if subject.isEmpty { bad("nats_config.subject", "subject is required", .required) }
        case .scwSQS(let queue, _, _):
            if queue.isEmpty { bad("scw_sqs_config.queue", "queue is required", .required) }
        case .scwNATS(let subject, _, _, _):
            if subject.isEmpty { bad("scw_nats_config.subject", "subject is required", .required) }
        }
        return p
    }
}

/// Custom domains of containers and functions.
public struct DomainService: Sendable {
    let database: AppDatabase
    let clock: any WallClock
    let ids: any IDSource
    let settings: EngineSettings

    /// Creates the service.
    public init(database: AppDatabase, clock: any WallClock, ids: any IDSource, settings: EngineSettings) {
        self.database = database
        self.clock = clock
        self.ids = ids
        self.settings = settings
    }

    /// Attaches a hostname (unique across the mock) to a container or function.
    public func create(application: ApplicationRef, hostname: String, tags: [String], region: Region, by principal: Principal) throws(ScwError) -> CustomDomain {
        let host = hostname.lowercased()
        guard TriggerRules.isValidHostname(host) else { throw .invalid("hostname", .format, "hostname must be a fully qualified domain name") }
        // A name that means the API (localhost, an IP address, an --allowed-host) would let this application receive
        // API calls and their X-Auth-Token secret keys: refused as Scaleway refuses a name it cannot validate.
        if settings.allowedHosts.allows(host: host) { throw .badRequest("could not validate domain [\(host)]") }
        let tagProblems = NamespaceRules.metadataProblems(description: nil, tags: tags)
        if !tagProblems.isEmpty { throw .invalidArguments(tagProblems) }
        let app = try database.resolve(application, region: region, principal: principal, action: "write", resource: "domain")
        try settings.quotas.checkDomain(of: application, region: region, organization: app.organizationID, in: database)
        let now = clock.now()
        let domain = CustomDomain(id: ids.make(), hostname: host, region: region, namespaceID: app.namespaceID, application: application,
                                  projectID: app.projectID, organizationID: app.organizationID, tags: tags, phase: .creating,
                                  settlesAt: now.adding(nanoseconds: settings.transitionDelayNanoseconds), createdAt: now, updatedAt: now)
        try database.createDomain(domain)
        return domain
    }

    /// A domain as its reader sees it.
    public func get(_ id: DomainID, product: NamespaceKind, region: Region, by principal: Principal) throws(ScwError) -> CustomDomain {
        let now = clock.now()
        guard let d = try database.domain(id: id) ?? settings.deletions.value(CustomDomain.self, kind: .domain, id: id.rawValue, now: now),
              Self.matches(d, product: product, region: region) else {
            throw .notFound(.domain, id: id.rawValue)
        }
        guard principal.may(access: d.projectID, of: d.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: "read", resource: "domain")])
        }
        return d.observed(at: clock.now())
    }

    /// One page of domains; `projectID` / `organizationID` are the list filters the SDKs send (403 outside the key's scope,
    /// as for container lists).
    public func list(_ query: AttachmentQuery, projectID: ProjectID? = nil, organizationID: OrganizationID? = nil,
                     by principal: Principal) throws(ScwError) -> Page<CustomDomain> {
        var q = query
        q.projectIDs = try principal.listScope(projectID: projectID, organizationID: organizationID, resource: "domain")
        q.organizationID = principal.organizationID
        var page = try database.domains(matching: q)
        let now = clock.now()
        page.items = page.items.map { $0.observed(at: now) }
        return page
    }

    /// v1 PATCH: replaces the tags.
    public func update(_ id: DomainID, tags: [String]?, region: Region, by principal: Principal) throws(ScwError) -> CustomDomain {
        let tagProblems = NamespaceRules.metadataProblems(description: nil, tags: tags)
        if !tagProblems.isEmpty { throw .invalidArguments(tagProblems) }
        let now = clock.now()
        let principalCopy = principal
        guard let updated = try database.updateDomain(id: id, { d in
            guard Self.matches(d, product: .container, region: region) else { throw ScwError.notFound(.domain, id: id.rawValue) }
            guard principalCopy.may(access: d.projectID, of: d.organizationID) else {
                throw ScwError.permissionsDenied([PermissionDetail(action: "write", resource: "domain")])
            }
            d = d.observed(at: now)
            if let tags { d.tags = tags }
            d.updatedAt = now
        }) else { throw .notFound(.domain, id: id.rawValue) }
        return updated
    }

    /// Detaches a domain; returns it in `deleting`.
    public func delete(_ id: DomainID, product: NamespaceKind, region: Region, by principal: Principal) throws(ScwError) -> CustomDomain {
        let principalCopy = principal
        guard let deleted = try database.deleteDomain(id: id, { d in
            guard Self.matches(d, product: product, region: region) else { throw ScwError.notFound(.domain, id: id.rawValue) }
            guard principalCopy.may(access: d.projectID, of: d.organizationID) else {
                throw ScwError.permissionsDenied([PermissionDetail(action: "write", resource: "domain")])
            }
        }) else { throw .notFound(.domain, id: id.rawValue) }
        let now = clock.now()
        var shown = deleted.observed(at: now)
        shown.phase = .deleting
        settings.deletions.keep(shown, kind: .domain, id: id.rawValue, now: now, until: settings.deletionEnds(now))
        return shown
    }

    static func matches(_ d: CustomDomain, product: NamespaceKind, region: Region) -> Bool {
        guard d.region == region else { return false }
        return d.application.namespaceKind == product
    }
}
