/// Tag for container registry image ids.
public enum RegistryImageTag {}
/// Tag for container registry tag ids.
public enum RegistryTagTag {}

/// Id of a container registry image.
public typealias RegistryImageID = Identifier<RegistryImageTag>
/// Id of a container registry tag.
public typealias RegistryTagID = Identifier<RegistryTagTag>

/// A Container Registry namespace (Registry v1): one the client created, or the `funcscw…` one that belongs to a
/// container or function namespace (v1beta1's `registry_namespace_id`), which exists as long as that namespace does.
public struct RegistryNamespace: Sendable, Equatable {
    public var id: RegistryNamespaceID
    /// Unique in its region across every organization; the last segment of `endpoint`.
    public var name: String
    public var description: String
    public var projectID: ProjectID
    public var organizationID: OrganizationID
    public var region: Region
    public var isPublic: Bool
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The serverless namespace this registry namespace belongs to; nil for one created through the registry API.
    public var ownerNamespaceID: NamespaceID?
    /// `ready`, or `deleting` in the answer to its DELETE and, under a transition delay, for that long after.
    public var phase: ResourcePhase = .ready
    /// Images in it and the sum of their sizes (filled in by the store).
    public var imageCount: Int = 0
    public var size: Int64 = 0

    /// Creates a value.
    public init(id: RegistryNamespaceID, name: String, description: String, projectID: ProjectID, organizationID: OrganizationID,
                region: Region, isPublic: Bool, createdAt: Timestamp, updatedAt: Timestamp, ownerNamespaceID: NamespaceID?) {
        self.id = id
        self.name = name
        self.description = description
        self.projectID = projectID
        self.organizationID = organizationID
        self.region = region
        self.isPublic = isPublic
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.ownerNamespaceID = ownerNamespaceID
    }

    /// What `docker push` talks to: `rg.<region>.scw.cloud/<name>` (a serverless namespace's `registry_endpoint`).
    public var endpoint: String { RegistryNamespace.endpoint(region: region, name: name) }

    /// `rg.<region>.scw.cloud/<name>`.
    public static func endpoint(region: Region, name: String) -> String { "rg.\(region.rawValue).scw.cloud/\(name)" }

    /// The name of the registry namespace of a container or function namespace: `funcscw<endpoint prefix>`.
    public static func serverlessName(namespaceName: String, endpointSuffix: String) -> String {
        "funcscw" + Namespace.endpointPrefix(name: namespaceName, suffix: endpointSuffix)
    }
}

/// Who may pull an image without credentials.
public enum ImageVisibility: String, Sendable, CaseIterable {
    /// Follows the namespace's `is_public` (the default).
    case inherit
    case `public`
    case `private`
}

/// An image of a registry namespace (fixtures declare them; the mock serves no Docker registry).
public struct RegistryImage: Sendable, Equatable {
    public var id: RegistryImageID
    public var namespaceID: RegistryNamespaceID
    /// Unique in its namespace.
    public var name: String
    public var visibility: ImageVisibility
    /// Bytes, from the fixture.
    public var size: Int64
    public var projectID: ProjectID
    public var organizationID: OrganizationID
    public var region: Region
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// Names of its tags, oldest first (filled in by the store).
    public var tags: [String] = []
    /// `ready`, or `deleting` in the answer to its DELETE and, under a transition delay, for that long after.
    public var phase: ResourcePhase = .ready

    /// Creates a value.
    public init(id: RegistryImageID, namespaceID: RegistryNamespaceID, name: String, visibility: ImageVisibility, size: Int64,
                projectID: ProjectID, organizationID: OrganizationID, region: Region, createdAt: Timestamp, updatedAt: Timestamp) {
        self.id = id
        self.namespaceID = namespaceID
        self.name = name
        self.visibility = visibility
        self.size = size
        self.projectID = projectID
        self.organizationID = organizationID
        self.region = region
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A tag of an image (`latest`, `v1.2`), pointing at a manifest digest.
public struct RegistryTag: Sendable, Equatable {
    public var id: RegistryTagID
    public var imageID: RegistryImageID
    /// Unique in its image.
    public var name: String
    /// `sha256:<64 hex>`; several tags of one image may share it.
    public var digest: String
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The image's project and organization (who may see the tag).
    public var projectID: ProjectID
    public var organizationID: OrganizationID
    public var region: Region
    /// `ready`, or `deleting` in the answer to its DELETE and, under a transition delay, for that long after.
    public var phase: ResourcePhase = .ready

    /// Creates a value.
    public init(id: RegistryTagID, imageID: RegistryImageID, name: String, digest: String, createdAt: Timestamp, updatedAt: Timestamp,
                projectID: ProjectID, organizationID: OrganizationID, region: Region) {
        self.id = id
        self.imageID = imageID
        self.name = name
        self.digest = digest
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.projectID = projectID
        self.organizationID = organizationID
        self.region = region
    }
}

/// Filters of a registry namespace or image list, after the principal's scope has been applied.
public struct RegistryQuery: Sendable {
    public var region: Region
    public var organizationID: OrganizationID
    /// Only these projects; nil = any of the organization's.
    public var projectIDs: Set<ProjectID>?
    /// Exact name.
    public var name: String?
    /// Images only: the namespace they are in.
    public var namespaceID: RegistryNamespaceID?
    public var page: PageRequest

    /// Creates a query.
    public init(region: Region, organizationID: OrganizationID, projectIDs: Set<ProjectID>?, name: String?,
                namespaceID: RegistryNamespaceID? = nil, page: PageRequest) {
        self.region = region
        self.organizationID = organizationID
        self.projectIDs = projectIDs
        self.name = name
        self.namespaceID = namespaceID
        self.page = page
    }
}

/// Registry v1's rules on names and digests.
public enum RegistryRules {
    /// Namespace names: 4 to 54 characters.
    public static let nameLengths = 4...54
    /// Image names: up to 128 characters of the repository path grammar.
    public static let maxImageNameLength = 128
    /// Tag names: Docker's 128.
    public static let maxTagNameLength = 128
    /// Descriptions: the serverless limit.
    public static let maxDescriptionLength = 255

    /// Why a namespace name is refused: only lower-case letters, digits and inner dashes (Scaleway: "only
    /// alphanumerical characters and `-` are allowed").
    public static func namespaceNameProblem(_ name: String) -> ArgumentProblem? {
        let bytes = Array(name.utf8)
        let valid = nameLengths.contains(bytes.count)
            && bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
            && isLowerAlnum(bytes.first ?? 0) && isLowerAlnum(bytes.last ?? 0)
        guard !valid else { return nil }
        return ArgumentProblem(argumentName: "name", reason: .constraint,
                               helpMessage: "name must be 4 to 54 lower-case letters, digits or dashes, starting and ending with a letter or digit")
    }

    /// Why an image name is refused: Docker repository paths (`app`, `team/app`, `my_app.v2`).
    public static func imageNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        let allowed: (UInt8) -> Bool = { isLowerAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/") }
        guard !bytes.isEmpty, bytes.count <= maxImageNameLength, bytes.allSatisfy(allowed),
              isLowerAlnum(bytes.first ?? 0), isLowerAlnum(bytes.last ?? 0)
        else { return "an image name is 1 to \(maxImageNameLength) lower-case letters, digits, '-', '_', '.' or '/', starting and ending with a letter or digit" }
        return nil
    }

    /// Why a tag name is refused: Docker's `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    public static func tagNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        let word: (UInt8) -> Bool = { isLowerAlnum($0) || ($0 >= 65 && $0 <= 90) || $0 == UInt8(ascii: "_") }
        guard let first = bytes.first, bytes.count <= maxTagNameLength, word(first),
              bytes.allSatisfy({ word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else { return "a tag is 1 to \(maxTagNameLength) letters, digits, '_', '.' or '-', not starting with '.' or '-'" }
        return nil
    }

    /// Whether a digest is `sha256:` and 64 lower-case hex digits.
    public static func isValidDigest(_ digest: String) -> Bool {
        guard digest.hasPrefix("sha256:") else { return false }
        let hex = digest.utf8.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool { (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) }
}
