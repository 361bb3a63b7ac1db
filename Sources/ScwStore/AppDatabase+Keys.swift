import GRDB
import ScwDomain

/// How a new namespace gets its key.
public enum KeySource: Sendable {
    /// Take a pre-generated key of this size from the pool, if one is there.
    case pool(bits: Int)
    /// A given key (a seeded namespace naming a key file).
    case provided(pem: String, bits: Int)
}

extension AppDatabase {
    /// The PEM private key of a namespace, if it has one yet.
    public func namespaceKeyPEM(_ id: NamespaceID) throws(ScwError) -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT private_pem FROM namespace_key WHERE namespace_id = ?", arguments: [id.rawValue]) }
    }

    /// Every namespace key (for the JWKS document).
    public func allNamespaceKeys() throws(ScwError) -> [(NamespaceID, String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT namespace_id, private_pem FROM namespace_key ORDER BY namespace_id")
                .map { (NamespaceID(trusted: $0["namespace_id"]), $0["private_pem"]) }
        }
    }

    /// Namespaces still waiting for a key, oldest first.
    public func keylessNamespaces(limit: Int) throws(ScwError) -> [NamespaceID] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT id FROM namespace WHERE has_key = 0 ORDER BY created_at LIMIT ?", arguments: [limit])
                .map { NamespaceID(trusted: $0) }
        }
    }

    /// Gives a keyless namespace its key (one waiting for the forge, or one keyed on first use: `has_key` set, no key row);
    /// false when it was deleted or got one meanwhile.
    public func assignKey(_ id: NamespaceID, pem: String, bits: Int) throws(ScwError) -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE namespace SET has_key = 1 WHERE id = ? AND NOT EXISTS (SELECT 1 FROM namespace_key WHERE namespace_id = ?)",
                           arguments: [id.rawValue, id.rawValue])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "INSERT INTO namespace_key (namespace_id, private_pem, bits) VALUES (?, ?, ?)",
                           arguments: [id.rawValue, pem, bits])
            return true
        }
    }

    /// Gives a keyless namespace a pre-generated key of `bits` from the pool; false when the pool has none, or the
    /// namespace was deleted or got a key meanwhile.
    public func assignPooledKey(_ id: NamespaceID, bits: Int) throws(ScwError) -> Bool {
        try write { db in
            let keyless = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM namespace WHERE id = ?) AND NOT EXISTS (SELECT 1 FROM namespace_key WHERE namespace_id = ?)
                """, arguments: [id.rawValue, id.rawValue]) ?? false
            return keyless ? try Self.attachKey(.pool(bits: bits), to: id, in: db) : false
        }
    }

    /// How many pre-generated keys of `bits` wait in the pool.
    public func poolSize(bits: Int) throws(ScwError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM key_pool WHERE bits = ?", arguments: [bits]) ?? 0 }
    }

    /// Removes from the pool the keys a namespace already has (a restored copy of the store may hold keys that were
    /// handed out after the copy was taken).
    public func discardPooledKeysInUse() throws(ScwError) {
        try write { db in
            try db.execute(sql: "DELETE FROM key_pool WHERE private_pem IN (SELECT private_pem FROM namespace_key)")
        }
    }

    /// Adds a pre-generated key to the pool.
    public func addPooledKey(pem: String, bits: Int) throws(ScwError) {
        try write { db in try db.execute(sql: "INSERT INTO key_pool (private_pem, bits) VALUES (?, ?)", arguments: [pem, bits]) }
    }

    /// Inside a namespace-creating transaction: attaches a key from `source`; returns whether one was attached.
    static func attachKey(_ source: KeySource, to id: NamespaceID, in db: Database) throws -> Bool {
        let pem: String
        let bits: Int
        switch source {
        case .provided(let p, let b):
            (pem, bits) = (p, b)
        case .pool(let wanted):
            guard let row = try Row.fetchOne(db, sql: "SELECT id, private_pem FROM key_pool WHERE bits = ? ORDER BY id LIMIT 1", arguments: [wanted]) else {
                return false
            }
            try db.execute(sql: "DELETE FROM key_pool WHERE id = ?", arguments: [row["id"] as Int64])
            (pem, bits) = (row["private_pem"], wanted)
        }
        try db.execute(sql: "INSERT INTO namespace_key (namespace_id, private_pem, bits) VALUES (?, ?, ?)", arguments: [id.rawValue, pem, bits])
        try db.execute(sql: "UPDATE namespace SET has_key = 1 WHERE id = ?", arguments: [id.rawValue])
        return true
    }
}
