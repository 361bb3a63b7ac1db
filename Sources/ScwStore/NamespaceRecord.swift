import Foundation
import GRDB
import ScwDomain

/// One row of the `namespace` table.
struct NamespaceRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "namespace"

    var id: String
    var kind: String
    var name: String
    var project_id: String
    var organization_id: String
    var region: String
    var description: String
    var phase: String
    var settles_at: Int64
    var environment_variables: [String: String]
    var secrets: [HashedSecret]
    var tags: [String]
    var registry_namespace_id: String
    var endpoint_suffix: String
    var vpc_integration_activated: Bool
    var error_message: String?
    var created_at: Int64
    var updated_at: Int64
    var secret_values: [String: String]
    var has_key: Bool

    /// Row from a domain value.
    init(_ ns: Namespace) {
        id = ns.id.rawValue
        kind = ns.kind.rawValue
        name = ns.name
        project_id = ns.projectID.rawValue
        organization_id = ns.organizationID.rawValue
        region = ns.region.rawValue
        description = ns.description
        phase = ns.phase.rawValue
        settles_at = ns.settlesAt.nanoseconds
        environment_variables = ns.environmentVariables
        secrets = ns.secrets
        tags = ns.tags
        registry_namespace_id = ns.registryNamespaceID.rawValue
        endpoint_suffix = ns.endpointSuffix
        vpc_integration_activated = ns.vpcIntegrationActivated
        error_message = ns.errorMessage
        created_at = ns.createdAt.nanoseconds
        updated_at = ns.updatedAt.nanoseconds
        secret_values = ns.secretValues
        has_key = ns.keyReady
    }

    /// The domain value of this row.
    var namespace: Namespace {
        var ns = Namespace(
            id: NamespaceID(trusted: id), kind: NamespaceKind(rawValue: kind) ?? .container, name: name,
            projectID: ProjectID(trusted: project_id), organizationID: OrganizationID(trusted: organization_id),
            region: Region(rawValue: region) ?? .frPar, description: description,
            phase: ResourcePhase(rawValue: phase) ?? .error, settlesAt: Timestamp(nanoseconds: settles_at),
            environmentVariables: environment_variables, secrets: secrets, tags: tags,
            registryNamespaceID: RegistryNamespaceID(trusted: registry_namespace_id), endpointSuffix: endpoint_suffix,
            vpcIntegrationActivated: vpc_integration_activated, errorMessage: error_message,
            createdAt: Timestamp(nanoseconds: created_at), updatedAt: Timestamp(nanoseconds: updated_at), keyReady: has_key)
        ns.secretValues = secret_values
        return ns
    }
}

/// Rows of the identity tables.
struct OrganizationRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "organization"
    var id: String
    var name: String
}

/// One row of the `project` table.
struct ProjectRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "project"
    var id: String
    var organization_id: String
    var name: String

    var project: Project {
        Project(id: ProjectID(trusted: id), organizationID: OrganizationID(trusted: organization_id), name: name)
    }
}

/// One row of the `api_key` table.
struct APIKeyRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "api_key"
    var access_key: String
    var secret_digest: String
    var secret_key: String
    var organization_id: String
    var project_ids: [String]?
    var default_project_id: String
    var expires_at: Int64?

    init(_ key: APIKey) {
        access_key = key.accessKey
        secret_digest = ConstantTime.digest(key.secretKey)
        secret_key = key.secretKey
        organization_id = key.organizationID.rawValue
        project_ids = key.projectIDs?.map(\.rawValue)
        default_project_id = key.defaultProjectID.rawValue
        expires_at = key.expiresAt?.nanoseconds
    }

    var apiKey: APIKey {
        APIKey(accessKey: access_key, secretKey: secret_key, organizationID: OrganizationID(trusted: organization_id),
               projectIDs: project_ids?.map { ProjectID(trusted: $0) },
               defaultProjectID: ProjectID(trusted: default_project_id),
               expiresAt: expires_at.map { Timestamp(nanoseconds: $0) })
    }
}
