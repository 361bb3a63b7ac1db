import GRDB
import ScwDomain

/// One row of the `token` table.
struct TokenRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "token"
    var id: String
    var api: String
    var region: String
    var namespace_id: String
    var scope: String
    var application_id: String?
    var project_id: String
    var organization_id: String
    var description: String
    var expires_at: Int64?
    var created_at: Int64
    var settles_at: Int64

    init(_ t: Token) {
        id = t.id.rawValue
        api = t.api.rawValue
        region = t.region.rawValue
        namespace_id = t.namespaceID.rawValue
        switch t.scope {
        case .namespace: scope = "namespace"; application_id = nil
        case .application(let app): scope = "application"; application_id = app
        }
        project_id = t.projectID.rawValue
        organization_id = t.organizationID.rawValue
        description = t.description
        expires_at = t.expiresAt?.nanoseconds
        created_at = t.createdAt.nanoseconds
        settles_at = t.settlesAt.nanoseconds
    }

    var token: Token {
        let ns = NamespaceID(trusted: namespace_id)
        return Token(id: TokenID(trusted: id), api: TokenAPI(rawValue: api) ?? .containers, region: Region(rawValue: region) ?? .frPar,
                     namespaceID: ns, scope: application_id.map { .application($0) } ?? .namespace(ns),
                     projectID: ProjectID(trusted: project_id), organizationID: OrganizationID(trusted: organization_id),
                     description: description, expiresAt: expires_at.map { Timestamp(nanoseconds: $0) },
                     createdAt: Timestamp(nanoseconds: created_at), settlesAt: Timestamp(nanoseconds: settles_at))
    }
}

extension AppDatabase {
    /// Stores a token, unless its namespace was deleted meanwhile (then `notFound`).
    public func createToken(_ token: Token) throws(ScwError) {
        try writeTokens { db in
            // A cached statement: preparing the query interface's `exists` on every token was a tenth of a token's
            // CPU besides its signature.
            let exists = try db.cachedStatement(sql: "SELECT 1 FROM namespace WHERE id = ?")
            guard try Int.fetchOne(exists, arguments: [token.namespaceID.rawValue]) != nil else {
                throw ScwError.notFound(.namespace, id: token.namespaceID.rawValue)
            }
            try TokenRecord(token).insert(db)
        }
    }

    /// A token of `api` by id.
    public func token(id: TokenID, api: TokenAPI) throws(ScwError) -> Token? {
        try read { db in
            try TokenRecord.filter(Column("id") == id.rawValue && Column("api") == api.rawValue).fetchOne(db)?.token
        }
    }

    /// One page of tokens and the count of all matches.
    public func tokens(matching q: TokenQuery) throws(ScwError) -> Page<Token> {
        try read { db in
            var request = TokenRecord.filter(Column("api") == q.api.rawValue && Column("region") == q.region.rawValue
                                             && Column("organization_id") == q.organizationID.rawValue)
            if let ns = q.namespaceID { request = request.filter(Column("namespace_id") == ns.rawValue && Column("scope") == "namespace") }
            if let app = q.applicationID { request = request.filter(Column("application_id") == app) }
            if let projects = q.projectIDs { request = request.filter(projects.map(\.rawValue).contains(Column("project_id"))) }
            let (rows, total) = try Self.page(request, q.page, in: db)
            return Page(items: rows.map(\.token), totalCount: total)
        }
    }

    /// Deletes a token and records its id as revoked, in one transaction; returns the deleted token.
    public func deleteToken(id: TokenID, api: TokenAPI, revokedAt: Timestamp, _ check: @Sendable (Token) throws -> Void) throws(ScwError) -> Token? {
        try writeTokens { db in
            guard let record = try TokenRecord.filter(Column("id") == id.rawValue && Column("api") == api.rawValue).fetchOne(db) else { return nil }
            try check(record.token)
            try record.delete(db)
            try db.execute(sql: "INSERT OR IGNORE INTO revoked_token (jti, revoked_at) VALUES (?, ?)", arguments: [id.rawValue, revokedAt.nanoseconds])
            return record.token
        }
    }

    /// Whether a token id was revoked.
    public func isRevoked(jti: String) throws(ScwError) -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM revoked_token WHERE jti = ?)", arguments: [jti]) ?? false }
    }

    /// Records a legacy `GET …/issue-jwt` token: the gateway accepts only ids the store knows, and these
    /// are not listed by the tokens API (they can be neither listed nor revoked, 2021 docs). Expired ones are pruned
    /// on the way (the verifier refuses them anyway). `notFound` when the namespace was deleted meanwhile.
    public func recordLegacyToken(jti: TokenID, api: TokenAPI, namespaceID: NamespaceID, applicationID: String?,
                                  expiresAt: Timestamp?, createdAt: Timestamp) throws(ScwError) {
        try writeTokens { db in
            guard try NamespaceRecord.exists(db, key: namespaceID.rawValue) else {
                throw ScwError.notFound(.namespace, id: namespaceID.rawValue)
            }
            try db.execute(sql: "DELETE FROM legacy_token WHERE expires_at <= ?", arguments: [createdAt.nanoseconds])
            try db.execute(sql: """
                INSERT OR REPLACE INTO legacy_token (jti, api, namespace_id, application_id, expires_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [jti.rawValue, api.rawValue, namespaceID.rawValue, applicationID, expiresAt?.nanoseconds, createdAt.nanoseconds])
        }
    }

    /// What the store knows of a token id (a JWT's `jti`), for the gateway: one statement of primary-key lookups.
    /// Revocation wins over a record of the same id.
    public func tokenStanding(jti: String) throws(ScwError) -> TokenStanding {
        try read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT EXISTS(SELECT 1 FROM revoked_token WHERE jti = ?1),
                       COALESCE((SELECT namespace_id FROM token WHERE id = ?1), (SELECT namespace_id FROM legacy_token WHERE jti = ?1))
                """, arguments: [jti])
            if row?[0] as Bool? == true { return .revoked }
            guard let namespace = row?[1] as String? else { return .unknown }
            return .known(namespaceID: NamespaceID(trusted: namespace))
        }
    }
}

/// What the store knows of a token id (`AppDatabase.tokenStanding`).
public enum TokenStanding: Sendable, Equatable {
    /// Issued here (tokens API, fixtures or `issue-jwt`) under the key of this namespace, and not revoked.
    case known(namespaceID: NamespaceID)
    /// Deleted through the tokens API.
    case revoked
    /// Never issued by this store: forged, minted by hand with an exported key, or minted after the state a reset
    /// went back to.
    case unknown
}
