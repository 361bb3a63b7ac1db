import Hummingbird
import ScwDomain

/// Wire types of containers v1beta1 and functions v1beta1 (their namespaces share one shape).
/// Field names are Scaleway's own.
public enum V1Beta1 {
    /// A namespace as v1beta1 renders it.
    public struct Namespace: ResponseEncodable, Sendable {
        public var id: String
        public var name: String
        public var organization_id: String
        public var project_id: String
        public var description: String
        public var status: String
        public var environment_variables: [String: String]
        public var secret_environment_variables: [SecretHashedValue]
        public var registry_namespace_id: String
        public var registry_endpoint: String
        public var error_message: Nullable<String>
        public var tags: [String]
        public var created_at: String
        public var updated_at: String
        public var vpc_integration_activated: Bool
        public var region: String
    }

    /// `{"key","hashed_value"}`: how v1beta1 shows a secret.
    public struct SecretHashedValue: Codable, Sendable {
        public var key: String
        public var hashed_value: String
    }

    /// `{"key","value"}`: how v1beta1 receives a secret; a missing or null value deletes the key on update.
    public struct Secret: Decodable, Sendable {
        public var key: String
        public var value: String?
    }

    /// Body of `POST .../namespaces`.
    public struct CreateNamespaceRequest: Decodable, Sendable {
        public var name: String?
        public var project_id: String?
        public var description: String?
        public var environment_variables: [String: String]?
        public var secret_environment_variables: [Secret]?
        public var tags: [String]?
        public var activate_vpc_integration: Bool?
    }

    /// Body of `PATCH .../namespaces/{id}`; null and absent both mean "leave as is".
    public struct UpdateNamespaceRequest: Decodable, Sendable {
        public var description: String?
        public var environment_variables: [String: String]?
        public var secret_environment_variables: [Secret]?
        public var tags: [String]?
    }

    /// `{"namespaces":[…],"total_count":N}`.
    public struct ListNamespacesResponse: ResponseEncodable, Sendable {
        public var namespaces: [Namespace]
        public var total_count: Int
    }
}

extension V1Beta1.Namespace {
    /// Renders a namespace. `written` = the answer to a POST/PATCH/DELETE, which shows nanosecond timestamps
    /// (in-memory time); reads show the stored microseconds.
    init(_ ns: ScwDomain.Namespace, written: Bool) {
        let digits = written ? 9 : 6
        func time(_ t: Timestamp) -> String { (written ? t : t.roundedToMicroseconds).rfc3339(fractionDigits: digits) }
        // Registry fields are "" until the namespace's creation settles.
        let registryReady = ns.phase != .creating
        self.init(
            id: ns.id.rawValue, name: ns.name, organization_id: ns.organizationID.rawValue,
            project_id: ns.projectID.rawValue, description: ns.description,
            status: V1Beta1.status(ns.phase),
            environment_variables: ns.environmentVariables,
            secret_environment_variables: ns.secrets.map { .init(key: $0.key, hashed_value: $0.hashedValue) },
            registry_namespace_id: registryReady ? ns.registryNamespaceID.rawValue : "",
            registry_endpoint: registryReady ? ns.registryEndpoint : "",
            error_message: Nullable(ns.errorMessage), tags: ns.tags,
            created_at: time(ns.createdAt), updated_at: time(ns.updatedAt),
            vpc_integration_activated: ns.vpcIntegrationActivated, region: ns.region.rawValue)
    }
}

extension V1Beta1 {
    /// v1beta1's status words: both creation and updates show as `pending`.
    static func status(_ phase: ResourcePhase) -> String {
        switch phase {
        case .creating, .updating: return "pending"
        case .ready: return "ready"
        case .error: return "error"
        case .deleting: return "deleting"
        }
    }
}

extension V1Beta1.CreateNamespaceRequest {
    /// The body's schema in `GET /_mock/openapi.json` (containers and functions alike).
    static let schema = JSONSchema.object([
        "name": .namespaceName, "project_id": .uuid, "description": .description, "environment_variables": .environmentVariables,
        "secret_environment_variables": .secretList(update: false), "tags": .tags, "activate_vpc_integration": .boolean,
    ])
}

extension V1Beta1.UpdateNamespaceRequest {
    /// The body's schema in `GET /_mock/openapi.json`: a null secret value deletes the key.
    static let schema = JSONSchema.object([
        "description": .description, "environment_variables": .environmentVariables,
        "secret_environment_variables": .secretList(update: true), "tags": .tags,
    ])
}

extension V1Beta1.Namespace: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "organization_id": .uuid, "project_id": .uuid, "description": .string(), "status": .string(),
        "environment_variables": .map(.string()), "secret_environment_variables": .hashedSecrets, "registry_namespace_id": .string(),
        "registry_endpoint": .string(), "error_message": .nullableString, "tags": .array(.string()), "created_at": .timestamp,
        "updated_at": .timestamp, "vpc_integration_activated": .boolean, "region": .region,
    ])
}

extension V1Beta1.ListNamespacesResponse: DocumentedResponse {
    static let schema = JSONSchema.list("namespaces", of: V1Beta1.Namespace.schema)
}
