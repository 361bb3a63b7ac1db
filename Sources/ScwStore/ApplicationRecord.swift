import GRDB
import ScwDomain

/// What the `container` and `function` tables share: one row per application of a namespace, its name unique in that
/// namespace, its tokens removed with it. The operations below serve both tables, so each rule is written once; the
/// public methods in AppDatabase+Containers.swift and AppDatabase+Functions.swift name them for each kind.
protocol ApplicationRecord: FetchableRecord, PersistableRecord, Sendable {
    associatedtype Value: Sendable
    /// The row of a domain value.
    init(_ value: Value)
    /// The domain value of this row.
    var value: Value { get }
    var id: String { get }
    var namespace_id: String { get }
    /// The kind named in errors (`Container was not found`, `… already exist`).
    static var kind: ResourceKind { get }
}

extension ContainerRecord: ApplicationRecord {
    var value: Container { container }
    static var kind: ResourceKind { .container }
}

extension FunctionRecord: ApplicationRecord {
    var value: Function { function }
    static var kind: ResourceKind { .function }
}

extension AppDatabase {
    /// Stores a new application; its namespace must still exist and its name be free there.
    func createApplication<R: ApplicationRecord>(_ record: R, name: String) throws(ScwError) {
        try write { db in
            guard try NamespaceRecord.exists(db, key: record.namespace_id) else {
                throw ScwError.notFound(.namespace, id: record.namespace_id)
            }
            if try R.filter(Column("namespace_id") == record.namespace_id && Column("name") == name).fetchCount(db) > 0 {
                throw ScwError.alreadyExists(R.kind, name: name)
            }
            try record.insert(db)
        }
    }

    /// An application by id, through its row cache (a GET on the hot path).
    func application<R: ApplicationRecord>(_: R.Type, id: String, cache: RowCache<R.Value>) throws(ScwError) -> R.Value? {
        try cachedRead(cache, id: id) { db in
            try R.fetchOne(db.cachedStatement(sql: "SELECT * FROM \(R.databaseTableName) WHERE id = ?"), arguments: [id])?.value
        }
    }

    /// One page of applications and the count of all matches. The page's ids come from the table's indexes; each row
    /// then comes from the row cache when no write committed since it was decoded (SDK waiters and test suites list
    /// the same objects again and again), else from the table.
    func applications<R: ApplicationRecord>(_: R.Type, matching q: ContainerQuery, cache: RowCache<R.Value>) throws(ScwError) -> Page<R.Value> {
        let generation = self.generation
        return try read { db in
            let (ids, total) = try Self.pageIDs(Self.filtered(R.all(), q), q.page, in: db)
            var found: [String: R.Value] = [:]
            var missing: [String] = []
            for id in ids {
                if let hit = cache.value(for: id, generation: generation) { found[id] = hit } else { missing.append(id) }
            }
            if !missing.isEmpty {
                for record in try R.fetchAll(db, keys: missing) {
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
    func updateApplication<R: ApplicationRecord>(_: R.Type, id: String, _ change: @Sendable (inout R.Value, Namespace) throws -> Void)
        throws(ScwError) -> R.Value? {
        try write { db in
            guard let record = try R.fetchOne(db, key: id),
                  let ns = try NamespaceRecord.fetchOne(db, key: record.namespace_id)?.namespace else { return nil }
            var value = record.value
            try change(&value, ns)
            try R(value).update(db)
            return value
        }
    }

    /// Deletes an application and the tokens scoped to it (what hangs off it in other tables goes by cascade);
    /// `check` may throw to refuse. Returns what was deleted.
    func deleteApplication<R: ApplicationRecord>(_: R.Type, id: String, _ check: @Sendable (R.Value) throws -> Void) throws(ScwError) -> R.Value? {
        try write { db in
            guard let record = try R.fetchOne(db, key: id) else { return nil }
            try check(record.value)
            try db.execute(sql: "DELETE FROM token WHERE application_id = ?", arguments: [id])
            try record.delete(db)
            return record.value
        }
    }

    /// The application with this name, when exactly one of its kind has it (fixtures name them).
    func application<R: ApplicationRecord>(_: R.Type, named name: String) throws(ScwError) -> R.Value? {
        try read { db in
            let rows = try R.filter(Column("name") == name).limit(2).fetchAll(db)
            return rows.count == 1 ? rows[0].value : nil
        }
    }
}
