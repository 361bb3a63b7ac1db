import Hummingbird
import ScwDomain

/// Wire types of containers v1. Field names are Scaleway's own.
public enum V1 {
    /// A namespace as v1 renders it: no registry fields, secrets as a map, `error_message` omitted when unset.
    public struct Namespace: ResponseEncodable, Sendable {
        public var id: String
        public var name: String
        public var organization_id: String
        public var project_id: String
        public var description: String
        public var status: String
        public var environment_variables: [String: String]
        public var secret_environment_variables: [String: String]
        public var tags: [String]
        public var created_at: String
        public var updated_at: String
        public var error_message: String?
        public var region: String
    }

    /// Body of `POST .../namespaces`; `name` is required in v1.
    public struct CreateNamespaceRequest: Decodable, Sendable {
        public var name: String?
        public var project_id: String?
        public var description: String?
        public var environment_variables: [String: String]?
        public var secret_environment_variables: [String: String]?
        public var tags: [String]?
    }

    /// Body of `PATCH .../namespaces/{id}`: the secrets map replaces the current one (`""` keeps a value).
    public struct UpdateNamespaceRequest: Decodable, Sendable {
        public var description: String?
        public var environment_variables: [String: String]?
        public var secret_environment_variables: [String: String]?
        public var tags: [String]?
    }

    /// `{"namespaces":[…],"total_count":N}`.
    public struct ListNamespacesResponse: ResponseEncodable, Sendable {
        public var namespaces: [Namespace]
        public var total_count: Int
    }
}

extension V1.Namespace {
    /// Renders a namespace; v1 always shows microseconds.
    init(_ ns: ScwDomain.Namespace) {
        self.init(
            id: ns.id.rawValue, name: ns.name, organization_id: ns.organizationID.rawValue,
            project_id: ns.projectID.rawValue, description: ns.description, status: ns.phase.rawValue,
            environment_variables: ns.environmentVariables,
            secret_environment_variables: Dictionary(ns.secrets.map { ($0.key, $0.hashedValue) }, uniquingKeysWith: { a, _ in a }),
            tags: ns.tags,
            created_at: ns.createdAt.roundedToMicroseconds.rfc3339(fractionDigits: 6),
            updated_at: ns.updatedAt.roundedToMicroseconds.rfc3339(fractionDigits: 6),
            error_message: ns.errorMessage, region: ns.region.rawValue)
    }
}

extension V1.CreateNamespaceRequest {
    /// The body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "name": .namespaceName, "project_id": .uuid, "description": .description, "environment_variables": .environmentVariables,
        "secret_environment_variables": .secretMap, "tags": .tags,
    ], required: ["name"])
}

extension V1.UpdateNamespaceRequest {
    /// The body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "description": .description, "environment_variables": .environmentVariables,
        "secret_environment_variables": .map(.string(), keys: .variableName, maxProperties: NamespaceRules.maxSecrets,
                                             description: "replaces every secret; \"\" keeps a key's current value"),
        "tags": .tags,
    ])
}

extension V1.Namespace: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "organization_id": .uuid, "project_id": .uuid, "description": .string(), "status": .string(),
        "environment_variables": .map(.string()), "secret_environment_variables": .map(.string()), "tags": .array(.string()),
        "created_at": .timestamp, "updated_at": .timestamp, "error_message": .nullableString, "region": .region,
    ])
}

extension V1.ListNamespacesResponse: DocumentedResponse {
    static let schema = JSONSchema.list("namespaces", of: V1.Namespace.schema)
}
