import Foundation
import GRDB
import ScwDomain

/// An application kind the store keeps, in the table named after its kind (`container`, `function`). The two tables
/// have the same columns, one row per application of a namespace, its name unique in that namespace, its tokens
/// removed with it; a kind adds its own columns through the two hooks (a function's `has_code`). Every operation
/// below serves both tables, so each rule is written once.
public protocol StoredApplication: Application {
    /// The kind's cache of decoded rows.
    static func cache(in caches: RowCaches) -> RowCache<Self>
    /// Reads the kind's own columns into `app`.
    static func readColumns(_ row: Row, into app: inout Self)
    /// Writes the kind's own columns.
    func writeColumns(to container: inout PersistenceContainer)
}

extension StoredApplication {
    public static func readColumns(_ row: Row, into app: inout Self) {}
    public func writeColumns(to container: inout PersistenceContainer) {}
}

extension Container: StoredApplication {
    public static func cache(in caches: RowCaches) -> RowCache<Container> { caches.containers }
}

extension Function: StoredApplication {
    public static func cache(in caches: RowCaches) -> RowCache<Function> { caches.functions }
    public static func readColumns(_ row: Row, into app: inout Function) { app.hasCode = row["has_code"] }
    public func writeColumns(to container: inout PersistenceContainer) { container["has_code"] = hasCode }
}

extension AppDatabase {
    /// Creates an application table as the migrations of both kinds do: the shared columns (the kind's own, such as a
    /// function's `has_code`, come from `extra`), names unique per namespace, listings by region and creation.
    static func createApplicationTable(_ name: String, in db: Database, extra: (TableDefinition) -> Void = { _ in }) throws {
        try db.create(table: name) { t in
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
            extra(t)
            t.column("created_at", .integer).notNull()
            t.column("updated_at", .integer).notNull()
        }
        try db.create(index: "\(name)_unique_name", on: name, columns: ["namespace_id", "name"], unique: true)
        try db.create(index: "\(name)_listing", on: name, columns: ["region", "created_at", "id"])
    }
}

/// One row of an application table: the shared columns, the settings as one JSON document, the kind's own columns.
struct ApplicationRow<A: StoredApplication>: FetchableRecord, PersistableRecord, Sendable {
    static var databaseTableName: String { A.kind.rawValue }
    var value: A

    init(_ value: A) { self.value = value }

    var id: String { value.id.rawValue }
    var namespace_id: String { value.namespaceID.rawValue }

    init(row: Row) throws {
        let core = ApplicationCore(
            namespaceID: NamespaceID(trusted: row["namespace_id"]), name: row["name"], region: Region(rawValue: row["region"]) ?? .frPar,
            projectID: ProjectID(trusted: row["project_id"]), organizationID: OrganizationID(trusted: row["organization_id"]),
            secrets: try Self.json(row["secrets"]), secretValues: try Self.json(row["secret_values"]),
            phase: ApplicationPhase(rawValue: row["phase"]) ?? .error, settlesAt: Timestamp(nanoseconds: row["settles_at"]),
            errorMessage: row["error_message"], readyAt: (row["ready_at"] as Int64?).map { Timestamp(nanoseconds: $0) },
            domainName: row["domain_name"], createdAt: Timestamp(nanoseconds: row["created_at"]),
            updatedAt: Timestamp(nanoseconds: row["updated_at"]))
        value = A(id: Identifier(trusted: row["id"]), core: core, spec: try Self.json(row["spec"]))
        A.readColumns(row, into: &value)
    }

    func encode(to container: inout PersistenceContainer) throws {
        let core = value.core
        container["id"] = value.id.rawValue
        container["namespace_id"] = core.namespaceID.rawValue
        container["name"] = core.name
        container["region"] = core.region.rawValue
        container["project_id"] = core.projectID.rawValue
        container["organization_id"] = core.organizationID.rawValue
        container["spec"] = try Self.text(value.spec)
        container["secrets"] = try Self.text(core.secrets)
        container["secret_values"] = try Self.text(core.secretValues)
        container["phase"] = core.phase.rawValue
        container["settles_at"] = core.settlesAt.nanoseconds
        container["error_message"] = core.errorMessage
        container["ready_at"] = core.readyAt?.nanoseconds
        container["domain_name"] = core.domainName
        container["created_at"] = core.createdAt.nanoseconds
        container["updated_at"] = core.updatedAt.nanoseconds
        value.writeColumns(to: &container)
    }

    /// JSON columns hold text, as GRDB's Codable records wrote them.
    private static func json<T: Decodable>(_ text: String) throws -> T { try rowDecoder.decode(T.self, from: Data(text.utf8)) }

    private static func text<T: Encodable>(_ value: T) throws -> String { String(decoding: try rowEncoder.encode(value), as: UTF8.self) }
}

/// The coders of the JSON columns, made once (a row is decoded on every uncached read).
private let rowDecoder = JSONDecoder()
private let rowEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return encoder
}()

extension AppDatabase {
    /// Stores a new application; its namespace must still exist and its name be free there.
    public func createApplication<A: StoredApplication>(_ application: A) throws(ScwError) {
        let record = ApplicationRow<A>(application)
        try write { db in
            guard try NamespaceRecord.exists(db, key: record.namespace_id) else {
                throw ScwError.notFound(.namespace, id: record.namespace_id)
            }
            if try ApplicationRow<A>.filter(Column("namespace_id") == record.namespace_id && Column("name") == application.name).fetchCount(db) > 0 {
                throw ScwError.alreadyExists(A.kind, name: application.name)
            }
            try record.insert(db)
        }
    }

    /// An application by id, through its row cache (a GET on the hot path).
    public func application<A: StoredApplication>(_: A.Type, id: Identifier<A.Tag>) throws(ScwError) -> A? {
        try cachedRead(A.cache(in: caches), id: id.rawValue) { db in
            try ApplicationRow<A>.fetchOne(db.cachedStatement(sql: "SELECT * FROM \(ApplicationRow<A>.databaseTableName) WHERE id = ?"), arguments: [id.rawValue])?.value
        }
    }

    /// One page of applications of a kind and the count of all matches. The page's ids come from the table's indexes;
    /// each row then comes from the row cache when no write committed since it was decoded (SDK waiters and test suites
    /// list the same objects again and again), else from the table.
    public func applications<A: StoredApplication>(_: A.Type, matching q: ApplicationQuery) throws(ScwError) -> Page<A> {
        let generation = self.rowGeneration
        let cache = A.cache(in: caches)
        return try read { db in
            let (ids, total) = try Self.pageIDs(Self.filtered(ApplicationRow<A>.all(), q), q.page, in: db)
            var found: [String: A] = [:]
            var missing: [String] = []
            for id in ids {
                if let hit = cache.value(for: id, generation: generation) { found[id] = hit } else { missing.append(id) }
            }
            if !missing.isEmpty {
                for record in try ApplicationRow<A>.fetchAll(db, keys: missing) {
                    let value = record.value
                    found[record.id] = value
                    cache.store(value, for: record.id, generation: generation)
                }
            }
            return Page(items: ids.compactMap { found[$0] }, totalCount: total)
        }
    }

    /// Reads, changes and writes one application in a single transaction (concurrent updates are serialised).
    /// `change` receives the application and its namespace, and may throw to refuse; nothing is written then.
    public func updateApplication<A: StoredApplication>(_: A.Type, id: Identifier<A.Tag>, _ change: @Sendable (inout A, Namespace) throws -> Void)
        throws(ScwError) -> A? {
        try write { db in
            guard let record = try ApplicationRow<A>.fetchOne(db, key: id.rawValue),
                  let ns = try NamespaceRecord.fetchOne(db, key: record.namespace_id)?.namespace else { return nil }
            var value = record.value
            try change(&value, ns)
            try ApplicationRow<A>(value).update(db)
            return value
        }
    }

    /// Deletes an application and the tokens scoped to it (what hangs off it in other tables goes by cascade: a
    /// function's code and upload grants, crons, triggers, domains); `check` may throw to refuse. Returns what was deleted.
    public func deleteApplication<A: StoredApplication>(_: A.Type, id: Identifier<A.Tag>, _ check: @Sendable (A) throws -> Void)
        throws(ScwError) -> A? {
        try write { db in
            guard let record = try ApplicationRow<A>.fetchOne(db, key: id.rawValue) else { return nil }
            try check(record.value)
            try db.execute(sql: "DELETE FROM token WHERE application_id = ?", arguments: [id.rawValue])
            try record.delete(db)
            return record.value
        }
    }

    /// The application of a kind with this name, when exactly one has it (fixtures name them).
    public func application<A: StoredApplication>(_: A.Type, named name: String) throws(ScwError) -> A? {
        try read { db in
            let rows = try ApplicationRow<A>.filter(Column("name") == name).limit(2).fetchAll(db)
            return rows.count == 1 ? rows[0].value : nil
        }
    }

    /// The container or function with this id, whichever it is.
    public func application(id: String) throws(ScwError) -> (any StoredApplication)? {
        try applicationRef(id: id).flatMap { ref throws(ScwError) in try application(ref) }
    }

    /// The application a reference names, whichever its kind (the runtime, the gateway and attachments hold references).
    public func application(_ ref: ApplicationRef) throws(ScwError) -> (any StoredApplication)? {
        switch ref {
        case .container(let id): try application(Container.self, id: id)
        case .function(let id): try application(Function.self, id: id)
        }
    }
}

/// Queries over both tables: names are unique across kinds within a namespace (a container namespace holds only
/// containers, but the mock checks both), and a host or a restart concerns whichever kind it finds.
extension AppDatabase {
    /// Containers and functions that were ready or deploying (restarted after a restart of the mock).
    public func deployedApplications() throws(ScwError) -> [ApplicationRef] {
        try read { db in
            let containers = try String.fetchAll(db, sql: "SELECT id FROM container WHERE phase IN ('ready', 'creating', 'updating') ORDER BY created_at")
            let functions = try String.fetchAll(db, sql: "SELECT id FROM function WHERE phase IN ('ready', 'creating', 'updating') ORDER BY created_at")
            return containers.map { .container(ContainerID(trusted: $0)) } + functions.map { .function(FunctionID(trusted: $0)) }
        }
    }

    /// The reference of the container or function with this id.
    public func applicationRef(id: String) throws(ScwError) -> ApplicationRef? {
        try read { db in try Self.applicationRef(db, id: id) }
    }

    static func applicationRef(_ db: Database, id: String) throws -> ApplicationRef? {
        if try ApplicationRow<Container>.exists(db, key: id) { return .container(ContainerID(trusted: id)) }
        if try ApplicationRow<Function>.exists(db, key: id) { return .function(FunctionID(trusted: id)) }
        return nil
    }

    /// Ids of the containers and functions of a namespace.
    public func applicationIDs(inNamespace id: NamespaceID) throws(ScwError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT id FROM container WHERE namespace_id = ? UNION ALL SELECT id FROM function WHERE namespace_id = ?",
                                arguments: [id.rawValue, id.rawValue])
        }
    }

    /// The id of the container or function with this name in a namespace.
    public func applicationID(named name: String, in namespace: NamespaceID) throws(ScwError) -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT id FROM container WHERE namespace_id = ? AND name = ? UNION ALL SELECT id FROM function WHERE namespace_id = ? AND name = ?",
                                arguments: [namespace.rawValue, name, namespace.rawValue, name])
        }
    }

    /// The container or function a host name routes to: its generated domain name or a custom domain.
    public func application(forHost host: String) throws(ScwError) -> ApplicationRef? {
        try read { db in
            if let id = try String.fetchOne(db, sql: "SELECT id FROM container WHERE domain_name = ?", arguments: [host]) {
                return .container(ContainerID(trusted: id))
            }
            if let id = try String.fetchOne(db, sql: "SELECT id FROM function WHERE domain_name = ?", arguments: [host]) {
                return .function(FunctionID(trusted: id))
            }
            if let row = try Row.fetchOne(db, sql: "SELECT container_id, function_id FROM custom_domain WHERE hostname = ?", arguments: [host]) {
                if let c: String = row["container_id"] { return .container(ContainerID(trusted: c)) }
                if let f: String = row["function_id"] { return .function(FunctionID(trusted: f)) }
            }
            return nil
        }
    }
}
