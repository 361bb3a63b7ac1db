import ScwDomain
import ScwKeys
import ScwStore

/// A token as just issued: the token (for legacy `issue-jwt` tokens, one the tokens API does not show), the JWT and
/// the public key.
public struct IssuedToken: Sendable {
    public var token: Token
    public var jwt: String
    public var publicKeyPEM: String
}

/// Tokens of containers and functions v1beta1, and the legacy `issue-jwt`.
public struct TokenService: Sendable {
    let database: AppDatabase
    let clock: any WallClock
    let ids: any IDSource
    let settings: EngineSettings
    let keys: KeyRing

    /// Creates the service.
    public init(database: AppDatabase, clock: any WallClock, ids: any IDSource, settings: EngineSettings, keys: KeyRing) {
        self.database = database
        self.clock = clock
        self.ids = ids
        self.settings = settings
        self.keys = keys
    }

    /// What a token request names: exactly one of a namespace and an application (container or function).
    public struct Request: Sendable {
        public var namespaceID: NamespaceID?
        public var applicationID: String?
        /// The product `applicationID` is an id of; nil: the API's own. Only the legacy `issue-jwt` names the other
        /// product's applications (its spec form takes `container_id` and `function_id` on either API).
        public var applicationAPI: TokenAPI?
        public var description: String?
        /// Raw `expires_at` text (RFC 3339, any offset).
        public var expiresAt: String?

        /// Creates a request.
        public init(namespaceID: NamespaceID?, applicationID: String?, description: String?, expiresAt: String?,
                    applicationAPI: TokenAPI? = nil) {
            self.namespaceID = namespaceID
            self.applicationID = applicationID
            self.applicationAPI = applicationAPI
            self.description = description
            self.expiresAt = expiresAt
        }
    }

    /// `POST …/tokens`: signs a JWT and stores the token (revocable).
    public func create(api: TokenAPI, region: Region, request: Request, by principal: Principal, fixedID: TokenID? = nil) async throws(ScwError) -> IssuedToken {
        try await issue(api: api, region: region, request: request, by: principal, store: true, fixedID: fixedID)
    }

    /// Legacy `GET …/issue-jwt`: the same JWT, not stored as a token, so it can be neither listed nor revoked (2021
    /// docs); its id is recorded apart because the gateway accepts only ids the store knows. With the id
    /// of a stored token (fixtures re-signing their tokens for the token file), nothing more is recorded: that
    /// token's record is what the gateway reads, and deleting it revokes the re-signed JWT too.
    ///
    /// Unlike the tokens API, either API's `issue-jwt` resolves the namespaces, containers and functions of both
    /// products: Scaleway's "Restricting access to a container" page issues a token for a *containers* namespace
    /// through `/functions/v1beta1/…/issue-jwt`. The token belongs to the product of what it names (its record, the
    /// `container_id`/`function_id` field of the answer), whichever API issued it.
    public func issueLegacy(api: TokenAPI, region: Region, request: Request, by principal: Principal, fixedID: TokenID? = nil) async throws(ScwError) -> IssuedToken {
        try await issue(api: api, region: region, request: request, by: principal, store: false, fixedID: fixedID)
    }

    private func issue(api: TokenAPI, region: Region, request: Request, by principal: Principal, store: Bool,
                       fixedID: TokenID? = nil) async throws(ScwError) -> IssuedToken {
        let appAPI = store ? api : (request.applicationAPI ?? api)
        let appArgument = appAPI.namespaceKind.applicationArgument
        guard (request.namespaceID == nil) != (request.applicationID == nil) else {
            throw .invalid(request.namespaceID == nil ? "namespace_id" : appArgument, .constraint,
                           "exactly one of namespace_id and \(appArgument) must be set")
        }
        let description = request.description ?? ""
        if description.count > 255 { throw .invalid("description", .constraint, "description must be at most 255 characters long") }
        let now = clock.now()
        var expiry: Timestamp?
        if let raw = request.expiresAt {
            let forms = [raw, raw.replacingOccurrences(of: " ", with: "+")]
            guard let parsed = forms.lazy.compactMap(Timestamp.parseRFC3339).first else {
                if forms.contains(where: Self.isRFC3339PastTimestampRange) {
                    throw .invalid("expires_at", .constraint, "expires_at is too far in the future, at most \(Self.latestExpiry)")
                }
                throw .invalid("expires_at", .format, "expires_at must be an RFC 3339 timestamp, e.g. 2022-01-02T00:00:00Z")
            }
            // Scaleway answers with whole seconds in UTC, and exp equals them.
            let seconds = Timestamp(nanoseconds: parsed.unixSeconds * 1_000_000_000)
            guard seconds > now else { throw .invalid("expires_at", .constraint, "expires_at must be in the future") }
            expiry = seconds
        }

        let namespace: Namespace
        let scope: TokenScope
        if let nsID = request.namespaceID {
            // The tokens API sees only its own product's namespaces; the legacy route both (see `issueLegacy`).
            guard let ns = try database.namespace(id: nsID), store == false || ns.kind == api.namespaceKind, ns.region == region else {
                throw .notFound(.namespace, id: nsID.rawValue)
            }
            namespace = ns
            scope = .namespace(nsID)
        } else if let id = request.applicationID.flatMap(ContainerID.init)?.rawValue, let app = try database.application(id: id),
                  app.ref.namespaceKind == appAPI.namespaceKind, app.region == region,
                  let ns = try database.namespace(id: app.namespaceID) {
            namespace = ns
            scope = .application(id)
        } else {
            throw .notFound(appAPI.applicationKind, id: request.applicationID ?? "")
        }
        // The product the token belongs to: the API's own for the tokens API; for `issue-jwt`, that of what it names.
        let product: TokenAPI = store ? api : TokenAPI(namespace.kind)
        guard principal.may(access: namespace.projectID, of: namespace.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: "write", resource: "token")])
        }
        guard let key = try await keys.key(for: namespace.id) else {
            throw .unavailable("the namespace's key is not ready yet, please retry")
        }

        let id: TokenID = fixedID ?? ids.make()
        let claims: TokenClaims
        switch scope {
        case .namespace(let ns): claims = TokenClaims(namespaceID: ns.rawValue, applicationID: "", expiresAt: expiry?.unixSeconds, jti: id.rawValue, issuedAt: now.unixSeconds)
        case .application(let app): claims = TokenClaims(namespaceID: "", applicationID: app, expiresAt: expiry?.unixSeconds, jti: id.rawValue, issuedAt: now.unixSeconds)
        }
        let signed: Result<String, any Error> = await offload { Result { try TokenSigner.sign(claims, with: key) } }
        guard let jwt = try? signed.get() else { throw .unavailable("signing failed") }
        let token = Token(id: id, api: product, region: region, namespaceID: namespace.id, scope: scope, projectID: namespace.projectID,
                          organizationID: namespace.organizationID, description: description, expiresAt: expiry, createdAt: now,
                          settlesAt: store ? now.adding(nanoseconds: settings.transitionDelayNanoseconds) : now)
        if store {
            try database.createToken(token)
        } else if try database.token(id: id, api: product) == nil {
            let application: String? = if case .application(let app) = scope { app } else { nil }
            try database.recordLegacyToken(jti: id, api: product, namespaceID: namespace.id, applicationID: application, expiresAt: expiry,
                                           createdAt: now)
        }
        return IssuedToken(token: token, jwt: jwt, publicKeyPEM: key.publicPKCS1PEM)
    }

    /// The latest expiry the store can hold (instants are Int64 nanoseconds, which end in April 2262).
    static let latestExpiry = Timestamp(nanoseconds: Int64.max / 1_000_000_000 * 1_000_000_000).rfc3339(fractionDigits: 0)

    /// Whether `text` is a well-formed RFC 3339 timestamp that is only refused by `Timestamp` for being after 2262
    /// (e.g. `9999-12-31T23:59:59Z`): the same text with the year moved into 1600–1999 (same place in the 400-year
    /// leap cycle, so February 29 stays valid or invalid) parses.
    static func isRFC3339PastTimestampRange(_ text: String) -> Bool {
        guard text.utf8.count > 4, let year = Int(text.prefix(4)), year >= 2262 else { return false }
        return Timestamp.parseRFC3339(String(1600 + year % 400) + text.dropFirst(4)) != nil
    }

    /// A stored token of `api` in `region`.
    public func get(_ id: TokenID, api: TokenAPI, region: Region, by principal: Principal) throws(ScwError) -> Token {
        guard let token = try database.token(id: id, api: api), token.region == region else { throw .notFound(.token, id: id.rawValue) }
        guard principal.may(access: token.projectID, of: token.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: "read", resource: "token")])
        }
        return token
    }

    /// One page of the principal's tokens, filtered by namespace or application.
    public func list(api: TokenAPI, region: Region, namespaceID: NamespaceID?, applicationID: String?, page: PageRequest,
                     by principal: Principal) throws(ScwError) -> Page<Token> {
        guard page.order == .createdAtAsc || page.order == .createdAtDesc else {
            throw .invalid("order_by", .format, "order_by must be one of created_at_asc, created_at_desc")
        }
        return try database.tokens(matching: TokenQuery(api: api, region: region, namespaceID: namespaceID, applicationID: applicationID,
                                                        projectIDs: principal.projectIDs, organizationID: principal.organizationID, page: page))
    }

    /// Deletes (revokes) a token; it is refused from the next request on.
    public func delete(_ id: TokenID, api: TokenAPI, region: Region, by principal: Principal) throws(ScwError) -> Token {
        let principalCopy = principal
        guard let token = try database.deleteToken(id: id, api: api, revokedAt: clock.now(), { t in
            guard t.region == region else { throw ScwError.notFound(.token, id: id.rawValue) }
            guard principalCopy.may(access: t.projectID, of: t.organizationID) else {
                throw ScwError.permissionsDenied([PermissionDetail(action: "write", resource: "token")])
            }
        }) else {
            // A recorded Scaleway quirk: deleting a functions token id on the containers endpoint answers
            // "Container was not found".
            if api == .containers, try database.token(id: id, api: .functions) != nil { throw .notFound(.container, id: id.rawValue) }
            throw .notFound(.token, id: id.rawValue)
        }
        return token
    }

    /// The namespace's public key (waiting, bounded, for the forge), for the mock's key endpoints.
    public func publicKey(of id: NamespaceID) async throws(ScwError) -> NamespacePublicKey {
        guard try database.namespace(id: id) != nil else { throw .notFound(.namespace, id: id.rawValue) }
        guard let key = try await keys.key(for: id) else { throw .unavailable("the namespace's key is not ready yet, please retry") }
        return key.publicKey
    }

    /// A deliberately bad token for the namespace or application named in `request` (no API key needed: mock admin).
    /// It is never recorded in the store, so the gateway refuses even the kinds whose signature and claims are sound
    /// (`not_yet_valid` once its time comes); every kind expires (`TokenForger.lifetimeSeconds`), so one that leaks
    /// is not a permanent credential for an offline verifier either.
    public func forge(_ kind: TokenForger.Kind, api: TokenAPI, request: Request) async throws(ScwError) -> String {
        let (namespace, applicationID) = try locate(api: api, request: request)
        guard let key = try await keys.key(for: namespace.id) else { throw .unavailable("the namespace's key is not ready yet, please retry") }
        let now = clock.now().unixSeconds
        let claims = TokenClaims(namespaceID: applicationID == nil ? namespace.id.rawValue : "", applicationID: applicationID ?? "",
                                 expiresAt: now + TokenForger.lifetimeSeconds, jti: ids.next().uuidString.lowercased(), issuedAt: now)
        let forged: Result<String, any Error> = await offload { Result { try TokenForger.forge(kind, claims: claims, key: key, nowSeconds: now) } }
        guard let token = try? forged.get() else { throw .unavailable("forging failed") }
        return token
    }

    /// The namespace (and application id) a namespace or application id names, in any region.
    private func locate(api: TokenAPI, request: Request) throws(ScwError) -> (Namespace, String?) {
        if let nsID = request.namespaceID {
            guard let ns = try database.namespace(id: nsID) else { throw .notFound(.namespace, id: nsID.rawValue) }
            return (ns, nil)
        }
        let raw = request.applicationID ?? ""
        if let id = ContainerID(raw)?.rawValue, let app = try database.application(id: id),
           let ns = try database.namespace(id: app.namespaceID) { return (ns, id) }
        throw .notFound(api.applicationKind, id: raw)
    }

    /// The key pool's state, for `/_mock/health`.
    public func keyPoolStatus() throws(ScwError) -> (bits: Int, ready: Int, target: Int) { try keys.poolStatus() }

    /// Every namespace's public key, for `/_mock/jwks.json`.
    public func allPublicKeys() throws(ScwError) -> [(NamespaceID, NamespacePublicKey)] {
        try database.allNamespaceKeys().compactMap { id, pem in (try? NamespaceKey(pem: pem)).map { (id, $0.publicKey) } }
    }
}
