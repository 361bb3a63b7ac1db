import Foundation
import GRDB
import ScwDomain

extension AppDatabase {
    /// Containers (issue 4): one row per container; its settings are one JSON document (`ContainerSpec`).
    static func registerContainerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3 containers") { db in
            try db.create(table: "container") { t in
                t.primaryKey("id", .text)
                t.column("namespace_id", .text).notNull().references("namespace", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("region", .text).notNull()
                t.column("project_id", .text).notNull()
                t.column("organization_id", .text).notNull()
                t.column("spec", .text).notNull()
                t.column("secrets", .text).notNull()
                t.column("phase", .text).notNull()
                t.column("settles_at", .integer).notNull()
                t.column("error_message", .text)
                t.column("ready_at", .integer)
                t.column("domain_name", .text).notNull()
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
            }
            try db.create(index: "container_unique_name", on: "container", columns: ["namespace_id", "name"], unique: true)
            try db.create(index: "container_listing", on: "container", columns: ["region", "created_at", "id"])
            try db.create(index: "token_application", on: "token", columns: ["application_id"])
        }
    }
}

/// One row of the `container` table.
struct ContainerRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "container"
    var id: String
    var namespace_id: String
    var name: String
    var region: String
    var project_id: String
    var organization_id: String
    var spec: ContainerSpec
    var secrets: [HashedSecret]
    var phase: String
    var settles_at: Int64
    var error_message: String?
    var ready_at: Int64?
    var domain_name: String
    var created_at: Int64
    var updated_at: Int64
    var secret_values: [String: String]

    init(_ c: Container) {
        id = c.id.rawValue
        namespace_id = c.namespaceID.rawValue
        name = c.name
        region = c.region.rawValue
        project_id = c.projectID.rawValue
        organization_id = c.organizationID.rawValue
        spec = c.spec
        secrets = c.secrets
        phase = c.phase.rawValue
        settles_at = c.settlesAt.nanoseconds
        error_message = c.errorMessage
        ready_at = c.readyAt?.nanoseconds
        domain_name = c.domainName
        created_at = c.createdAt.nanoseconds
        updated_at = c.updatedAt.nanoseconds
        secret_values = c.secretValues
    }

    var container: Container {
        var c = Container(id: ContainerID(trusted: id), namespaceID: NamespaceID(trusted: namespace_id), name: name,
                  region: Region(rawValue: region) ?? .frPar, projectID: ProjectID(trusted: project_id),
                  organizationID: OrganizationID(trusted: organization_id), spec: spec, secrets: secrets,
                  phase: ApplicationPhase(rawValue: phase) ?? .error, settlesAt: Timestamp(nanoseconds: settles_at),
                  errorMessage: error_message, readyAt: ready_at.map { Timestamp(nanoseconds: $0) }, domainName: domain_name,
                  createdAt: Timestamp(nanoseconds: created_at), updatedAt: Timestamp(nanoseconds: updated_at))
        c.secretValues = secret_values
        return c
    }
}

/// Filters of a container list, after the principal's scope has been applied.
public struct ContainerQuery: Sendable {
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

extension AppDatabase {
    /// Stores a new container; its namespace must still exist and its name be free there.
    public func createContainer(_ container: Container) throws(ScwError) {
        try createApplication(ContainerRecord(container), name: container.name)
    }

    /// A container by id.
    public func container(id: ContainerID) throws(ScwError) -> Container? {
        try application(ContainerRecord.self, id: id.rawValue, cache: caches.containers)
    }

    /// One page of containers and the count of all matches.
    public func containers(matching q: ContainerQuery) throws(ScwError) -> Page<Container> {
        try applications(ContainerRecord.self, matching: q, cache: caches.containers)
    }

    /// Reads, changes and writes one container in a single transaction (concurrent updates are serialised).
    /// `change` receives the container and its namespace, and may throw to refuse; nothing is written then.
    public func updateContainer(id: ContainerID, _ change: @Sendable (inout Container, Namespace) throws -> Void) throws(ScwError) -> Container? {
        try updateApplication(ContainerRecord.self, id: id.rawValue, change)
    }

    /// Deletes a container and the tokens scoped to it; returns what was deleted.
    public func deleteContainer(id: ContainerID, _ check: @Sendable (Container) throws -> Void) throws(ScwError) -> Container? {
        try deleteApplication(ContainerRecord.self, id: id.rawValue, check)
    }

    /// How many containers a namespace holds.
    public func containerCount(namespace: NamespaceID) throws(ScwError) -> Int {
        try read { db in try ContainerRecord.filter(Column("namespace_id") == namespace.rawValue).fetchCount(db) }
    }
}
