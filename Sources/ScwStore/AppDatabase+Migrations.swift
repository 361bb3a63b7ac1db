import GRDB

extension AppDatabase {
    /// The one migrator. Migrations are named and never edited once they land; add a new one instead.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 identity") { db in
            try db.create(table: "organization") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
            }
            try db.create(table: "project") { t in
                t.primaryKey("id", .text)
                t.column("organization_id", .text).notNull().references("organization", onDelete: .cascade)
                t.column("name", .text).notNull()
            }
            try db.create(table: "api_key") { t in
                t.primaryKey("access_key", .text)
                t.column("secret_digest", .text).notNull().unique()
                t.column("secret_key", .text).notNull()
                t.column("organization_id", .text).notNull().references("organization", onDelete: .cascade)
                t.column("project_ids", .text)  // JSON array; NULL = every project of the organization
                t.column("default_project_id", .text).notNull()
                t.column("expires_at", .integer)
            }
        }
        migrator.registerMigration("v1 namespaces") { db in
            try db.create(table: "namespace") { t in
                t.primaryKey("id", .text)
                t.column("kind", .text).notNull()
                t.column("name", .text).notNull()
                t.column("project_id", .text).notNull()
                t.column("organization_id", .text).notNull()
                t.column("region", .text).notNull()
                t.column("description", .text).notNull()
                t.column("phase", .text).notNull()
                t.column("settles_at", .integer).notNull()
                t.column("environment_variables", .text).notNull()
                t.column("secrets", .text).notNull()
                t.column("tags", .text).notNull()
                t.column("registry_namespace_id", .text).notNull()
                t.column("endpoint_suffix", .text).notNull()
                t.column("vpc_integration_activated", .boolean).notNull()
                t.column("error_message", .text)
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
            }
            // Names are unique per kind, region and project (functions answer 409 "Namespace already exist").
            try db.create(index: "namespace_unique_name", on: "namespace",
                          columns: ["kind", "region", "project_id", "name"], unique: true)
            try db.create(index: "namespace_listing", on: "namespace", columns: ["kind", "region", "created_at", "id"])
        }
        registerKeyMigrations(&migrator)
        registerContainerMigrations(&migrator)
        registerFunctionMigrations(&migrator)
        registerTriggerMigrations(&migrator)
        migrator.registerMigration("v6 runtime") { db in
            // Plain secret values for the processes the runtime launches (the APIs only ever show hashes).
            for table in ["namespace", "container", "function"] {
                try db.alter(table: table) { t in t.add(column: "secret_values", .text).notNull().defaults(to: "{}") }
            }
            // The gateway finds an application by the host a call was sent to.
            try db.create(index: "container_domain", on: "container", columns: ["domain_name"])
            try db.create(index: "function_domain", on: "function", columns: ["domain_name"])
        }
        migrator.registerMigration("v7 list indexes") { db in
            // Lists filtered by namespace and sorted by creation (the SDKs' default) read an index, not the region.
            try db.create(index: "container_namespace_listing", on: "container", columns: ["namespace_id", "created_at", "id"])
            try db.create(index: "function_namespace_listing", on: "function", columns: ["namespace_id", "created_at", "id"])
        }
        migrator.registerMigration("v8 list count indexes") { db in
            // A list's total_count reads only this index (every column its filters compare), not each row: counting
            // 10,000 containers of a namespace went from about 2.8 ms to 0.4 ms.
            try db.create(index: "container_scope", on: "container", columns: ["region", "organization_id", "project_id", "namespace_id"])
            try db.create(index: "function_scope", on: "function", columns: ["region", "organization_id", "project_id", "namespace_id"])
        }
        migrator.registerMigration("v9 legacy tokens") { db in
            // The gateway accepts only tokens the store knows. Legacy `GET …/issue-jwt` tokens cannot be
            // listed or revoked (2021 docs), so they live here, out of the tokens API's sight; deleting the
            // namespace (or a reset that wipes or restores the store) forgets them.
            try db.create(table: "legacy_token") { t in
                t.primaryKey("jti", .text)
                t.column("api", .text).notNull()
                t.column("namespace_id", .text).notNull().references("namespace", onDelete: .cascade)
                t.column("application_id", .text)
                t.column("expires_at", .integer)
                t.column("created_at", .integer).notNull()
            }
            // Expired rows are pruned by expiry; the foreign key's cascade reads by namespace.
            try db.create(index: "legacy_token_expiry", on: "legacy_token", columns: ["expires_at"])
            try db.create(index: "legacy_token_namespace", on: "legacy_token", columns: ["namespace_id"])
        }
        registerRegistryMigrations(&migrator)
        return migrator
    }
}

extension AppDatabase {
    /// Keys and tokens: one RSA key per namespace, a pool of pre-generated keys, API tokens and
    /// the ids of revoked tokens.
    static func registerKeyMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2 keys and tokens") { db in
            try db.alter(table: "namespace") { t in
                t.add(column: "has_key", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "namespace_key") { t in
                t.primaryKey("namespace_id", .text).references("namespace", onDelete: .cascade)
                t.column("private_pem", .text).notNull()
                t.column("bits", .integer).notNull()
            }
            try db.create(table: "key_pool") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("private_pem", .text).notNull()
                t.column("bits", .integer).notNull()
            }
            try db.create(table: "token") { t in
                t.primaryKey("id", .text)
                t.column("api", .text).notNull()
                t.column("region", .text).notNull()
                t.column("namespace_id", .text).notNull().references("namespace", onDelete: .cascade)
                t.column("scope", .text).notNull()
                t.column("application_id", .text)
                t.column("project_id", .text).notNull()
                t.column("organization_id", .text).notNull()
                t.column("description", .text).notNull()
                t.column("expires_at", .integer)
                t.column("created_at", .integer).notNull()
                t.column("settles_at", .integer).notNull()
            }
            try db.create(index: "token_listing", on: "token", columns: ["api", "region", "created_at", "id"])
            try db.create(table: "revoked_token") { t in
                t.primaryKey("jti", .text)
                t.column("revoked_at", .integer).notNull()
            }
        }
    }
}
