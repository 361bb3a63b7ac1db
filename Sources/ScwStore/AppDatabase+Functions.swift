import Foundation
import GRDB
import GRDBSQLite
import ScwDomain

extension AppDatabase {
    /// Functions (issue 5): one row per function, its uploaded archive, and pending upload authorisations.
    static func registerFunctionMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4 functions") { db in
            try db.create(table: "function") { t in
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
                t.column("has_code", .boolean).notNull()
                t.column("created_at", .integer).notNull()
                t.column("updated_at", .integer).notNull()
            }
            try db.create(index: "function_unique_name", on: "function", columns: ["namespace_id", "name"], unique: true)
            try db.create(index: "function_listing", on: "function", columns: ["region", "created_at", "id"])
            try db.create(table: "function_code") { t in
                t.primaryKey("function_id", .text).references("function", onDelete: .cascade)
                t.column("archive", .blob).notNull()
                t.column("uploaded_at", .integer).notNull()
            }
            // Pre-signed URL grants (S3 style): `upload` of exactly content_length bytes, or `download`.
            try db.create(table: "function_url_grant") { t in
                t.primaryKey("token", .text)
                t.column("function_id", .text).notNull().references("function", onDelete: .cascade)
                t.column("purpose", .text).notNull()
                t.column("content_length", .integer).notNull()
                t.column("expires_at", .integer).notNull()
            }
        }
    }
}

/// One row of the `function` table.
struct FunctionRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "function"
    var id: String
    var namespace_id: String
    var name: String
    var region: String
    var project_id: String
    var organization_id: String
    var spec: FunctionSpec
    var secrets: [HashedSecret]
    var phase: String
    var settles_at: Int64
    var error_message: String?
    var ready_at: Int64?
    var domain_name: String
    var has_code: Bool
    var created_at: Int64
    var updated_at: Int64
    var secret_values: [String: String]

    init(_ f: Function) {
        id = f.id.rawValue
        namespace_id = f.namespaceID.rawValue
        name = f.name
        region = f.region.rawValue
        project_id = f.projectID.rawValue
        organization_id = f.organizationID.rawValue
        spec = f.spec
        secrets = f.secrets
        phase = f.phase.rawValue
        settles_at = f.settlesAt.nanoseconds
        error_message = f.errorMessage
        ready_at = f.readyAt?.nanoseconds
        domain_name = f.domainName
        has_code = f.hasCode
        created_at = f.createdAt.nanoseconds
        updated_at = f.updatedAt.nanoseconds
        secret_values = f.secretValues
    }

    var function: Function {
        var f = Function(id: FunctionID(trusted: id), namespaceID: NamespaceID(trusted: namespace_id), name: name,
                 region: Region(rawValue: region) ?? .frPar, projectID: ProjectID(trusted: project_id),
                 organizationID: OrganizationID(trusted: organization_id), spec: spec, secrets: secrets,
                 phase: ApplicationPhase(rawValue: phase) ?? .error, settlesAt: Timestamp(nanoseconds: settles_at),
                 errorMessage: error_message, readyAt: ready_at.map { Timestamp(nanoseconds: $0) }, domainName: domain_name,
                 hasCode: has_code, createdAt: Timestamp(nanoseconds: created_at), updatedAt: Timestamp(nanoseconds: updated_at))
        f.secretValues = secret_values
        return f
    }
}

extension AppDatabase {
    /// Stores a new function; its namespace must still exist and its name be free there.
    public func createFunction(_ function: Function) throws(ScwError) {
        try createApplication(FunctionRecord(function), name: function.name)
    }

    /// A function by id.
    public func function(id: FunctionID) throws(ScwError) -> Function? {
        try application(FunctionRecord.self, id: id.rawValue, cache: caches.functions)
    }

    /// One page of functions and the count of all matches (same filters as containers).
    public func functions(matching q: ContainerQuery) throws(ScwError) -> Page<Function> {
        try applications(FunctionRecord.self, matching: q, cache: caches.functions)
    }

    /// Reads, changes and writes one function in a single transaction.
    public func updateFunction(id: FunctionID, _ change: @Sendable (inout Function, Namespace) throws -> Void) throws(ScwError) -> Function? {
        try updateApplication(FunctionRecord.self, id: id.rawValue, change)
    }

    /// Deletes a function, its code (by cascade) and its tokens; returns what was deleted.
    public func deleteFunction(id: FunctionID, _ check: @Sendable (Function) throws -> Void) throws(ScwError) -> Function? {
        try deleteApplication(FunctionRecord.self, id: id.rawValue, check)
    }

    /// Records a pre-signed URL grant: `upload` (of exactly `contentLength` bytes) or `download`.
    public func grantURL(token: String, function: FunctionID, purpose: String, contentLength: Int, expiresAt: Timestamp) throws(ScwError) {
        try write { db in
            try db.execute(sql: "DELETE FROM function_url_grant WHERE expires_at < ?", arguments: [expiresAt.nanoseconds - 7_200_000_000_000])
            try db.execute(sql: "INSERT INTO function_url_grant (token, function_id, purpose, content_length, expires_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [token, function.rawValue, purpose, contentLength, expiresAt.nanoseconds])
        }
    }

    /// Stores an uploaded archive if `token` grants exactly this upload (one use); returns false otherwise.
    public func storeUpload(token: String, function: FunctionID, archive: Data, now: Timestamp) throws(ScwError) -> Bool {
        try write { db in
            guard try Self.uploadGrantSize(db, token: token, function: function, now: now) == archive.count else { return false }
            try db.execute(sql: "DELETE FROM function_url_grant WHERE token = ?", arguments: [token])
            try db.execute(sql: "INSERT OR REPLACE INTO function_code (function_id, archive, uploaded_at) VALUES (?, ?, ?)",
                           arguments: [function.rawValue, archive, now.nanoseconds])
            try db.execute(sql: "UPDATE function SET has_code = 1 WHERE id = ?", arguments: [function.rawValue])
            return true
        }
    }

    /// The size an unexpired upload grant allows for a function; nil when `token` grants no upload to it.
    public func uploadGrantSize(token: String, function: FunctionID, now: Timestamp) throws(ScwError) -> Int? {
        try read { db in try Self.uploadGrantSize(db, token: token, function: function, now: now) }
    }

    /// The one reading of an upload grant: the size it allows, nil when `token` grants no unexpired upload to `function`.
    static func uploadGrantSize(_ db: Database, token: String, function: FunctionID, now: Timestamp) throws -> Int? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT content_length, expires_at FROM function_url_grant WHERE token = ? AND function_id = ? AND purpose = 'upload'
            """, arguments: [token, function.rawValue]), (row["expires_at"] as Int64) > now.nanoseconds else { return nil }
        return row["content_length"] as Int
    }

    /// Stores an uploaded archive that was received into the file at `path` (`size` bytes), if `token` grants exactly
    /// this upload (one use); returns false otherwise. The file is copied into the row in chunks (SQLite's incremental
    /// blob writes), so the archive is never held in memory.
    public func storeUpload(token: String, function: FunctionID, file path: String, size: Int, now: Timestamp) throws(ScwError) -> Bool {
        try write { db in
            guard try Self.uploadGrantSize(db, token: token, function: function, now: now) == size else { return false }
            guard let input = FileHandle(forReadingAtPath: path) else { throw ScwError.unavailable("the received upload could not be read back from disk") }
            defer { try? input.close() }
            try db.execute(sql: "DELETE FROM function_url_grant WHERE token = ?", arguments: [token])
            try db.execute(sql: "INSERT OR REPLACE INTO function_code (function_id, archive, uploaded_at) VALUES (?, zeroblob(?), ?)",
                           arguments: [function.rawValue, size, now.nanoseconds])
            let rowID = db.lastInsertedRowID
            var blob: OpaquePointer?
            guard sqlite3_blob_open(db.sqliteConnection, "main", "function_code", "archive", rowID, 1, &blob) == SQLITE_OK, let blob else {
                throw DatabaseError(resultCode: .SQLITE_ERROR, message: "could not open the archive for writing")
            }
            defer { sqlite3_blob_close(blob) }
            var offset = 0
            while offset < size {
                guard let chunk = try input.read(upToCount: min(1 << 20, size - offset)), !chunk.isEmpty else {
                    throw ScwError.unavailable("the received upload is shorter than announced")
                }
                let code = chunk.withUnsafeBytes { sqlite3_blob_write(blob, $0.baseAddress, Int32(chunk.count), Int32(offset)) }
                guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "could not write the archive") }
                offset += chunk.count
            }
            try db.execute(sql: "UPDATE function SET has_code = 1 WHERE id = ?", arguments: [function.rawValue])
            return true
        }
    }

    /// The uploaded archive of a function if `token` grants its download.
    public func download(token: String, function: FunctionID, now: Timestamp) throws(ScwError) -> Data? {
        try read { db in
            guard let expires = try Int64.fetchOne(db, sql: """
                SELECT expires_at FROM function_url_grant WHERE token = ? AND function_id = ? AND purpose = 'download'
                """, arguments: [token, function.rawValue]), expires > now.nanoseconds else { return nil }
            return try Data.fetchOne(db, sql: "SELECT archive FROM function_code WHERE function_id = ?", arguments: [function.rawValue])
        }
    }
}

extension AppDatabase {
    /// Containers and functions that were ready or deploying (restarted after a restart of the mock).
    public func deployedApplications() throws(ScwError) -> [ApplicationRef] {
        try read { db in
            let containers = try String.fetchAll(db, sql: "SELECT id FROM container WHERE phase IN ('ready', 'creating', 'updating') ORDER BY created_at")
            let functions = try String.fetchAll(db, sql: "SELECT id FROM function WHERE phase IN ('ready', 'creating', 'updating') ORDER BY created_at")
            return containers.map { .container(ContainerID(trusted: $0)) } + functions.map { .function(FunctionID(trusted: $0)) }
        }
    }
}

extension AppDatabase {
    /// Ids of the containers and functions of a namespace.
    public func applicationIDs(inNamespace id: NamespaceID) throws(ScwError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT id FROM container WHERE namespace_id = ? UNION ALL SELECT id FROM function WHERE namespace_id = ?",
                                arguments: [id.rawValue, id.rawValue])
        }
    }
}

extension AppDatabase {
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

extension AppDatabase {
    /// The uploaded archive of a function.
    public func functionArchive(_ id: FunctionID) throws(ScwError) -> Data? {
        try read { db in try Data.fetchOne(db, sql: "SELECT archive FROM function_code WHERE function_id = ?", arguments: [id.rawValue]) }
    }
}

extension AppDatabase {
    /// Namespaces of a kind with this name (in any region or project).
    public func namespaces(named name: String, kind: NamespaceKind) throws(ScwError) -> [Namespace] {
        try read { db in
            try NamespaceRecord.filter(Column("name") == name && Column("kind") == kind.rawValue).fetchAll(db).map(\.namespace)
        }
    }

    /// The id of the container or function with this name in a namespace.
    public func applicationID(named name: String, in namespace: NamespaceID) throws(ScwError) -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT id FROM container WHERE namespace_id = ? AND name = ? UNION ALL SELECT id FROM function WHERE namespace_id = ? AND name = ?",
                                arguments: [namespace.rawValue, name, namespace.rawValue, name])
        }
    }

    /// The container with this name, when exactly one has it.
    public func container(named name: String) throws(ScwError) -> Container? {
        try application(ContainerRecord.self, named: name)
    }

    /// The function with this name, when exactly one has it.
    public func function(named name: String) throws(ScwError) -> Function? {
        try application(FunctionRecord.self, named: name)
    }
}
