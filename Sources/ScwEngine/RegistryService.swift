import ScwDomain
import ScwStore

/// Use cases of Registry v1's control plane (namespaces, images, tags) and IAM's API-key look-up: what Terraform's
/// `scaleway_registry_namespace`, Ansible's `scaleway_container_registry` and `scw container deploy` call beside the
/// serverless APIs. The mock serves no Docker registry: images and tags come from fixtures.
///
/// The `funcscw…` registry namespace of each container or function namespace is read from that namespace (one fact,
/// one place): it appears once the namespace's creation settles, with the namespace's project, and is gone the moment
/// the namespace is deleted. It cannot be changed or deleted through the registry API here (the mock's choice: the
/// serverless namespace owns it; Scaleway does not document what happens to a serverless namespace whose registry
/// namespace is deleted).
public struct RegistryService: Sendable {
    let database: AppDatabase
    let clock: any WallClock
    let ids: any IDSource
    /// Where deleted namespaces, images and tags stay readable as `deleting` for the transition delay.
    let settings: EngineSettings

    /// Creates the service.
    public init(database: AppDatabase, clock: any WallClock, ids: any IDSource, settings: EngineSettings = EngineSettings()) {
        self.database = database
        self.clock = clock
        self.ids = ids
        self.settings = settings
    }

    /// Keeps a deleted value readable by id as `deleting` for the transition delay (Scaleway's few seconds).
    private func keepDeleted<T: Sendable>(_ value: T, kind: ResourceKind, id: String) {
        let now = clock.now()
        settings.deletions.keep(value, kind: kind, id: id, now: now, until: settings.deletionEnds(now))
    }

    // MARK: Namespaces

    /// One page of the registry namespaces the principal may see in `region`, filtered as asked (`name`: exact).
    public func listNamespaces(region: Region, name: String?, projectID: ProjectID?, organizationID: OrganizationID?,
                               page: PageRequest, by principal: Principal) throws(ScwError) -> Page<RegistryNamespace> {
        let projects = try principal.listScope(projectID: projectID, organizationID: organizationID, resource: "namespace")
        let query = RegistryQuery(region: region, organizationID: principal.organizationID, projectIDs: projects, name: name, page: page)
        return try database.registryNamespaces(matching: query, now: clock.now())
    }

    /// A registry namespace of `region`: 404 when it does not exist there, 403 when it is another project's.
    public func namespace(_ id: RegistryNamespaceID, region: Region, by principal: Principal, action: String = "read") throws(ScwError) -> RegistryNamespace {
        let now = clock.now()
        guard let ns = try database.registryNamespace(id: id, now: now)
                ?? settings.deletions.value(RegistryNamespace.self, kind: .namespace, id: id.rawValue, now: now), ns.region == region else {
            throw .notFound(.namespace, id: id.rawValue)
        }
        try Self.authorize(principal, project: ns.projectID, organization: ns.organizationID, action: action, resource: "namespace")
        return ns
    }

    /// Creates a registry namespace in `projectID` (else the key's default project; a deprecated `organization_id`
    /// means the key's default project of that organization). Names are unique in a region across organizations.
    public func createNamespace(region: Region, name: String?, description: String, isPublic: Bool, projectID: ProjectID?,
                                organizationID: OrganizationID?, by principal: Principal,
                                fixedID: RegistryNamespaceID? = nil) throws(ScwError) -> RegistryNamespace {
        if let organizationID, organizationID != principal.organizationID {
            throw .permissionsDenied([PermissionDetail(action: "write", resource: "namespace")])
        }
        let projectID = projectID ?? principal.defaultProjectID
        guard let project = try database.project(id: projectID), principal.may(access: project.id, of: project.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: "write", resource: "namespace")])
        }
        let name = name ?? ids.nextName(prefix: "ns")
        var problems: [ArgumentProblem] = []
        if let problem = RegistryRules.namespaceNameProblem(name) { problems.append(problem) }
        if description.count > RegistryRules.maxDescriptionLength {
            problems.append(.init(argumentName: "description", reason: .constraint,
                                  helpMessage: "description must be at most \(RegistryRules.maxDescriptionLength) characters"))
        }
        if !problems.isEmpty { throw .invalidArguments(problems) }
        let now = clock.now()
        let ns = RegistryNamespace(id: fixedID ?? ids.make(), name: name, description: description, projectID: project.id,
                                   organizationID: project.organizationID, region: region, isPublic: isPublic,
                                   createdAt: now, updatedAt: now, ownerNamespaceID: nil)
        return try database.createRegistryNamespace(ns, now: now)
    }

    /// Changes a registry namespace's description or visibility.
    public func updateNamespace(_ id: RegistryNamespaceID, region: Region, description: String?, isPublic: Bool?,
                                by principal: Principal) throws(ScwError) -> RegistryNamespace {
        let existing = try namespace(id, region: region, by: principal, action: "write")
        try Self.refuseOwned(existing)
        if let description, description.count > RegistryRules.maxDescriptionLength {
            throw .invalid("description", .constraint, "description must be at most \(RegistryRules.maxDescriptionLength) characters")
        }
        guard let updated = try database.updateRegistryNamespace(id: id, description: description, isPublic: isPublic, now: clock.now())
        else { throw .notFound(.namespace, id: id.rawValue) }
        return updated
    }

    /// Deletes a registry namespace and its images; returns it as it was, in `deleting` (the next read is a 404).
    public func deleteNamespace(_ id: RegistryNamespaceID, region: Region, by principal: Principal) throws(ScwError) -> RegistryNamespace {
        let existing = try namespace(id, region: region, by: principal, action: "write")
        try Self.refuseOwned(existing)
        guard existing.phase != .deleting, var deleted = try database.deleteRegistryNamespace(id: id, now: clock.now()) else {
            throw .notFound(.namespace, id: id.rawValue)
        }
        deleted.phase = .deleting
        keepDeleted(deleted, kind: .namespace, id: id.rawValue)
        return deleted
    }

    private static func refuseOwned(_ ns: RegistryNamespace) throws(ScwError) {
        guard let owner = ns.ownerNamespaceID else { return }
        throw .preconditionFailed(
            precondition: "resource_owned_by_serverless",
            help: "this registry namespace belongs to the serverless namespace \(owner.rawValue): change or delete that namespace instead")
    }

    // MARK: Images and tags

    /// One page of the images the principal may see in `region`, filtered as asked (`name`: exact).
    public func listImages(region: Region, namespaceID: RegistryNamespaceID?, name: String?, projectID: ProjectID?,
                           organizationID: OrganizationID?, page: PageRequest, by principal: Principal) throws(ScwError) -> Page<RegistryImage> {
        let projects = try principal.listScope(projectID: projectID, organizationID: organizationID, resource: "image")
        let query = RegistryQuery(region: region, organizationID: principal.organizationID, projectIDs: projects, name: name,
                                  namespaceID: namespaceID, page: page)
        return try database.registryImages(matching: query)
    }

    /// An image of `region`: 404 when it does not exist there, 403 when it is another project's.
    public func image(_ id: RegistryImageID, region: Region, by principal: Principal, action: String = "read") throws(ScwError) -> RegistryImage {
        guard let image = try database.registryImage(id: id)
                ?? settings.deletions.value(RegistryImage.self, kind: .image, id: id.rawValue, now: clock.now()), image.region == region
        else { throw .notFound(.image, id: id.rawValue) }
        try Self.authorize(principal, project: image.projectID, organization: image.organizationID, action: action, resource: "image")
        return image
    }

    /// Sets an image's visibility (`nil`: unchanged, Scaleway's `visibility_unknown`).
    public func updateImage(_ id: RegistryImageID, region: Region, visibility: ImageVisibility?, by principal: Principal) throws(ScwError) -> RegistryImage {
        let existing = try image(id, region: region, by: principal, action: "write")
        guard let visibility else { return existing }
        guard let updated = try database.updateRegistryImage(id: id, visibility: visibility, now: clock.now()) else {
            throw .notFound(.image, id: id.rawValue)
        }
        return updated
    }

    /// Deletes an image and its tags; returns it as it was (the next read is a 404).
    public func deleteImage(_ id: RegistryImageID, region: Region, by principal: Principal) throws(ScwError) -> RegistryImage {
        let existing = try image(id, region: region, by: principal, action: "write")
        guard existing.phase != .deleting, var deleted = try database.deleteRegistryImage(id: id) else { throw .notFound(.image, id: id.rawValue) }
        deleted.phase = .deleting
        keepDeleted(deleted, kind: .image, id: id.rawValue)
        return deleted
    }

    /// One page of an image's tags (`name`: exact).
    public func listTags(of imageID: RegistryImageID, region: Region, name: String?, page: PageRequest,
                         by principal: Principal) throws(ScwError) -> Page<RegistryTag> {
        _ = try image(imageID, region: region, by: principal)
        return try database.registryTags(of: imageID, name: name, page: page)
    }

    /// A tag of `region`: 404 when it does not exist there, 403 when its image is another project's.
    public func tag(_ id: RegistryTagID, region: Region, by principal: Principal, action: String = "read") throws(ScwError) -> RegistryTag {
        guard let tag = try database.registryTag(id: id)
                ?? settings.deletions.value(RegistryTag.self, kind: .tag, id: id.rawValue, now: clock.now()), tag.region == region
        else { throw .notFound(.tag, id: id.rawValue) }
        try Self.authorize(principal, project: tag.projectID, organization: tag.organizationID, action: action, resource: "tag")
        return tag
    }

    /// Deletes a tag; returns it as it was.
    public func deleteTag(_ id: RegistryTagID, region: Region, by principal: Principal) throws(ScwError) -> RegistryTag {
        let existing = try tag(id, region: region, by: principal, action: "write")
        guard existing.phase != .deleting, var deleted = try database.deleteRegistryTag(id: id) else { throw .notFound(.tag, id: id.rawValue) }
        deleted.phase = .deleting
        keepDeleted(deleted, kind: .tag, id: id.rawValue)
        return deleted
    }

    /// What a fixture declares of an image: where, its name, visibility, size and tags with their digests.
    public struct ImageDraft: Sendable {
        public var namespace: String
        public var id: RegistryImageID?
        public var name: String
        public var visibility: ImageVisibility
        public var size: Int64
        public var tags: [(name: String, digest: String)]

        /// Creates a draft.
        public init(namespace: String, id: RegistryImageID?, name: String, visibility: ImageVisibility, size: Int64,
                    tags: [(name: String, digest: String)]) {
            self.namespace = namespace
            self.id = id
            self.name = name
            self.visibility = visibility
            self.size = size
            self.tags = tags
        }
    }

    /// Adds (or, same id or same name in the namespace, replaces) an image with its tags in a registry namespace named
    /// by id or name, or in the `funcscw…` one of a container or function namespace named by id or name, in `region`.
    /// Fixtures only: Registry v1 has no image creation.
    @discardableResult
    /// `principal` nil: the operator's fixture, which may add images to any organization's namespace.
    public func addImage(_ draft: ImageDraft, region: Region, by principal: Principal?) throws(ScwError) -> RegistryImage {
        let now = clock.now()
        var found: RegistryNamespace? = nil
        if let id = RegistryNamespaceID(draft.namespace) { found = try database.registryNamespace(id: id, now: now) }
        if found == nil { found = try database.registryNamespace(named: draft.namespace, region: region, now: now) }
        if found == nil {
            // A container or function namespace: its `funcscw…` registry namespace.
            var owner: Namespace? = nil
            if let id = NamespaceID(draft.namespace) { owner = try database.namespace(id: id) }
            if owner == nil {
                owner = try (database.namespaces(named: draft.namespace, kind: .container) + database.namespaces(named: draft.namespace, kind: .function))
                    .first { $0.region == region }
            }
            if let owner { found = try database.registryNamespace(id: owner.registryNamespaceID, now: now) }
        }
        guard let ns = found, ns.region == region else {
            throw .invalid("namespace", .constraint, "no registry namespace \(draft.namespace) in \(region.rawValue)")
        }
        if let principal {
            try Self.authorize(principal, project: ns.projectID, organization: ns.organizationID, action: "write", resource: "image")
        }
        var problems: [ArgumentProblem] = []
        if let problem = RegistryRules.imageNameProblem(draft.name) { problems.append(.init(argumentName: "name", reason: .constraint, helpMessage: problem)) }
        if draft.size < 0 { problems.append(.init(argumentName: "size", reason: .constraint, helpMessage: "size is a number of bytes, at least 0")) }
        var seen: Set<String> = []
        for tag in draft.tags {
            if let problem = RegistryRules.tagNameProblem(tag.name) { problems.append(.init(argumentName: "tags", reason: .constraint, helpMessage: problem)) }
            if !RegistryRules.isValidDigest(tag.digest) {
                problems.append(.init(argumentName: "tags.\(tag.name).digest", reason: .format, helpMessage: "a digest is sha256: and 64 lower-case hex digits"))
            }
            if !seen.insert(tag.name).inserted { problems.append(.init(argumentName: "tags", reason: .constraint, helpMessage: "tag \(tag.name) is listed twice")) }
        }
        if !problems.isEmpty { throw .invalidArguments(problems) }
        var existing: RegistryImage? = nil
        if let id = draft.id { existing = try database.registryImage(id: id) }
        if existing == nil { existing = try database.registryImage(named: draft.name, in: ns.id) }
        let id = draft.id ?? existing?.id ?? ids.make()
        let image = RegistryImage(id: id, namespaceID: ns.id, name: draft.name, visibility: draft.visibility, size: draft.size,
                                  projectID: ns.projectID, organizationID: ns.organizationID, region: region,
                                  createdAt: existing?.createdAt ?? now, updatedAt: now)
        // Tags are pushed one after the other (a microsecond apart), so lists keep the fixture's order.
        let tags = draft.tags.enumerated().map { i, tag in
            let pushed = now.adding(nanoseconds: Int64(i) * 1000)
            return RegistryTag(id: ids.make(), imageID: id, name: tag.name, digest: tag.digest, createdAt: pushed, updatedAt: pushed,
                               projectID: ns.projectID, organizationID: ns.organizationID, region: region)
        }
        return try database.saveRegistryImage(image, tags: tags)
    }

    /// The registry namespace a fixture entry names: by id, else by name in `region` (nil when there is none).
    public func existingNamespace(id: RegistryNamespaceID?, name: String, region: Region) throws(ScwError) -> RegistryNamespace? {
        if let id { return try database.registryNamespace(id: id, now: clock.now()) }
        return try database.registryNamespace(named: name, region: region, now: clock.now())
    }

    // MARK: IAM

    /// An API key by its access key, for the principal's own organization only: a key of another organization, or no key
    /// at all, is the same 404 (the mock's choice: a caller learns nothing about other organizations). The secret is
    /// never part of the answer.
    public func apiKey(accessKey: String, by principal: Principal) throws(ScwError) -> APIKey {
        guard APIKey.isValidAccessKey(accessKey) else {
            throw .invalid("access_key", .format, "access_key must be SCW followed by 17 upper-case letters or digits")
        }
        guard let key = try database.apiKey(accessKey: accessKey), key.organizationID == principal.organizationID else {
            throw .notFound(.apiKey, id: accessKey)
        }
        return key
    }

    static func authorize(_ principal: Principal, project: ProjectID, organization: OrganizationID, action: String,
                          resource: String) throws(ScwError) {
        guard principal.may(access: project, of: organization) else {
            throw .permissionsDenied([PermissionDetail(action: action, resource: resource)])
        }
    }
}

extension NamespaceService {
    /// The registry service over the same store, clock and ids (the registry namespaces of serverless namespaces are
    /// read from theirs).
    public var registry: RegistryService { RegistryService(database: database, clock: clock, ids: ids, settings: settings) }
}
