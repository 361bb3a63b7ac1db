import ScwDomain
import ScwKeys
import ScwStore
import Synchronization

/// How private containers and functions are protected (`--private-auth`).
public enum PrivateAuthMode: String, Sendable, CaseIterable {
    /// The gateway checks `X-Auth-Token` (Scaleway today).
    case edge
    /// Requests pass through untouched; the process validates tokens itself (the 2021 container model).
    case container
}

/// Finds the container or function a call is for and decides whether the caller may reach it.
public struct GatewayService: Sendable {
    let database: AppDatabase
    let keys: KeyRing
    let clock: any WallClock
    let authenticator: Authenticator
    public let runtime: RuntimeCoordinator
    public let mode: PrivateAuthMode
    /// Lookups by id and by host, valid while the store's generation is unchanged (any write clears them).
    private let routes = GenerationCache<Target?>()
    /// What the store knows of token ids (issued, revoked, unknown), kept in step with it the same way: a call with
    /// a token reads memory, and the store once per token id after a write.
    private let standings = GenerationCache<TokenStanding>()

    /// Values read from the store, valid while its generation is unchanged (any committed write empties it).
    final class GenerationCache<Value: Sendable>: Sendable {
        struct State {
            var generation = -1
            var byKey: [String: Value] = [:]
        }
        let state = Mutex(State())

        func lookup(_ key: String, generation: Int) -> Value? {
            state.withLock { $0.generation == generation ? $0.byKey[key] : nil }
        }

        func store(_ key: String, _ value: Value, generation: Int) {
            state.withLock { state in
                if state.generation != generation || state.byKey.count >= 10_000 { state = State(generation: generation) }
                state.byKey[key] = value
            }
        }
    }

    /// Creates the service.
    public init(database: AppDatabase, keys: KeyRing, clock: any WallClock, authenticator: Authenticator, runtime: RuntimeCoordinator,
                mode: PrivateAuthMode) {
        self.database = database
        self.keys = keys
        self.clock = clock
        self.authenticator = authenticator
        self.runtime = runtime
        self.mode = mode
    }

    /// Where a call goes.
    public struct Target: Sendable {
        public var id: String
        public var kind: ResourceKind
        public var namespaceID: NamespaceID
        public var projectID: ProjectID
        public var organizationID: OrganizationID
        public var privacy: Privacy
        public var timeoutSeconds: Int
    }

    /// The application a host routes to.
    public func target(host: String) throws(ScwError) -> Target? {
        try cached("host:" + host) { () throws(ScwError) in
            guard let ref = try database.application(forHost: host) else { return nil }
            return try target(ref)
        }
    }

    /// The application with this id.
    public func target(id raw: String) throws(ScwError) -> Target? {
        try cached("id:" + raw) { () throws(ScwError) in
            guard ContainerID(raw) != nil, let app = try database.application(id: raw) else { return nil }
            return Self.target(app)
        }
    }

    /// A lookup answered from the cache while nothing was written since, else from the store.
    private func cached(_ key: String, _ load: () throws(ScwError) -> Target?) throws(ScwError) -> Target? {
        let generation = database.generation  // read before the lookup: a write during it makes the entry stale at once
        if let hit = routes.lookup(key, generation: generation) { return hit }
        let found = try load()
        routes.store(key, found, generation: generation)
        return found
    }

    /// What the store knows of a token id, from memory while nothing was written since it was read. A store failure
    /// is not kept (and refuses the call).
    func standing(jti: String) -> TokenStanding {
        Self.standing(jti: jti, cache: standings, generation: database.generation) { [database] jti throws(ScwError) in
            try database.tokenStanding(jti: jti)
        }
    }

    /// `standing(jti:)`, with the store's generation read before the load (a write during it makes the entry stale).
    static func standing(jti: String, cache: GenerationCache<TokenStanding>, generation: Int,
                         load: (String) throws(ScwError) -> TokenStanding) -> TokenStanding {
        if let hit = cache.lookup(jti, generation: generation) { return hit }
        guard let found = try? load(jti) else { return .unknown }
        cache.store(jti, found, generation: generation)
        return found
    }

    static func target(_ app: some Application) -> Target {
        Target(id: app.id.rawValue, kind: type(of: app).kind, namespaceID: app.namespaceID, projectID: app.projectID,
               organizationID: app.organizationID, privacy: app.spec.privacy, timeoutSeconds: app.spec.timeoutSeconds)
    }

    private func target(_ ref: ApplicationRef) throws(ScwError) -> Target? {
        try database.application(ref).map { Self.target($0) }
    }

    /// nil when the call may go through, else why not. A private application accepts a token of its namespace or
    /// of itself, verified under the key of the namespace the route points at (never a key the token names), or the
    /// secret key of an API key allowed on its project. Public ones ignore `X-Auth-Token`.
    public func denial(for target: Target, tokenHeaders: [String]) async -> String? {
        switch access(for: target, tokenHeaders: tokenHeaders, key: keys.cachedKey(for: target.namespaceID)) {
        case .allowed: return nil
        case .denied(let reason): return reason
        case .needsKey:
            guard let key = try? await keys.key(for: target.namespaceID, timeout: 5) else { return "the namespace key is not available" }
            if case .denied(let reason) = access(for: target, tokenHeaders: tokenHeaders, key: key) { return reason }
            return nil
        }
    }

    /// The privacy decision, made without waiting (the gateway's fast path): `needsKey` when a token must be
    /// verified and `key` (the namespace's key) is not at hand.
    public enum Access: Sendable, Equatable {
        case allowed
        case denied(String)
        case needsKey
    }

    /// The key of the target's namespace if it is loaded already (see `access`).
    public func cachedKey(for target: Target) -> NamespaceKey? { keys.cachedKey(for: target.namespaceID) }

    /// The privacy decision for a call (see `denial`).
    public func access(for target: Target, tokenHeaders: [String], key: NamespaceKey?) -> Access {
        guard target.privacy == .private, mode == .edge else { return .allowed }
        guard !tokenHeaders.isEmpty else { return .denied("missing X-Auth-Token: this \(target.kind.rawValue) is private") }
        guard tokenHeaders.count == 1, let token = tokenHeaders.first else { return .denied("more than one X-Auth-Token header") }
        if token.utf8.count == 36, Identifier<Never>(token) != nil {
            guard let principal = try? authenticator.authenticate(secretKey: token) else { return .denied("unknown or expired API key") }
            return principal.may(access: target.projectID, of: target.organizationID) ? .allowed : .denied("this API key may not use the project")
        }
        guard let key else { return .needsKey }
        return verify(token, for: target, key: key).map(Access.denied) ?? .allowed
    }

    private func verify(_ token: String, for target: Target, key: NamespaceKey) -> String? {
        do {
            let claims = try TokenVerifier(publicKey: key.publicKey)
                .verify(token, for: TokenTarget(namespaceID: target.namespaceID.rawValue, applicationID: target.id), nowNanoseconds: clock.now().nanoseconds)
            // A sound signature is not enough. The token must be one the store issued (tokens API, fixtures
            // or issue-jwt) for this namespace and not revoked, so forged tokens, tokens minted by hand with an
            // exported key, and tokens minted after the state a reset went back to are refused.
            switch standing(jti: claims.jti) {
            case .known(let namespaceID) where namespaceID == target.namespaceID: return nil
            case .revoked: return TokenFailure.revoked.description
            case .known, .unknown: return "token unknown: it was not issued by this mock's tokens API (or was issued before the last reset)"
            }
        } catch {
            return error.description
        }
    }
}
