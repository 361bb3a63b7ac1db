/// A Scaleway project and the organization it belongs to.
public struct Project: Sendable, Equatable {
    /// Project id.
    public var id: ProjectID
    /// Owning organization.
    public var organizationID: OrganizationID
    /// Display name.
    public var name: String

    /// Creates a project.
    public init(id: ProjectID, organizationID: OrganizationID, name: String) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
    }
}

/// An IAM API key: what `X-Auth-Token` carries (the secret key) and what it may touch.
public struct APIKey: Sendable, Equatable {
    /// The public half, `SCW` followed by 17 upper-case letters or digits.
    public var accessKey: String
    /// The secret half, a UUID. Only compared in constant time, never logged.
    public var secretKey: String
    /// Organization the key belongs to.
    public var organizationID: OrganizationID
    /// Projects the key may act on; `nil` means every project of its organization.
    public var projectIDs: [ProjectID]?
    /// Project used when a create request names none.
    public var defaultProjectID: ProjectID
    /// After this instant the key is refused with reason `expired`.
    public var expiresAt: Timestamp?

    /// Creates a key.
    public init(accessKey: String, secretKey: String, organizationID: OrganizationID, projectIDs: [ProjectID]?,
                defaultProjectID: ProjectID, expiresAt: Timestamp?) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.organizationID = organizationID
        self.projectIDs = projectIDs
        self.defaultProjectID = defaultProjectID
        self.expiresAt = expiresAt
    }

    /// `SCW` + 17 characters of `[A-Z0-9]`, the format the SDKs validate.
    public static func isValidAccessKey(_ key: String) -> Bool {
        key.utf8.count == 20 && key.hasPrefix("SCW")
            && key.utf8.dropFirst(3).allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) }
    }
}

/// The authenticated caller of one request, derived from its API key.
public struct Principal: Sendable, Equatable {
    /// The key's access key (safe to log).
    public var accessKey: String
    /// The key's organization.
    public var organizationID: OrganizationID
    /// Projects it may act on; `nil` = all of its organization's projects.
    public var projectIDs: Set<ProjectID>?
    /// Project used when a create names none.
    public var defaultProjectID: ProjectID

    /// Creates a principal.
    public init(accessKey: String, organizationID: OrganizationID, projectIDs: Set<ProjectID>?, defaultProjectID: ProjectID) {
        self.accessKey = accessKey
        self.organizationID = organizationID
        self.projectIDs = projectIDs
        self.defaultProjectID = defaultProjectID
    }

    /// Builds the principal of a key.
    public init(key: APIKey) {
        self.init(accessKey: key.accessKey, organizationID: key.organizationID,
                  projectIDs: key.projectIDs.map(Set.init), defaultProjectID: key.defaultProjectID)
    }

    /// The projects a list may show when the client filters by `projectID` / `organizationID`: the key's own scope,
    /// narrowed to the asked project; asking for a project or organization outside the scope is `permissions_denied`.
    public func listScope(projectID: ProjectID?, organizationID: OrganizationID?, resource: String) throws(ScwError) -> Set<ProjectID>? {
        if let organizationID, organizationID != self.organizationID {
            throw .permissionsDenied([PermissionDetail(action: "read", resource: resource)])
        }
        guard let projectID else { return projectIDs }
        guard may(access: projectID, of: self.organizationID) else {
            throw .permissionsDenied([PermissionDetail(action: "read", resource: resource)])
        }
        return [projectID]
    }

    /// Whether the key may act on a resource of `project` (which belongs to `organization`).
    public func may(access project: ProjectID, of organization: OrganizationID) -> Bool {
        guard organization == organizationID else { return false }
        return projectIDs?.contains(project) ?? true
    }
}

/// The identity that exists when no seed is given: a test identity documented in the README, never a secret
/// (the same idea as Azurite's well-known account).
public enum WellKnownIdentity {
    /// Organization and default project id (Scaleway uses the organization id as the first project's id).
    public static let projectID = ProjectID(trusted: "00000000-0000-4000-8000-000000000001")
    /// The organization id (same value as the default project, as in every Scaleway recording).
    public static let organizationID = OrganizationID(trusted: "00000000-0000-4000-8000-000000000001")
    /// Access key.
    public static let accessKey = "SCWMOCK0000000000000"
    /// Secret key.
    public static let secretKey = "00000000-0000-4000-8000-000000000000"

    /// The project record.
    public static var project: Project { Project(id: projectID, organizationID: organizationID, name: "default") }
    /// The API key record.
    public static var apiKey: APIKey {
        APIKey(accessKey: accessKey, secretKey: secretKey, organizationID: organizationID, projectIDs: [projectID],
               defaultProjectID: projectID, expiresAt: nil)
    }
}
