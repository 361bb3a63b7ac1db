import Foundation
import GRDB
import ScwDomain

extension AppDatabase {
    /// Inserts or replaces organizations, projects and API keys in one transaction (seed application).
    public func saveIdentity(organizations: [(id: OrganizationID, name: String)], projects: [Project], apiKeys: [APIKey]) throws(ScwError) {
        try write { db in
            for org in organizations {
                try OrganizationRecord(id: org.id.rawValue, name: org.name).save(db, onConflict: .replace)
            }
            for p in projects {
                try ProjectRecord(id: p.id.rawValue, organization_id: p.organizationID.rawValue, name: p.name)
                    .save(db, onConflict: .replace)
            }
            for key in apiKeys {
                // A key's secret may change between seeds: drop any other row holding the same secret first.
                try APIKeyRecord.filter(Column("secret_digest") == ConstantTime.digest(key.secretKey)).deleteAll(db)
                try APIKeyRecord(key).save(db, onConflict: .replace)
            }
        }
    }

    /// Every API key (loaded once at start into the authenticator's cache).
    public func allAPIKeys() throws(ScwError) -> [APIKey] {
        try read { db in try APIKeyRecord.fetchAll(db).map(\.apiKey) }
    }

    /// A project by id.
    public func project(id: ProjectID) throws(ScwError) -> Project? {
        try read { db in try ProjectRecord.fetchOne(db, key: id.rawValue)?.project }
    }

    /// Every organization with its name (for `GET /_mock/state`).
    public func allOrganizations() throws(ScwError) -> [(id: OrganizationID, name: String)] {
        try read { db in
            try OrganizationRecord.order(Column("id")).fetchAll(db).map { (OrganizationID(trusted: $0.id), $0.name) }
        }
    }

    /// Every project.
    public func allProjects() throws(ScwError) -> [Project] {
        try read { db in try ProjectRecord.order(Column("id")).fetchAll(db).map(\.project) }
    }
}

extension AppDatabase {
    /// Deletes every organization, project, key, namespace (with everything in it) and revoked-token record, in one
    /// transaction; the pool of pre-generated RSA keys is kept (it is not state a client can see).
    public func wipe() throws(ScwError) {
        try write { db in
            for table in ["namespace", "revoked_token", "api_key", "project", "organization"] {
                try db.execute(sql: "DELETE FROM \(table)")
            }
        }
    }
}

/// Everything in the store, for `GET /_mock/state`.
public struct StoreSnapshot: Sendable {
    public var projects: [Project]
    public var apiKeys: [APIKey]
    public var namespaces: [Namespace]
    public var namespaceKeys: [NamespaceID: String]
    public var containers: [Container]
    public var functions: [Function]
    /// The uploaded code of functions that have some.
    public var functionArchives: [FunctionID: Data]
    public var triggers: [Trigger]
    public var tokens: [Token]
}

extension AppDatabase {
    /// A consistent snapshot of the whole store (one read transaction).
    public func snapshot() throws(ScwError) -> StoreSnapshot {
        try read { db in
            StoreSnapshot(
                projects: try ProjectRecord.order(Column("id")).fetchAll(db).map(\.project),
                apiKeys: try APIKeyRecord.order(Column("access_key")).fetchAll(db).map(\.apiKey),
                namespaces: try NamespaceRecord.order(Column("created_at"), Column("id")).fetchAll(db).map(\.namespace),
                namespaceKeys: Dictionary(try Row.fetchAll(db, sql: "SELECT namespace_id, private_pem FROM namespace_key")
                    .map { (NamespaceID(trusted: $0["namespace_id"]), $0["private_pem"] as String) }, uniquingKeysWith: { a, _ in a }),
                containers: try ApplicationRow<Container>.order(Column("created_at"), Column("id")).fetchAll(db).map(\.value),
                functions: try ApplicationRow<Function>.order(Column("created_at"), Column("id")).fetchAll(db).map(\.value),
                functionArchives: Dictionary(try Row.fetchAll(db, sql: "SELECT function_id, archive FROM function_code")
                    .map { (FunctionID(trusted: $0["function_id"]), $0["archive"] as Data) }, uniquingKeysWith: { a, _ in a }),
                triggers: try TriggerRecord.order(Column("created_at"), Column("id")).fetchAll(db).map(\.model),
                tokens: try TokenRecord.order(Column("created_at"), Column("id")).fetchAll(db).map(\.token))
        }
    }
}
