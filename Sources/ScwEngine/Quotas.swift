import ScwDomain
import ScwStore

/// Scaleway's documented quotas, the one place that knows them (reliability catalog C13 and A28). From the limitations
/// pages of Serverless Functions (validated 2025-09) and Serverless Containers:
///
/// | resource | limit | scope |
/// |---|---|---|
/// | namespaces | 100 | project (counted per kind: container namespaces and function namespaces apart) |
/// | containers / functions | 1,000 | organization |
/// | custom domains | 50 | container / function |
///
/// Scaleway's APIs are regional, so the mock counts within the region of the request. Going past a quota is 403
/// `quotas_exceeded` with `details: [{resource, quota, current}]`; the resource names are the mock's
/// choice (Scaleway does not document them): `serverless_containers_namespaces`, `serverless_containers_containers`,
/// `serverless_containers_domains`, `serverless_functions_namespaces`, `serverless_functions_functions`,
/// `serverless_functions_domains`.
///
/// `--quota-multiplier N` multiplies every limit (load tests), `0` turns them off. They apply to the API and to fixtures
/// alike (`--seed` and `POST /_mock/seed` create through the same services): a fixture Scaleway could not hold is
/// refused with the quota in its problem line unless the server runs with a multiplier that allows it.
///
/// The count is read just before the insert, in its own transaction: requests that create at the same moment at the
/// limit can each pass it (at most one object per concurrent request over the quota). The mock accepts that race
/// rather than count inside every store transaction: a quota is a guard against runaway growth, not an invariant.
public struct Quotas: Sendable, Equatable {
    /// Namespaces of one kind per project.
    public static let namespacesPerProject = 100
    /// Containers, or functions, per organization.
    public static let applicationsPerOrganization = 1_000
    /// Custom domains per container or function.
    public static let domainsPerApplication = 50

    /// Factor applied to every limit; 0 = no quota.
    public var multiplier: Int

    /// Scaleway's limits times `multiplier` (1 = as documented, 0 = off).
    public init(multiplier: Int = 1) {
        self.multiplier = max(0, multiplier)
    }

    /// A documented limit as this mock applies it; nil when quotas are off.
    public func limit(_ documented: Int) -> Int? {
        multiplier == 0 ? nil : documented.multipliedReportingOverflow(by: multiplier).partialValue
    }

    /// Refuses a namespace beyond the project's quota.
    public func checkNamespace(kind: NamespaceKind, region: Region, project: ProjectID, organization: OrganizationID,
                               in database: AppDatabase) throws(ScwError) {
        guard let quota = limit(Self.namespacesPerProject) else { return }
        let current = try database.namespaces(matching: NamespaceQuery(
            kind: kind, region: region, nameContains: nil, projectIDs: [project], organizationID: organization, page: Self.oneRow)).totalCount
        try Self.require(current, below: quota, resource: "serverless_\(kind.product)_namespaces")
    }

    /// Refuses a container or function beyond the organization's quota (of its kind).
    public func checkApplication<A: StoredApplication>(_: A.Type, region: Region, organization: OrganizationID,
                                                       in database: AppDatabase) throws(ScwError) {
        guard let quota = limit(Self.applicationsPerOrganization) else { return }
        let current = try database.applications(A.self, matching: ApplicationQuery(
            region: region, namespaceID: nil, nameContains: nil, projectIDs: nil, organizationID: organization, page: Self.oneRow)).totalCount
        try Self.require(current, below: quota, resource: "serverless_\(A.namespaceKind.product)_\(A.kind.rawValue)s")
    }

    /// Refuses a custom domain beyond its container's or function's quota.
    public func checkDomain(of application: ApplicationRef, region: Region, organization: OrganizationID,
                            in database: AppDatabase) throws(ScwError) {
        guard let quota = limit(Self.domainsPerApplication) else { return }
        let current = try database.domains(matching: AttachmentQuery(
            region: region, cronsOnly: nil, product: application.namespaceKind, application: application.rawValue, namespaceID: nil,
            sourceType: nil, projectIDs: nil, organizationID: organization, page: Self.oneRow, orderColumn: "hostname")).totalCount
        try Self.require(current, below: quota, resource: "serverless_\(application.namespaceKind.product)_domains")
    }

    /// The smallest page: only the total count is wanted.
    private static let oneRow = PageRequest(page: 1, pageSize: 1)

    private static func require(_ current: Int, below quota: Int, resource: String) throws(ScwError) {
        if current >= quota { throw .quotasExceeded(resource: resource, quota: quota, current: current) }
    }
}
