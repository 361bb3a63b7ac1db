import ScwDomain
import ScwKeys
import ScwStore

/// How private containers and functions are protected (`--private-auth`).
public enum PrivateAuthMode: String, Sendable, CaseIterable {
    /// The gateway checks `X-Auth-Token` (Scaleway today).
    case edge
    /// Requests pass through untouched; the process validates tokens itself (the 2021 container model).
    case container
}

/// Finds the container or function a call is for and decides whether the caller may reach it (issue 6).
public struct GatewayService: Sendable {
    let database: AppDatabase
    let keys: KeyRing
    let clock: any WallClock
    let authenticator: Authenticator
    public let runtime: RuntimeCoordinator
    public let mode: PrivateAuthMode

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
        guard let ref = try database.application(forHost: host) else { return nil }
        return try target(ref)
    }

    /// The application with this id.
    public func target(id raw: String) throws(ScwError) -> Target? {
        guard let cid = ContainerID(raw) else { return nil }
        if let c = try database.container(id: cid) { return Self.target(c) }
        if let f = try database.function(id: FunctionID(trusted: cid.rawValue)) { return Self.target(f) }
        return nil
    }

    static func target(_ c: Container) -> Target {
        Target(id: c.id.rawValue, kind: .container, namespaceID: c.namespaceID, projectID: c.projectID, organizationID: c.organizationID,
               privacy: c.spec.privacy, timeoutSeconds: c.spec.timeoutSeconds)
    }

    static func target(_ f: Function) -> Target {
        Target(id: f.id.rawValue, kind: .function, namespaceID: f.namespaceID, projectID: f.projectID, organizationID: f.organizationID,
               privacy: f.spec.privacy, timeoutSeconds: f.spec.timeoutSeconds)
    }

    private func target(_ ref: ApplicationRef) throws(ScwError) -> Target? {
        switch ref {
        case .container(let id):
            return try database.container(id: id).map(Self.target)
        case .function(let id):
            return try database.function(id: id).map(Self.target)
        }
    }

    /// nil when the call may go through, else why not. A private application accepts a token of its namespace or
    /// of itself, verified under the key of the namespace the route points at (never a key the token names), or the
    /// secret key of an API key allowed on its project. Public ones ignore `X-Auth-Token`.
    public func denial(for target: Target, tokenHeaders: [String]) async -> String? {
        guard target.privacy == .private, mode == .edge else { return nil }
        guard !tokenHeaders.isEmpty else { return "missing X-Auth-Token: this \(target.kind.rawValue) is private" }
        guard tokenHeaders.count == 1, let token = tokenHeaders.first else { return "more than one X-Auth-Token header" }
        if token.utf8.count == 36, Identifier<Never>(token) != nil {
            guard let principal = try? authenticator.authenticate(secretKey: token) else { return "unknown or expired API key" }
            return principal.may(access: target.projectID, of: target.organizationID) ? nil : "this API key may not use the project"
        }
        guard let key = try? await keys.key(for: target.namespaceID, timeout: 5) else { return "the namespace key is not available" }
        do {
            let claims = try TokenVerifier(publicKey: key.publicKey)
                .verify(token, for: TokenTarget(namespaceID: target.namespaceID.rawValue, applicationID: target.id), nowNanoseconds: clock.now().nanoseconds)
            if (try? database.isRevoked(jti: claims.jti)) ?? true { return TokenFailure.revoked.description }
            return nil
        } catch {
            return error.description
        }
    }
}
