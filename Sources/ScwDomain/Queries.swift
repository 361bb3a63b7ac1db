/// Filters of a container or function list, after the principal's scope has been applied (both kinds filter alike:
/// region, namespace, a name substring, projects, organization).
public struct ApplicationQuery: Sendable {
    public var region: Region
    public var namespaceID: NamespaceID?
    public var nameContains: String?
    public var projectIDs: Set<ProjectID>?
    public var organizationID: OrganizationID
    public var page: PageRequest

    /// Creates a query.
    public init(region: Region, namespaceID: NamespaceID?, nameContains: String?, projectIDs: Set<ProjectID>?,
                organizationID: OrganizationID, page: PageRequest) {
        self.region = region
        self.namespaceID = namespaceID
        self.nameContains = nameContains
        self.projectIDs = projectIDs
        self.organizationID = organizationID
        self.page = page
    }
}

/// Filters of a trigger or domain list.
public struct AttachmentQuery: Sendable {
    public var region: Region
    /// Only crons (`true`), only non-cron triggers (`false`), or every kind (nil).
    public var cronsOnly: Bool?
    /// Containers' or functions' attachments.
    public var product: NamespaceKind
    public var application: String?
    public var namespaceID: NamespaceID?
    /// v1's `trigger_type` (`sqs` and `nats` also match v1beta1's `scw_sqs` and `scw_nats`).
    public var sourceType: String?
    public var projectIDs: Set<ProjectID>?
    public var organizationID: OrganizationID
    public var page: PageRequest
    /// `hostname_*` orders domains by hostname; `name_*` orders triggers by name.
    public var orderColumn: String

    /// Creates a query.
    public init(region: Region, cronsOnly: Bool?, product: NamespaceKind, application: String?, namespaceID: NamespaceID?, sourceType: String?,
                projectIDs: Set<ProjectID>?, organizationID: OrganizationID, page: PageRequest, orderColumn: String) {
        self.region = region
        self.cronsOnly = cronsOnly
        self.product = product
        self.application = application
        self.namespaceID = namespaceID
        self.sourceType = sourceType
        self.projectIDs = projectIDs
        self.organizationID = organizationID
        self.page = page
        self.orderColumn = orderColumn
    }
}
