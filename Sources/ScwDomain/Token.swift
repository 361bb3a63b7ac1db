/// Tag for token ids.
public enum TokenTag {}
/// Id of an API token (also its JWT's `jti`).
public typealias TokenID = Identifier<TokenTag>

/// Which v1beta1 API a token belongs to: tokens are per API (a functions token id is not found on the containers
/// endpoint, as recorded).
public enum TokenAPI: String, Sendable {
    case containers, functions

    /// The API of a product.
    public init(_ kind: NamespaceKind) { self = kind.api }

    /// The product this API serves.
    public var namespaceKind: NamespaceKind {
        switch self {
        case .containers: .container
        case .functions: .function
        }
    }

    /// The application word of this API.
    public var applicationKind: ResourceKind { namespaceKind.applicationKind }
}

/// What a token grants: a whole namespace, or one container or function.
public enum TokenScope: Sendable, Equatable {
    case namespace(NamespaceID)
    /// A container or function id (which one follows from the token's API).
    case application(String)
}

/// A token created through `POST …/tokens` (legacy `issue-jwt` tokens are never stored).
public struct Token: Sendable, Equatable {
    public var id: TokenID
    public var api: TokenAPI
    public var region: Region
    /// The namespace whose key signs it.
    public var namespaceID: NamespaceID
    public var scope: TokenScope
    public var projectID: ProjectID
    public var organizationID: OrganizationID
    public var description: String
    public var expiresAt: Timestamp?
    public var createdAt: Timestamp
    /// `creating` until then, `ready` after (within a second on Scaleway).
    public var settlesAt: Timestamp

    /// Creates a token value.
    public init(id: TokenID, api: TokenAPI, region: Region, namespaceID: NamespaceID, scope: TokenScope, projectID: ProjectID,
                organizationID: OrganizationID, description: String, expiresAt: Timestamp?, createdAt: Timestamp, settlesAt: Timestamp) {
        self.id = id
        self.api = api
        self.region = region
        self.namespaceID = namespaceID
        self.scope = scope
        self.projectID = projectID
        self.organizationID = organizationID
        self.description = description
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.settlesAt = settlesAt
    }

    /// The status word at `now` (`creating` → `ready`).
    public func status(at now: Timestamp) -> String { settlesAt <= now ? "ready" : "creating" }
}

/// Filters of a token list.
public struct TokenQuery: Sendable {
    public var api: TokenAPI
    public var region: Region
    public var namespaceID: NamespaceID?
    public var applicationID: String?
    public var projectIDs: Set<ProjectID>?
    public var organizationID: OrganizationID
    public var page: PageRequest

    /// Creates a query.
    public init(api: TokenAPI, region: Region, namespaceID: NamespaceID?, applicationID: String?, projectIDs: Set<ProjectID>?,
                organizationID: OrganizationID, page: PageRequest) {
        self.api = api
        self.region = region
        self.namespaceID = namespaceID
        self.applicationID = applicationID
        self.projectIDs = projectIDs
        self.organizationID = organizationID
        self.page = page
    }
}
