import Hummingbird
import ScwDomain

extension V1 {
    /// A container as v1 renders it: byte sizes, `image`, `public_endpoint`, probes, secrets as a map.
    public struct Container: ResponseEncodable, Sendable {
        var id: String
        var name: String
        var namespace_id: String
        var description: String
        var status: String
        var error_message: String?
        var created_at: String
        var updated_at: String
        var min_scale: Int
        var max_scale: Int
        var memory_limit_bytes: Int64
        var mvcpu_limit: Int
        var timeout: String
        var privacy: String
        var image: String
        var `protocol`: String
        var port: Int
        var https_connections_only: Bool
        var sandbox: String
        var local_storage_limit_bytes: Int64
        var scaling_option: WireScalingOption
        var tags: [String]
        var command: [String]
        var args: [String]
        var environment_variables: [String: String]
        var public_endpoint: String
        var liveness_probe: WireProbe
        var startup_probe: Nullable<WireProbe>
        var secret_environment_variables: [String: String]
        var private_network_id: String?
        var region: String
    }

    /// Body of `POST …/containers` and `PATCH …/containers/{id}` (PATCH spells the HTTPS flag `https_connection_only`).
    struct ContainerRequest: Decodable, Sendable {
        var namespace_id: String?
        var name: String?
        var image: String?
        var environment_variables: [String: String]?
        var secret_environment_variables: [String: String]?
        var min_scale: Int?
        var max_scale: Int?
        var memory_limit_bytes: WireInt64?
        var mvcpu_limit: Int?
        var timeout: String?
        var privacy: String?
        var description: String?
        var `protocol`: String?
        var port: Int?
        var https_connections_only: Bool?
        var https_connection_only: Bool?
        var sandbox: String?
        var local_storage_limit_bytes: WireInt64?
        var scaling_option: WireScalingOption?
        var liveness_probe: WireProbe?
        var startup_probe: WireProbe?
        var tags: [String]?
        var private_network_id: String?
        var command: [String]?
        var args: [String]?
    }

    /// `{"containers":[…],"total_count":N}`.
    struct ListContainersResponse: ResponseEncodable, Sendable {
        var containers: [Container]
        var total_count: Int
    }
}

extension V1.Container {
    /// Renders a container; v1 shows microseconds, and whole seconds for `updated_at` once the platform has settled a deploy.
    init(_ c: ScwDomain.Container) {
        let s = c.spec
        let settled = c.phase == .ready || c.phase == .error
        let updated = V1.updatedAt(c.updatedAt, settled: settled && c.readyAt != nil && c.updatedAt == c.readyAt, createdAt: c.createdAt)
        let errorMessage: String?
        switch c.phase {
        case .ready, .created: errorMessage = ""
        case .error: errorMessage = c.errorMessage ?? ""
        case .creating, .updating, .deleting: errorMessage = nil
        }
        self.init(
            id: c.id.rawValue, name: c.name, namespace_id: c.namespaceID.rawValue, description: s.description, status: V1.status(c.phase),
            error_message: errorMessage, created_at: c.createdAt.roundedToMicroseconds.rfc3339(fractionDigits: 6), updated_at: updated,
            min_scale: s.minScale, max_scale: s.maxScale, memory_limit_bytes: s.memoryLimitBytes, mvcpu_limit: s.mvcpuLimit,
            timeout: WireValues.duration(s.timeoutSeconds), privacy: s.privacy.rawValue, image: s.image, protocol: s.protocol.rawValue,
            port: s.port, https_connections_only: s.httpsOnly, sandbox: s.sandbox.rawValue, local_storage_limit_bytes: s.localStorageLimitBytes,
            scaling_option: WireScalingOption(s.scalingOption), tags: s.tags, command: s.command, args: s.args,
            environment_variables: s.environmentVariables, public_endpoint: c.publicEndpoint,
            liveness_probe: WireProbe(s.livenessProbe, withTimeout: true),
            startup_probe: Nullable(s.startupProbe.map { WireProbe($0, withTimeout: true) }),
            secret_environment_variables: Dictionary(c.secrets.map { ($0.key, $0.hashedValue) }, uniquingKeysWith: { a, _ in a }),
            private_network_id: s.privateNetworkID, region: c.region.rawValue)
    }
}

extension V1 {
    /// v1's container status words: no `created`/`pending` (a v1beta1 container never deployed reads as `ready`,
    /// the mock's choice: the real behaviour is not recorded).
    static func status(_ phase: ApplicationPhase) -> String {
        switch phase {
        case .created, .ready: return "ready"
        case .creating: return "creating"
        case .updating: return "updating"
        case .error: return "error"
        case .deleting: return "deleting"
        }
    }
}

extension V1.ContainerRequest {
    /// The domain patch this request asks for; `patching` reads PATCH's `https_connection_only` spelling first.
    func patch(patching: Bool) throws -> ContainerPatch {
        var p = ContainerPatch()
        p.description = description
        p.environmentVariables = environment_variables
        p.minScale = min_scale
        p.maxScale = max_scale
        p.memoryLimitBytes = memory_limit_bytes?.value
        p.mvcpuLimit = mvcpu_limit
        p.timeoutSeconds = try WireValues.seconds(timeout, argument: "timeout")
        p.privacy = try WireValues.enumValue(privacy, Privacy.self, sentinel: "unknown_privacy", argument: "privacy")
        p.image = image
        p.protocol = try WireValues.enumValue(self.protocol, ContainerProtocol.self, sentinel: "unknown_protocol", argument: "protocol")
        p.port = port
        p.httpsOnly = patching ? (https_connection_only ?? https_connections_only) : https_connections_only
        p.sandbox = try WireValues.enumValue(sandbox, Sandbox.self, sentinel: "unknown_sandbox", argument: "sandbox")
        p.localStorageLimitBytes = local_storage_limit_bytes?.value
        p.scalingOption = try scaling_option?.domain()
        p.livenessProbe = try liveness_probe?.domain(argument: "liveness_probe")
        p.startupProbe = try startup_probe?.domain(argument: "startup_probe")
        p.tags = tags
        p.privateNetworkID = private_network_id
        p.command = command
        p.args = args
        p.secrets = secret_environment_variables.map { .replace($0) } ?? .unchanged
        p.hashProfile = .containersV1
        return p
    }
}

extension V1.ContainerRequest {
    /// The fields `POST` and `PATCH` share, sizes in bytes.
    private static let settings: [String: JSONSchema] = [
        "image": .string(), "environment_variables": .environmentVariables, "secret_environment_variables": .secretMap,
        "min_scale": .minScale, "max_scale": .maxScale,
        "memory_limit_bytes": .int64(128_000_000...16_384_000_000, description: "a whole number of MB, in bytes"),
        "mvcpu_limit": .mvcpu, "timeout": .applicationTimeout, "privacy": .privacy, "description": .description,
        "protocol": .containerProtocol, "port": .port, "sandbox": .sandbox,
        "local_storage_limit_bytes": .int64(1_000_000...100_000_000_000, description: "a whole number of MB, in bytes"),
        "scaling_option": .scalingOption, "liveness_probe": .probe(withTimeout: true), "startup_probe": .probe(withTimeout: true),
        "tags": .tags, "private_network_id": .uuid, "command": .commandLine, "args": .commandLine, "https_connections_only": .boolean,
    ]
    /// The `POST …/containers` body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object(settings.merging(["namespace_id": .uuid, "name": .applicationName]) { a, _ in a },
                                          required: ["namespace_id", "name", "image"])
    /// The `PATCH …/containers/{id}` body's schema: PATCH spells the flag `https_connection_only` (the plural is read
    /// when the singular is absent).
    static let updateSchema = JSONSchema.object(settings.merging(["https_connection_only": .boolean]) { a, _ in a })
}

extension V1.Container: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json` (sizes in bytes).
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "namespace_id": .uuid, "description": .string(), "status": .string(),
        "error_message": .nullableString, "created_at": .timestamp, "updated_at": .timestamp, "min_scale": .integer(),
        "max_scale": .integer(), "memory_limit_bytes": .integer(), "mvcpu_limit": .integer(), "timeout": .string(), "privacy": .string(),
        "image": .string(), "protocol": .string(), "port": .integer(), "https_connections_only": .boolean, "sandbox": .string(),
        "local_storage_limit_bytes": .integer(), "scaling_option": .scalingOption, "tags": .array(.string()),
        "command": .array(.string()), "args": .array(.string()), "environment_variables": .map(.string()), "public_endpoint": .string(),
        "liveness_probe": .probe(withTimeout: true), "startup_probe": JSONSchema.probe(withTimeout: true).orNull,
        "secret_environment_variables": .map(.string()), "private_network_id": .nullableString, "region": .region,
    ])
}

extension V1.ListContainersResponse: DocumentedResponse {
    static let schema = JSONSchema.list("containers", of: V1.Container.schema)
}
