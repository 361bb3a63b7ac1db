import GRDB
import ScwDomain

extension AppDatabase {
    /// Stores a new namespace with its key (when `key` yields one, in the same transaction, so a namespace is never
    /// half-written); returns it as stored. A name already used by the same kind, region and project is `alreadyExists`.
    @discardableResult
    public func createNamespace(_ namespace: Namespace, key: KeySource? = nil) throws(ScwError) -> Namespace {
        try write { db in
            let taken = try NamespaceRecord
                .filter(Column("kind") == namespace.kind.rawValue && Column("region") == namespace.region.rawValue
                        && Column("project_id") == namespace.projectID.rawValue && Column("name") == namespace.name)
                .fetchCount(db) > 0
            if taken { throw ScwError.alreadyExists(.namespace, name: namespace.name) }
            var stored = namespace
            try NamespaceRecord(stored).insert(db)
            if let key { stored.keyReady = try Self.attachKey(key, to: namespace.id, in: db) }
            return stored
        }
    }

    /// A namespace by id, whatever its kind or region (the caller checks both).
    public func namespace(id: NamespaceID) throws(ScwError) -> Namespace? {
        // A cached statement: this read is on the hot path of most requests.
        try cachedRead(caches.namespaces, id: id.rawValue) { db in
            try NamespaceRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM namespace WHERE id = ?"), arguments: [id.rawValue])?.namespace
        }
    }

    /// A namespace by its unique name.
    public func namespace(named name: String, kind: NamespaceKind, region: Region, project: ProjectID) throws(ScwError) -> Namespace? {
        try read { db in
            try NamespaceRecord.filter(Column("kind") == kind.rawValue && Column("region") == region.rawValue
                                       && Column("project_id") == project.rawValue && Column("name") == name).fetchOne(db)?.namespace
        }
    }

    /// One page of namespaces matching `query`, and the count of all matches.
    public func namespaces(matching query: NamespaceQuery) throws(ScwError) -> Page<Namespace> {
        try read { db in
            var request = NamespaceRecord
                .filter(Column("kind") == query.kind.rawValue && Column("region") == query.region.rawValue)
            if let projects = query.projectIDs {
                request = request.filter(projects.map(\.rawValue).contains(Column("project_id")))
            }
            if let org = query.organizationID {
                request = request.filter(Column("organization_id") == org.rawValue)
            }
            if let name = query.nameContains, !name.isEmpty {
                request = request.filter(Column("name").like("%\(Self.escapeLike(name))%", escape: "\\"))
            }
            let (rows, total) = try Self.page(request, query.page, in: db)
            return Page(items: rows.map(\.namespace), totalCount: total)
        }
    }

    /// Reads, changes and writes one namespace in a single transaction, so concurrent updates are serialised.
    /// `change` may throw a domain error to refuse; nothing is written then.
    public func updateNamespace(id: NamespaceID, _ change: @Sendable (inout Namespace) throws -> Void) throws(ScwError) -> Namespace? {
        try write { db in
            guard let record = try NamespaceRecord.fetchOne(db, key: id.rawValue) else { return nil }
            var namespace = record.namespace
            try change(&namespace)
            try NamespaceRecord(namespace).update(db)
            return namespace
        }
    }

    /// Deletes a namespace (and, through the schema's cascades, everything in it); returns what was deleted.
    public func deleteNamespace(id: NamespaceID, _ check: @Sendable (Namespace) throws -> Void) throws(ScwError) -> Namespace? {
        try write { db in
            guard let record = try NamespaceRecord.fetchOne(db, key: id.rawValue) else { return nil }
            try check(record.namespace)
            try record.delete(db)
            return record.namespace
        }
    }

    /// Escapes `%`, `_` and `\` for a LIKE pattern.
    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}

extension AppDatabase {
    /// Namespaces of a kind with this name (in any region or project).
    public func namespaces(named name: String, kind: NamespaceKind) throws(ScwError) -> [Namespace] {
        try read { db in
            try NamespaceRecord.filter(Column("name") == name && Column("kind") == kind.rawValue).fetchAll(db).map(\.namespace)
        }
    }
}
