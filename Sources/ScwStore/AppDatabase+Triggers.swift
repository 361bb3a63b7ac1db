import Foundation
import GRDB
import ScwDomain

extension AppDatabase {
    /// Crons, triggers and custom domains. Crons are triggers with a cron source, so that v1 reads v1beta1
    /// cron ids. Both hang off a container or a function and go with it.
    static func registerTriggerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5 triggers and domains") { db in
            try db.create(table: "trigger") { t in
                t.primaryKey("id", .text)
                t.column("region", .text).notNull()
                t.column("namespace_id", .text).notNull().references("namespace", onDelete: .cascade)
                t.column("container_id", .text).references("container", onDelete: .cascade)
                t.column("function_id", .text).references("function", onDelete: .cascade)
                t.column("project_id", .text).notNull()
                t.column("organization_id", .text).notNull()
                t.column("name", .text).notNull()
                t.column("description", .text).notNull()
                t.column("tags", .text).notNull()
                t.column("source_type", .text).notNull()
                t.column("source", .text).notNull()
                t.column("http_path", .text).notNull()
                t.column("http_method", .text).notNull()
                t.column("phase", .text).notNull()
                t.column("settles_at", .integer).notNull()
                t.column("credential_id", .text)
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
            }
            try db.create(index: "trigger_listing", on: "trigger", columns: ["region", "created_at", "id"])
            try db.create(index: "trigger_container", on: "trigger", columns: ["container_id"])
            try db.create(index: "trigger_function", on: "trigger", columns: ["function_id"])
            try db.create(table: "custom_domain") { t in
                t.primaryKey("id", .text)
                t.column("hostname", .text).notNull().unique()
                t.column("region", .text).notNull()
                t.column("namespace_id", .text).notNull().references("namespace", onDelete: .cascade)
                t.column("container_id", .text).references("container", onDelete: .cascade)
                t.column("function_id", .text).references("function", onDelete: .cascade)
                t.column("project_id", .text).notNull()
                t.column("organization_id", .text).notNull()
                t.column("tags", .text).notNull()
                t.column("phase", .text).notNull()
                t.column("settles_at", .integer).notNull()
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
            }
        }
    }
}

/// One row of the `trigger` table.
struct TriggerRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "trigger"
    var id: String
    var region: String
    var namespace_id: String
    var container_id: String?
    var function_id: String?
    var project_id: String
    var organization_id: String
    var name: String
    var description: String
    var tags: [String]
    var source_type: String
    var source: TriggerSource
    var http_path: String
    var http_method: String
    var phase: String
    var settles_at: Int64
    var credential_id: String?
    var created_at: Int64
    var updated_at: Int64

    init(_ t: Trigger) {
        id = t.id.rawValue
        region = t.region.rawValue
        namespace_id = t.namespaceID.rawValue
        container_id = t.application.id(of: .container)
        function_id = t.application.id(of: .function)
        project_id = t.projectID.rawValue
        organization_id = t.organizationID.rawValue
        name = t.name
        description = t.description
        tags = t.tags
        source_type = t.source.typeName
        source = t.source
        http_path = t.httpPath
        http_method = t.httpMethod
        phase = t.phase.rawValue
        settles_at = t.settlesAt.nanoseconds
        credential_id = t.credentialID
        created_at = t.createdAt.nanoseconds
        updated_at = t.updatedAt.nanoseconds
    }

    var model: Trigger {
        Trigger(id: TriggerID(trusted: id), region: Region(rawValue: region) ?? .frPar, namespaceID: NamespaceID(trusted: namespace_id),
                application: ApplicationRef(containerID: container_id, functionID: function_id),
                projectID: ProjectID(trusted: project_id), organizationID: OrganizationID(trusted: organization_id), name: name,
                description: description, tags: tags, source: source, httpPath: http_path, httpMethod: http_method,
                phase: ResourcePhase(rawValue: phase) ?? .error, settlesAt: Timestamp(nanoseconds: settles_at), credentialID: credential_id,
                createdAt: Timestamp(nanoseconds: created_at), updatedAt: Timestamp(nanoseconds: updated_at))
    }
}

/// One row of the `custom_domain` table.
struct DomainRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "custom_domain"
    var id: String
    var hostname: String
    var region: String
    var namespace_id: String
    var container_id: String?
    var function_id: String?
    var project_id: String
    var organization_id: String
    var tags: [String]
    var phase: String
    var settles_at: Int64
    var created_at: Int64
    var updated_at: Int64

    init(_ d: CustomDomain) {
        id = d.id.rawValue
        hostname = d.hostname
        region = d.region.rawValue
        namespace_id = d.namespaceID.rawValue
        container_id = d.application.id(of: .container)
        function_id = d.application.id(of: .function)
        project_id = d.projectID.rawValue
        organization_id = d.organizationID.rawValue
        tags = d.tags
        phase = d.phase.rawValue
        settles_at = d.settlesAt.nanoseconds
        created_at = d.createdAt.nanoseconds
        updated_at = d.updatedAt.nanoseconds
    }

    var model: CustomDomain {
        CustomDomain(id: DomainID(trusted: id), hostname: hostname, region: Region(rawValue: region) ?? .frPar,
                     namespaceID: NamespaceID(trusted: namespace_id),
                     application: ApplicationRef(containerID: container_id, functionID: function_id),
                     projectID: ProjectID(trusted: project_id), organizationID: OrganizationID(trusted: organization_id), tags: tags,
                     phase: ResourcePhase(rawValue: phase) ?? .error, settlesAt: Timestamp(nanoseconds: settles_at),
                     createdAt: Timestamp(nanoseconds: created_at), updatedAt: Timestamp(nanoseconds: updated_at))
    }
}

/// A stored trigger or custom domain: a row that renders one domain value and is built back from it. Both hang off a
/// container or a function, and are read, changed, deleted and listed the same way (`AppDatabase.attachment…`).
protocol AttachmentRecord: FetchableRecord, PersistableRecord, Sendable {
    associatedtype Model: Sendable
    init(_ model: Model)
    var model: Model { get }
}

extension TriggerRecord: AttachmentRecord {}

extension DomainRecord: AttachmentRecord {}

extension AppDatabase {
    /// Stores a trigger, unless its container or function was deleted meanwhile.
    public func createTrigger(_ trigger: Trigger) throws(ScwError) {
        try write { db in
            try Self.requireApplication(trigger.application, db)
            try TriggerRecord(trigger).insert(db)
        }
    }

    /// A trigger by id.
    public func trigger(id: TriggerID) throws(ScwError) -> Trigger? { try attachment(TriggerRecord.self, id: id.rawValue) }

    /// Reads, changes and writes one trigger in a transaction.
    public func updateTrigger(id: TriggerID, _ change: @Sendable (inout Trigger) throws -> Void) throws(ScwError) -> Trigger? {
        try updateAttachment(TriggerRecord.self, id: id.rawValue, change)
    }

    /// Deletes a trigger; returns it.
    public func deleteTrigger(id: TriggerID, _ check: @Sendable (Trigger) throws -> Void) throws(ScwError) -> Trigger? {
        try deleteAttachment(TriggerRecord.self, id: id.rawValue, check)
    }

    /// One page of triggers.
    public func triggers(matching q: AttachmentQuery) throws(ScwError) -> Page<Trigger> {
        try read { db in
            var r = TriggerRecord.all()
            if let crons = q.cronsOnly { r = r.filter(crons ? Column("source_type") == "cron" : Column("source_type") != "cron") }
            // v1 renders v1beta1 `scw_sqs` / `scw_nats` triggers as `sqs` / `nats`, so its filter matches them too.
            if let type = q.sourceType { r = r.filter([type, "scw_\(type)"].contains(Column("source_type"))) }
            return try Self.attachments(r, matching: q, in: db)
        }
    }

    /// Stores a custom domain; a hostname is unique across the mock.
    public func createDomain(_ domain: CustomDomain) throws(ScwError) {
        try write { db in
            try Self.requireApplication(domain.application, db)
            if try DomainRecord.filter(Column("hostname") == domain.hostname).fetchCount(db) > 0 {
                throw ScwError.alreadyExists(.domain, name: domain.hostname)
            }
            try DomainRecord(domain).insert(db)
        }
    }

    /// A domain by id.
    public func domain(id: DomainID) throws(ScwError) -> CustomDomain? { try attachment(DomainRecord.self, id: id.rawValue) }

    /// Reads, changes and writes one domain in a transaction.
    public func updateDomain(id: DomainID, _ change: @Sendable (inout CustomDomain) throws -> Void) throws(ScwError) -> CustomDomain? {
        try updateAttachment(DomainRecord.self, id: id.rawValue, change)
    }

    /// Deletes a domain; returns it.
    public func deleteDomain(id: DomainID, _ check: @Sendable (CustomDomain) throws -> Void) throws(ScwError) -> CustomDomain? {
        try deleteAttachment(DomainRecord.self, id: id.rawValue, check)
    }

    /// One page of domains.
    public func domains(matching q: AttachmentQuery) throws(ScwError) -> Page<CustomDomain> {
        try read { db in try Self.attachments(DomainRecord.all(), matching: q, in: db) }
    }

    // MARK: Triggers and domains alike

    private func attachment<R: AttachmentRecord>(_: R.Type, id: String) throws(ScwError) -> R.Model? {
        try read { db in try R.fetchOne(db, key: id)?.model }
    }

    private func updateAttachment<R: AttachmentRecord>(_: R.Type, id: String, _ change: @Sendable (inout R.Model) throws -> Void) throws(ScwError) -> R.Model? {
        try write { db in
            guard var model = try R.fetchOne(db, key: id)?.model else { return nil }
            try change(&model)
            try R(model).update(db)
            return model
        }
    }

    private func deleteAttachment<R: AttachmentRecord>(_: R.Type, id: String, _ check: @Sendable (R.Model) throws -> Void) throws(ScwError) -> R.Model? {
        try write { db in
            guard let record = try R.fetchOne(db, key: id) else { return nil }
            try check(record.model)
            try record.delete(db)
            return record.model
        }
    }

    /// One page of `request` narrowed to the query's region, organization, product, application, namespace and projects.
    private static func attachments<R: AttachmentRecord>(_ request: QueryInterfaceRequest<R>, matching q: AttachmentQuery, in db: Database) throws -> Page<R.Model> {
        var r = request.filter(Column("region") == q.region.rawValue && Column("organization_id") == q.organizationID.rawValue)
        r = r.filter(Column(q.product.applicationArgument) != nil)
        if let app = q.application { r = r.filter(Column(q.product.applicationArgument) == app) }
        if let ns = q.namespaceID { r = r.filter(Column("namespace_id") == ns.rawValue) }
        if let projects = q.projectIDs { r = r.filter(projects.map(\.rawValue).contains(Column("project_id"))) }
        let (rows, total) = try page(r, q.page, nameColumn: q.orderColumn, in: db)
        return Page(items: rows.map(\.model), totalCount: total)
    }

    private static func requireApplication(_ app: ApplicationRef, _ db: Database) throws {
        guard try applicationRef(db, id: app.rawValue) == app else { throw ScwError.notFound(app.namespaceKind.applicationKind, id: app.rawValue) }
    }
}

extension AppDatabase {
    /// Every cron trigger that is ready (the scheduler's work list).
    public func cronTriggers() throws(ScwError) -> [Trigger] {
        try read { db in try TriggerRecord.filter(Column("source_type") == "cron").fetchAll(db).map(\.model) }
    }
}
