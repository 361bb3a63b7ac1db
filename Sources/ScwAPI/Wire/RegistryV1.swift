import Hummingbird
import ScwDomain

/// Wire types of Container Registry v1's control plane, as `scaleway.registry.v1` (un)marshals them. Field names
/// are Scaleway's own; timestamps have microseconds.
public enum RegistryV1 {
    /// A registry namespace.
    public struct Namespace: ResponseEncodable, Sendable {
        public var id: String
        public var name: String
        public var description: String
        public var organization_id: String
        public var project_id: String
        public var status: String
        public var status_message: String
        public var endpoint: String
        public var is_public: Bool
        public var size: Int64
        public var created_at: String
        public var updated_at: String
        public var image_count: Int
        public var region: String
    }

    /// An image (fixtures add them; the mock serves no Docker registry).
    public struct Image: ResponseEncodable, Sendable {
        public var id: String
        public var name: String
        public var namespace_id: String
        public var status: String
        public var status_message: Nullable<String>
        public var visibility: String
        public var size: Int64
        public var created_at: String
        public var updated_at: String
        public var tags: [String]
    }

    /// A tag of an image.
    public struct Tag: ResponseEncodable, Sendable {
        public var id: String
        public var name: String
        public var image_id: String
        public var status: String
        public var digest: String
        public var created_at: String
        public var updated_at: String
    }

    /// Body of `POST …/namespaces`: `project_id` and the deprecated `organization_id` are one-of.
    public struct CreateNamespaceRequest: Decodable, Sendable {
        public var name: String?
        public var description: String?
        public var project_id: String?
        public var organization_id: String?
        public var is_public: Bool?
    }

    /// Body of `PATCH …/namespaces/{id}`; absent or null = unchanged.
    public struct UpdateNamespaceRequest: Decodable, Sendable {
        public var description: String?
        public var is_public: Bool?
    }

    /// Body of `PATCH …/images/{id}`; `visibility_unknown` (the SDK's default) = unchanged.
    public struct UpdateImageRequest: Decodable, Sendable {
        public var visibility: String?
    }

    /// `{"namespaces":[…],"total_count":N}`.
    public struct ListNamespacesResponse: ResponseEncodable, Sendable {
        public var namespaces: [Namespace]
        public var total_count: Int
    }

    /// `{"images":[…],"total_count":N}`.
    public struct ListImagesResponse: ResponseEncodable, Sendable {
        public var images: [Image]
        public var total_count: Int
    }

    /// `{"tags":[…],"total_count":N}`.
    public struct ListTagsResponse: ResponseEncodable, Sendable {
        public var tags: [Tag]
        public var total_count: Int
    }

    static func time(_ t: Timestamp) -> String { t.roundedToMicroseconds.rfc3339(fractionDigits: 6) }
}

extension RegistryV1.Namespace {
    /// Renders a registry namespace.
    init(_ ns: RegistryNamespace) {
        self.init(id: ns.id.rawValue, name: ns.name, description: ns.description, organization_id: ns.organizationID.rawValue,
                  project_id: ns.projectID.rawValue, status: ns.phase == .deleting ? "deleting" : "ready", status_message: "",
                  endpoint: ns.endpoint, is_public: ns.isPublic, size: ns.size, created_at: RegistryV1.time(ns.createdAt),
                  updated_at: RegistryV1.time(ns.updatedAt), image_count: ns.imageCount, region: ns.region.rawValue)
    }
}

extension RegistryV1.Image {
    /// Renders an image.
    init(_ image: RegistryImage) {
        self.init(id: image.id.rawValue, name: image.name, namespace_id: image.namespaceID.rawValue,
                  status: image.phase == .deleting ? "deleting" : "ready", status_message: nil, visibility: image.visibility.rawValue,
                  size: image.size, created_at: RegistryV1.time(image.createdAt), updated_at: RegistryV1.time(image.updatedAt),
                  tags: image.tags)
    }
}

extension RegistryV1.Tag {
    /// Renders a tag.
    init(_ tag: RegistryTag) {
        self.init(id: tag.id.rawValue, name: tag.name, image_id: tag.imageID.rawValue, status: tag.phase == .deleting ? "deleting" : "ready",
                  digest: tag.digest, created_at: RegistryV1.time(tag.createdAt), updated_at: RegistryV1.time(tag.updatedAt))
    }
}

extension RegistryV1.CreateNamespaceRequest {
    /// The body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "name": .string(pattern: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", minLength: RegistryRules.nameLengths.lowerBound,
                        maxLength: RegistryRules.nameLengths.upperBound),
        "description": .string(maxLength: RegistryRules.maxDescriptionLength), "project_id": .uuid,
        "organization_id": .string(format: "uuid", description: "deprecated; at most one of project_id and organization_id"),
        "is_public": .boolean,
    ])
}

extension RegistryV1.UpdateNamespaceRequest {
    /// The body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object(["description": .string(maxLength: RegistryRules.maxDescriptionLength), "is_public": .boolean])
}

extension RegistryV1.UpdateImageRequest {
    /// The accepted visibilities; `visibility_unknown` leaves it unchanged.
    static let visibilities = ImageVisibility.allCases.map(\.rawValue) + ["visibility_unknown"]
    /// The body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object(["visibility": .oneOf(visibilities, description: "visibility_unknown = unchanged")])

    /// The asked visibility: nil = unchanged.
    func parsed() throws -> ImageVisibility? {
        guard let visibility, visibility != "visibility_unknown" else { return nil }
        guard let parsed = ImageVisibility(rawValue: visibility) else {
            throw ScwError.invalid("visibility", .format, "visibility must be one of \(Self.visibilities.joined(separator: ", "))")
        }
        return parsed
    }
}

extension RegistryV1.Namespace: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "description": .string(), "organization_id": .uuid, "project_id": .uuid,
        "status": .oneOf(["ready", "deleting"]), "status_message": .string(), "endpoint": .string(), "is_public": .boolean,
        "size": .integer(minimum: 0), "created_at": .timestamp, "updated_at": .timestamp, "image_count": .integer(minimum: 0),
        "region": .region,
    ])
}

extension RegistryV1.Image: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "namespace_id": .uuid, "status": .oneOf(["ready", "deleting"]), "status_message": .nullableString,
        "visibility": .oneOf(ImageVisibility.allCases.map(\.rawValue)), "size": .integer(minimum: 0), "created_at": .timestamp,
        "updated_at": .timestamp, "tags": .array(.string()),
    ])
}

extension RegistryV1.Tag: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "image_id": .uuid, "status": .oneOf(["ready", "deleting"]), "digest": .string(),
        "created_at": .timestamp, "updated_at": .timestamp,
    ])
}

extension RegistryV1.ListNamespacesResponse: DocumentedResponse {
    static let schema = JSONSchema.list("namespaces", of: RegistryV1.Namespace.schema)
}

extension RegistryV1.ListImagesResponse: DocumentedResponse {
    static let schema = JSONSchema.list("images", of: RegistryV1.Image.schema)
}

extension RegistryV1.ListTagsResponse: DocumentedResponse {
    static let schema = JSONSchema.list("tags", of: RegistryV1.Tag.schema)
}
