import Foundation
import GRDB
import ScwDomain

// Registry v1: namespaces created through the registry API live in `registry_namespace`; the `funcscw…` namespace of
// each container or function namespace is not stored twice but read from the `namespace` row (its
// `registry_namespace_id`, name and endpoint suffix), so it exists exactly as long as that namespace does. Images and
// tags (from fixtures) point at either kind of registry namespace by id; triggers delete them with their namespace.

extension AppDatabase {
    /// The registry tables. Registered after every earlier migration.
    static func registerRegistryMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10 registry") { db in
            try db.create(table: "registry_namespace") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("region", .text).notNull()
                // Wiping or replacing identities takes the project's registry namespaces with it.
                t.column("project_id", .text).notNull().references("project", onDelete: .cascade)
                t.column("organization_id", .text).notNull()
                t.column("description", .text).notNull()
                t.column("is_public", .boolean).notNull()
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
            }
            // Names are unique per region across every organization (the registry's DNS path).
            try db.create(index: "registry_namespace_name", on: "registry_namespace", columns: ["region", "name"], unique: true)
            // A registry namespace is looked up by the id v1beta1 shows beside its serverless namespace.
            try db.create(index: "namespace_registry", on: "namespace", columns: ["registry_namespace_id"])
            try db.create(table: "registry_image") { t in
                t.primaryKey("id", .text)
                t.column("namespace_id", .text).notNull()  // a registry_namespace id or a namespace's registry_namespace_id
                t.column("name", .text).notNull()
                t.column("visibility", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("project_id", .text).notNull()
                t.column("organization_id", .text).notNull()
                t.column("region", .text).notNull()
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
            }
            try db.create(index: "registry_image_name", on: "registry_image", columns: ["namespace_id", "name"], unique: true)
            try db.create(table: "registry_tag") { t in
                t.primaryKey("id", .text)
                t.column("image_id", .text).notNull().references("registry_image", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("digest", .text).notNull()
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
            }
            try db.create(index: "registry_tag_name", on: "registry_tag", columns: ["image_id", "name"], unique: true)
            // Deleting a registry namespace, or the serverless namespace that owns one, deletes its images (and,
            // through the foreign key, their tags).
            try db.execute(sql: """
                CREATE TRIGGER registry_namespace_images AFTER DELETE ON registry_namespace BEGIN
                    DELETE FROM registry_image WHERE namespace_id = OLD.id;
                END;
                CREATE TRIGGER namespace_registry_images AFTER DELETE ON namespace BEGIN
                    DELETE FROM registry_image WHERE namespace_id = OLD.registry_namespace_id;
                END;
                """)
        }
    }
}

extension AppDatabase {
    /// The SQL function that names a serverless namespace's registry namespace (`funcscw<endpoint prefix>`), so that the
    /// name rule stays the domain's (`RegistryNamespace.serverlessName`).
    private static func addRegistryName(to db: Database) {
        db.add(function: DatabaseFunction("scw_registry_name", argumentCount: 2, pure: true) { values in
            RegistryNamespace.serverlessName(namespaceName: String.fromDatabaseValue(values[0]) ?? "",
                                             endpointSuffix: String.fromDatabaseValue(values[1]) ?? "")
        })
    }

    /// Every registry namespace, as one relation: stored ones, then those of serverless namespaces whose creation has
    /// settled at `?` (v1beta1 shows `registry_namespace_id` only from then on). Binds one argument, the instant.
    /// `named` false: the serverless ones' names are left NULL (for counts and creation-ordered pages, which do not read
    /// them: naming 5,000 namespaces costs about half of such a list).
    private static func namespaceUnion(named: Bool = true) -> String {
        """
        SELECT id, name, description, project_id, organization_id, region, is_public, created_at, updated_at, NULL AS owner_id
        FROM registry_namespace
        UNION ALL
        SELECT registry_namespace_id, \(named ? "scw_registry_name(name, endpoint_suffix)" : "NULL"), '', project_id, organization_id,
               region, 0, created_at, created_at, id
        FROM namespace WHERE phase != 'creating' OR (settles_at <= ? AND has_key)
        """
    }

    private static let namespaceUnion = namespaceUnion()

    /// The registry namespace columns plus its image count and size.
    private static let namespaceSelect = """
        SELECT n.*, (SELECT count(*) FROM registry_image i WHERE i.namespace_id = n.id) AS image_count,
               (SELECT coalesce(sum(size), 0) FROM registry_image i WHERE i.namespace_id = n.id) AS total_size
        FROM (\(namespaceUnion)) n
        """

    private static func registryNamespace(_ row: Row) -> RegistryNamespace {
        var ns = RegistryNamespace(
            id: RegistryNamespaceID(trusted: row["id"]), name: row["name"], description: row["description"],
            projectID: ProjectID(trusted: row["project_id"]), organizationID: OrganizationID(trusted: row["organization_id"]),
            region: Region(rawValue: row["region"]) ?? .frPar, isPublic: row["is_public"],
            createdAt: Timestamp(nanoseconds: row["created_at"]), updatedAt: Timestamp(nanoseconds: row["updated_at"]),
            ownerNamespaceID: (row["owner_id"] as String?).map { NamespaceID(trusted: $0) })
        ns.imageCount = row["image_count"]
        ns.size = row["total_size"]
        return ns
    }

    /// `ORDER BY` of a registry list, ties broken by id.
    private static func orderClause(_ order: ListOrder, prefix: String) -> String {
        switch order {
        case .createdAtAsc: "ORDER BY \(prefix)created_at ASC, \(prefix)id ASC"
        case .createdAtDesc: "ORDER BY \(prefix)created_at DESC, \(prefix)id DESC"
        case .nameAsc: "ORDER BY \(prefix)name ASC, \(prefix)id ASC"
        case .nameDesc: "ORDER BY \(prefix)name DESC, \(prefix)id DESC"
        }
    }

    /// `AND <column> IN (?, …)` for a project scope (nil = no filter), with its arguments.
    private static func projectFilter(_ projects: Set<ProjectID>?, column: String) -> (sql: String, arguments: [String]) {
        guard let projects else { return ("", []) }
        let ids = projects.map(\.rawValue).sorted()
        return (" AND \(column) IN (\(ids.map { _ in "?" }.joined(separator: ", ")))", ids)
    }

    /// A registry namespace by id, whatever its region or project (the caller checks both), as of `now`.
    public func registryNamespace(id: RegistryNamespaceID, now: Timestamp) throws(ScwError) -> RegistryNamespace? {
        try read { db in
            Self.addRegistryName(to: db)
            return try Row.fetchOne(db, sql: "\(Self.namespaceSelect) WHERE n.id = ?", arguments: [now.nanoseconds, id.rawValue])
                .map(Self.registryNamespace)
        }
    }

    /// A registry namespace by its name in a region, as of `now`.
    public func registryNamespace(named name: String, region: Region, now: Timestamp) throws(ScwError) -> RegistryNamespace? {
        try read { db in
            Self.addRegistryName(to: db)
            return try Row.fetchOne(db, sql: "\(Self.namespaceSelect) WHERE n.region = ? AND n.name = ?",
                                    arguments: [now.nanoseconds, region.rawValue, name]).map(Self.registryNamespace)
        }
    }

    /// One page of registry namespaces matching `query` as of `now`, and the count of all matches.
    public func registryNamespaces(matching query: RegistryQuery, now: Timestamp) throws(ScwError) -> Page<RegistryNamespace> {
        if query.projectIDs?.isEmpty == true { return Page(items: [], totalCount: 0) }
        return try read { db in
            Self.addRegistryName(to: db)
            var filter = " WHERE n.region = ? AND n.organization_id = ?"
            var arguments: [any DatabaseValueConvertible] = [now.nanoseconds, query.region.rawValue, query.organizationID.rawValue]
            let projects = Self.projectFilter(query.projectIDs, column: "n.project_id")
            filter += projects.sql
            arguments += projects.arguments
            if let name = query.name {
                filter += " AND n.name = ?"
                arguments.append(name)
            }
            let byName = query.name != nil || query.page.order == .nameAsc || query.page.order == .nameDesc
            let union = Self.namespaceUnion(named: byName)
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(union)) n\(filter)", arguments: StatementArguments(arguments)) ?? 0
            // The page's ids first (sorting only what the order needs), then their names, image counts and sizes.
            let order = Self.orderClause(query.page.order, prefix: "n.")
            let page = "SELECT n.id FROM (\(union)) n\(filter) \(order) LIMIT ? OFFSET ?"
            let rows = try Row.fetchAll(
                db, sql: "\(Self.namespaceSelect) WHERE n.id IN (\(page)) \(order)",
                arguments: StatementArguments([now.nanoseconds] + arguments + [query.page.pageSize, query.page.offset]))
            return Page(items: rows.map(Self.registryNamespace), totalCount: total)
        }
    }

    /// Stores a registry namespace created through the API. Its name is refused when any registry namespace of the
    /// region has it, a serverless namespace's included (`alreadyExists`).
    public func createRegistryNamespace(_ ns: RegistryNamespace, now: Timestamp) throws(ScwError) -> RegistryNamespace {
        try write { db in
            Self.addRegistryName(to: db)
            let taken = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM (\(Self.namespaceUnion)) n WHERE n.region = ? AND n.name = ?)",
                arguments: [now.nanoseconds, ns.region.rawValue, ns.name]) ?? false
            if taken { throw ScwError.alreadyExists(.namespace, name: ns.name) }
            try db.execute(
                sql: """
                    INSERT INTO registry_namespace (id, name, region, project_id, organization_id, description, is_public, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [ns.id.rawValue, ns.name, ns.region.rawValue, ns.projectID.rawValue, ns.organizationID.rawValue,
                            ns.description, ns.isPublic, ns.createdAt.nanoseconds, ns.updatedAt.nanoseconds])
            return ns
        }
    }

    /// Changes the description and visibility of a stored registry namespace; nil when there is none with that id.
    public func updateRegistryNamespace(id: RegistryNamespaceID, description: String?, isPublic: Bool?, now: Timestamp) throws(ScwError) -> RegistryNamespace? {
        try write { db in
            Self.addRegistryName(to: db)
            try db.execute(
                sql: """
                    UPDATE registry_namespace SET description = coalesce(?, description), is_public = coalesce(?, is_public), updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [description, isPublic, now.nanoseconds, id.rawValue])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "\(Self.namespaceSelect) WHERE n.id = ?", arguments: [now.nanoseconds, id.rawValue])
                .map(Self.registryNamespace)
        }
    }

    /// Deletes a stored registry namespace and its images; returns it as it was, nil when there is none.
    public func deleteRegistryNamespace(id: RegistryNamespaceID, now: Timestamp) throws(ScwError) -> RegistryNamespace? {
        try write { db in
            Self.addRegistryName(to: db)
            guard let row = try Row.fetchOne(db, sql: "\(Self.namespaceSelect) WHERE n.id = ? AND n.owner_id IS NULL",
                                             arguments: [now.nanoseconds, id.rawValue]) else { return nil }
            try db.execute(sql: "DELETE FROM registry_namespace WHERE id = ?", arguments: [id.rawValue])
            return Self.registryNamespace(row)
        }
    }
}

extension AppDatabase {
    private static let imageSelect = """
        SELECT i.*, (SELECT json_group_array(name) FROM
                     (SELECT name FROM registry_tag t WHERE t.image_id = i.id ORDER BY t.created_at, t.id)) AS tag_names
        FROM registry_image i
        """

    private static func registryImage(_ row: Row) -> RegistryImage {
        var image = RegistryImage(
            id: RegistryImageID(trusted: row["id"]), namespaceID: RegistryNamespaceID(trusted: row["namespace_id"]), name: row["name"],
            visibility: ImageVisibility(rawValue: row["visibility"]) ?? .inherit, size: row["size"],
            projectID: ProjectID(trusted: row["project_id"]), organizationID: OrganizationID(trusted: row["organization_id"]),
            region: Region(rawValue: row["region"]) ?? .frPar, createdAt: Timestamp(nanoseconds: row["created_at"]),
            updatedAt: Timestamp(nanoseconds: row["updated_at"]))
        let names: String = row["tag_names"] ?? "[]"
        image.tags = (try? JSONDecoder().decode([String].self, from: Data(names.utf8))) ?? []
        return image
    }

    /// An image by id (the caller checks region and project).
    public func registryImage(id: RegistryImageID) throws(ScwError) -> RegistryImage? {
        try read { db in try Row.fetchOne(db, sql: "\(Self.imageSelect) WHERE i.id = ?", arguments: [id.rawValue]).map(Self.registryImage) }
    }

    /// An image by its name in a registry namespace.
    public func registryImage(named name: String, in namespace: RegistryNamespaceID) throws(ScwError) -> RegistryImage? {
        try read { db in
            try Row.fetchOne(db, sql: "\(Self.imageSelect) WHERE i.namespace_id = ? AND i.name = ?", arguments: [namespace.rawValue, name])
                .map(Self.registryImage)
        }
    }

    /// One page of images matching `query`, and the count of all matches.
    public func registryImages(matching query: RegistryQuery) throws(ScwError) -> Page<RegistryImage> {
        if query.projectIDs?.isEmpty == true { return Page(items: [], totalCount: 0) }
        return try read { db in
            var filter = " WHERE i.region = ? AND i.organization_id = ?"
            var arguments: [any DatabaseValueConvertible] = [query.region.rawValue, query.organizationID.rawValue]
            let projects = Self.projectFilter(query.projectIDs, column: "i.project_id")
            filter += projects.sql
            arguments += projects.arguments
            if let namespace = query.namespaceID {
                filter += " AND i.namespace_id = ?"
                arguments.append(namespace.rawValue)
            }
            if let name = query.name {
                filter += " AND i.name = ?"
                arguments.append(name)
            }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM registry_image i\(filter)", arguments: StatementArguments(arguments)) ?? 0
            let rows = try Row.fetchAll(db, sql: "\(Self.imageSelect)\(filter) \(Self.orderClause(query.page.order, prefix: "i.")) LIMIT ? OFFSET ?",
                                        arguments: StatementArguments(arguments + [query.page.pageSize, query.page.offset]))
            return Page(items: rows.map(Self.registryImage), totalCount: total)
        }
    }

    /// Stores an image and its tags (fixtures), replacing an image of the same id; returns it as stored.
    @discardableResult
    public func saveRegistryImage(_ image: RegistryImage, tags: [RegistryTag]) throws(ScwError) -> RegistryImage {
        try write { db in
            try db.execute(sql: "DELETE FROM registry_image WHERE id = ?", arguments: [image.id.rawValue])
            try db.execute(
                sql: """
                    INSERT INTO registry_image (id, namespace_id, name, visibility, size, project_id, organization_id, region, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [image.id.rawValue, image.namespaceID.rawValue, image.name, image.visibility.rawValue, image.size,
                            image.projectID.rawValue, image.organizationID.rawValue, image.region.rawValue,
                            image.createdAt.nanoseconds, image.updatedAt.nanoseconds])
            for tag in tags {
                try db.execute(
                    sql: "INSERT INTO registry_tag (id, image_id, name, digest, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [tag.id.rawValue, image.id.rawValue, tag.name, tag.digest, tag.createdAt.nanoseconds, tag.updatedAt.nanoseconds])
            }
            return try Row.fetchOne(db, sql: "\(Self.imageSelect) WHERE i.id = ?", arguments: [image.id.rawValue]).map(Self.registryImage) ?? image
        }
    }

    /// Sets an image's visibility; nil when there is no such image.
    public func updateRegistryImage(id: RegistryImageID, visibility: ImageVisibility, now: Timestamp) throws(ScwError) -> RegistryImage? {
        try write { db in
            try db.execute(sql: "UPDATE registry_image SET visibility = ?, updated_at = ? WHERE id = ?",
                           arguments: [visibility.rawValue, now.nanoseconds, id.rawValue])
            return try Row.fetchOne(db, sql: "\(Self.imageSelect) WHERE i.id = ?", arguments: [id.rawValue]).map(Self.registryImage)
        }
    }

    /// Deletes an image and its tags; returns it as it was.
    public func deleteRegistryImage(id: RegistryImageID) throws(ScwError) -> RegistryImage? {
        try write { db in
            guard let image = try Row.fetchOne(db, sql: "\(Self.imageSelect) WHERE i.id = ?", arguments: [id.rawValue]).map(Self.registryImage)
            else { return nil }
            try db.execute(sql: "DELETE FROM registry_image WHERE id = ?", arguments: [id.rawValue])
            return image
        }
    }
}

extension AppDatabase {
    private static let tagSelect = """
        SELECT t.*, i.project_id, i.organization_id, i.region FROM registry_tag t JOIN registry_image i ON i.id = t.image_id
        """

    private static func registryTag(_ row: Row) -> RegistryTag {
        RegistryTag(id: RegistryTagID(trusted: row["id"]), imageID: RegistryImageID(trusted: row["image_id"]), name: row["name"],
                    digest: row["digest"], createdAt: Timestamp(nanoseconds: row["created_at"]),
                    updatedAt: Timestamp(nanoseconds: row["updated_at"]), projectID: ProjectID(trusted: row["project_id"]),
                    organizationID: OrganizationID(trusted: row["organization_id"]), region: Region(rawValue: row["region"]) ?? .frPar)
    }

    /// A tag by id, with its image's project and region (the caller checks both).
    public func registryTag(id: RegistryTagID) throws(ScwError) -> RegistryTag? {
        try read { db in try Row.fetchOne(db, sql: "\(Self.tagSelect) WHERE t.id = ?", arguments: [id.rawValue]).map(Self.registryTag) }
    }

    /// One page of an image's tags, optionally of one name, and the count of all matches.
    public func registryTags(of image: RegistryImageID, name: String?, page: PageRequest) throws(ScwError) -> Page<RegistryTag> {
        try read { db in
            var filter = " WHERE t.image_id = ?"
            var arguments: [any DatabaseValueConvertible] = [image.rawValue]
            if let name {
                filter += " AND t.name = ?"
                arguments.append(name)
            }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM registry_tag t\(filter)", arguments: StatementArguments(arguments)) ?? 0
            let rows = try Row.fetchAll(db, sql: "\(Self.tagSelect)\(filter) \(Self.orderClause(page.order, prefix: "t.")) LIMIT ? OFFSET ?",
                                        arguments: StatementArguments(arguments + [page.pageSize, page.offset]))
            return Page(items: rows.map(Self.registryTag), totalCount: total)
        }
    }

    /// Deletes a tag; returns it as it was.
    public func deleteRegistryTag(id: RegistryTagID) throws(ScwError) -> RegistryTag? {
        try write { db in
            guard let tag = try Row.fetchOne(db, sql: "\(Self.tagSelect) WHERE t.id = ?", arguments: [id.rawValue]).map(Self.registryTag)
            else { return nil }
            try db.execute(sql: "DELETE FROM registry_tag WHERE id = ?", arguments: [id.rawValue])
            return tag
        }
    }
}

extension AppDatabase {
    /// An API key by its access key (IAM's look-up).
    public func apiKey(accessKey: String) throws(ScwError) -> APIKey? {
        try read { db in try APIKeyRecord.fetchOne(db, key: accessKey)?.apiKey }
    }
}

/// The registry's part of the store, for `GET /_mock/state`.
public struct RegistrySnapshot: Sendable {
    /// Registry namespaces created through the API or fixtures (the `funcscw…` ones come with their namespaces).
    public var namespaces: [RegistryNamespace]
    /// Every image, with the digest of its first tag, and the container or function namespace whose registry
    /// namespace holds it (nil for a created registry namespace).
    public var images: [(image: RegistryImage, digest: String?, owner: NamespaceID?)]
}

extension AppDatabase {
    /// Stored registry namespaces and every image, in one read.
    public func registrySnapshot() throws(ScwError) -> RegistrySnapshot {
        try read { db in
            let namespaces = try Row.fetchAll(db, sql: """
                SELECT n.*, NULL AS owner_id, 0 AS image_count, 0 AS total_size FROM registry_namespace n ORDER BY created_at, id
                """).map(Self.registryNamespace)
            let owners = Dictionary(try Row.fetchAll(db, sql: "SELECT id, registry_namespace_id FROM namespace")
                .map { ($0["registry_namespace_id"] as String, NamespaceID(trusted: $0["id"])) }, uniquingKeysWith: { a, _ in a })
            let images = try Row.fetchAll(db, sql: "\(Self.imageSelect) ORDER BY i.created_at, i.id").map { row in
                let image = Self.registryImage(row)
                let digest = try String.fetchOne(db, sql: "SELECT digest FROM registry_tag WHERE image_id = ? ORDER BY created_at, id LIMIT 1",
                                                 arguments: [image.id.rawValue])
                return (image: image, digest: digest, owner: owners[image.namespaceID.rawValue])
            }
            return RegistrySnapshot(namespaces: namespaces, images: images)
        }
    }
}
