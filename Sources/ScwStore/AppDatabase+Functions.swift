import Foundation
import GRDB
import GRDBSQLite
import ScwDomain

extension AppDatabase {
    /// Functions: one row per function, its uploaded archive, and pending upload authorisations.
    static func registerFunctionMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4 functions") { db in
            try createApplicationTable("function", in: db) { t in t.column("has_code", .boolean).notNull() }
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


extension AppDatabase {
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
    /// The uploaded archive of a function.
    public func functionArchive(_ id: FunctionID) throws(ScwError) -> Data? {
        try read { db in try Data.fetchOne(db, sql: "SELECT archive FROM function_code WHERE function_id = ?", arguments: [id.rawValue]) }
    }
}
