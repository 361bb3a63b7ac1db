import Hummingbird
import ScwDomain

extension V1Beta1 {
    /// A container as v1beta1 renders it: MB sizes, `registry_image`, `domain_name`, `health_check`.
    public struct Container: ResponseEncodable, Sendable {
        var id: String
        var name: String
        var namespace_id: String
        var status: String
        var environment_variables: [String: String]
        var min_scale: Int
        var max_scale: Int
        var memory_limit: Int64
        var cpu_limit: Int
        var timeout: String
        var error_message: Nullable<String>
        var privacy: String
        var description: String
        var registry_image: String
        var max_concurrency: Int
        var domain_name: String
        var `protocol`: String
        var port: Int
        var secret_environment_variables: [SecretHashedValue]
        var http_option: String
        var sandbox: String
        var local_storage_limit: Int64
        var scaling_option: WireScalingOption
        var created_at: String
        var updated_at: String
        var ready_at: Nullable<String>
        var health_check: WireProbe
        var tags: [String]
        var private_network_id: Nullable<String>
        var command: [String]
        var args: [String]
        var region: String
    }

    /// Body of `POST …/containers`.
    struct CreateContainerRequest: Decodable, Sendable {
        var namespace_id: String?
        var name: String?
        var environment_variables: [String: String]?
        var min_scale: Int?
        var max_scale: Int?
        var memory_limit: Int?
        var cpu_limit: Int?
        var timeout: String?
        var privacy: String?
        var description: String?
        var registry_image: String?
        var max_concurrency: Int?
        var `protocol`: String?
        var port: Int?
        var secret_environment_variables: [Secret]?
        var http_option: String?
        var sandbox: String?
        var local_storage_limit: Int?
        var scaling_option: WireScalingOption?
        var health_check: WireProbe?
        var tags: [String]?
        var private_network_id: String?
        var command: [String]?
        var args: [String]?
        /// PATCH only (deprecated; every PATCH redeploys anyway).
        var redeploy: Bool?
    }

    /// `{"containers":[…],"total_count":N}`.
    struct ListContainersResponse: ResponseEncodable, Sendable {
        var containers: [Container]
        var total_count: Int
    }
}

extension V1Beta1.Container {
    /// Renders a container; `written` answers show nanosecond timestamps.
    init(_ c: ScwDomain.Container, written: Bool) {
        func time(_ t: Timestamp) -> String { written ? t.rfc3339(fractionDigits: 9) : t.roundedToMicroseconds.rfc3339(fractionDigits: 6) }
        let s = c.spec
        self.init(
            id: c.id.rawValue, name: c.name, namespace_id: c.namespaceID.rawValue, status: V1Beta1.status(c.phase),
            environment_variables: s.environmentVariables, min_scale: s.minScale, max_scale: s.maxScale,
            memory_limit: s.memoryLimitBytes / 1_000_000, cpu_limit: s.mvcpuLimit, timeout: WireValues.duration(s.timeoutSeconds),
            error_message: Nullable(c.phase == .error ? c.errorMessage : nil), privacy: s.privacy.rawValue, description: s.description,
            registry_image: s.image, max_concurrency: s.maxConcurrency, domain_name: c.domainName, protocol: s.protocol.rawValue,
            port: s.port, secret_environment_variables: c.secrets.map { .init(key: $0.key, hashed_value: $0.hashedValue) },
            http_option: s.httpsOnly ? "redirected" : "enabled", sandbox: s.sandbox.rawValue,
            local_storage_limit: s.localStorageLimitBytes / 1_000_000, scaling_option: WireScalingOption(s.scalingOption),
            created_at: time(c.createdAt), updated_at: time(c.updatedAt), ready_at: Nullable(c.readyAt.map(time)),
            health_check: WireProbe(s.livenessProbe, withTimeout: false), tags: s.tags, private_network_id: Nullable(s.privateNetworkID),
            command: s.command, args: s.args, region: c.region.rawValue)
    }
}

extension V1Beta1 {
    /// v1beta1's container status words.
    static func status(_ phase: ApplicationPhase) -> String {
        switch phase {
        case .created: return "created"
        case .creating, .updating: return "pending"
        case .ready: return "ready"
        case .error: return "error"
        case .deleting: return "deleting"
        }
    }

    /// v1 argument names in domain problems, as v1beta1 spells them.
    static let argumentNames = [
        "memory_limit_bytes": "memory_limit", "mvcpu_limit": "cpu_limit", "image": "registry_image",
        "local_storage_limit_bytes": "local_storage_limit", "liveness_probe": "health_check", "https_connections_only": "http_option",
    ]

    /// Renames v1 argument names (and their prefixes) in an `invalid_arguments` error, and a `transient_state`'s
    /// `current_state` into v1beta1's status words (`pending`, not `creating`/`updating`).
    static func renamingArguments<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch ScwError.transientState(let kind, let id, let state) {
            throw ScwError.transientState(kind, id: id, currentState: ApplicationPhase(rawValue: state).map(status) ?? state)
        } catch ScwError.invalidArguments(let problems) {
            throw ScwError.invalidArguments(problems.map { p in
                var p = p
                for (v1, v1beta1) in argumentNames where p.argumentName == v1 || p.argumentName.hasPrefix(v1 + ".") {
                    p.argumentName = v1beta1 + p.argumentName.dropFirst(v1.count)
                }
                return p
            })
        }
    }
}

extension V1Beta1.CreateContainerRequest {
    /// MB → bytes. A size whose bytes do not fit in Int64 saturates, so that it fails validation like any other
    /// too-large size (400) instead of trapping on the overflow and taking the server down.
    static func bytes(megabytes: Int) -> Int64 {
        let (bytes, overflow) = Int64(megabytes).multipliedReportingOverflow(by: 1_000_000)
        return overflow ? (megabytes < 0 ? .min : .max) : bytes
    }

    /// The domain patch this request asks for (explicit nulls and `unknown_*` sentinels mean "not set").
    func patch() throws -> ContainerPatch {
        var p = ContainerPatch()
        p.description = description
        p.environmentVariables = environment_variables
        p.minScale = min_scale
        p.maxScale = max_scale
        p.memoryLimitBytes = memory_limit.map(Self.bytes(megabytes:))
        p.mvcpuLimit = cpu_limit
        p.timeoutSeconds = try WireValues.seconds(timeout, argument: "timeout")
        p.privacy = try WireValues.enumValue(privacy, Privacy.self, sentinel: "unknown_privacy", argument: "privacy")
        p.image = registry_image
        p.maxConcurrency = max_concurrency
        p.protocol = try WireValues.enumValue(self.protocol, ContainerProtocol.self, sentinel: "unknown_protocol", argument: "protocol")
        p.port = port
        if let option = http_option, option != "unknown_http_option" {
            guard option == "enabled" || option == "redirected" else {
                throw ScwError.invalid("http_option", .format, "http_option must be one of enabled, redirected")
            }
            p.httpsOnly = option == "redirected"
        }
        p.sandbox = try WireValues.enumValue(sandbox, Sandbox.self, sentinel: "unknown_sandbox", argument: "sandbox")
        p.localStorageLimitBytes = local_storage_limit.map(Self.bytes(megabytes:))
        p.scalingOption = try scaling_option?.domain()
        p.livenessProbe = try health_check?.domain(argument: "health_check")
        p.tags = tags
        p.privateNetworkID = private_network_id
        p.command = command
        p.args = args
        p.secrets = secret_environment_variables.map { .merge($0.map { ($0.key, $0.value) }) } ?? .unchanged
        p.hashProfile = .legacy
        p.forceRedeploy = redeploy == true
        return p
    }
}

extension V1Beta1.CreateContainerRequest {
    /// The fields `POST` and `PATCH` share, sizes in MB.
    private static let settings: [String: JSONSchema] = [
        "environment_variables": .environmentVariables, "min_scale": .minScale, "max_scale": .maxScale,
        "memory_limit": .integer(128...16384, description: "MB"), "cpu_limit": .mvcpu, "timeout": .applicationTimeout,
        "privacy": .privacy, "description": .description, "registry_image": .string(), "max_concurrency": .integer(ContainerRules.concurrencyRange),
        "protocol": .containerProtocol, "port": .port, "http_option": .httpOption, "sandbox": .sandbox,
        "local_storage_limit": .integer(1...100_000, description: "MB"), "scaling_option": .scalingOption,
        "health_check": .probe(withTimeout: false), "tags": .tags, "private_network_id": .uuid, "command": .commandLine, "args": .commandLine,
    ]
    /// The `POST …/containers` body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object(settings.merging([
        "namespace_id": .uuid, "name": .applicationName, "secret_environment_variables": .secretList(update: false),
    ]) { a, _ in a }, required: ["namespace_id", "name"])
    /// The `PATCH …/containers/{id}` body's schema: the create fields but the namespace and name, plus `redeploy`.
    static let updateSchema = JSONSchema.object(settings.merging([
        "secret_environment_variables": .secretList(update: true), "redeploy": .boolean,
    ]) { a, _ in a })
}

extension V1Beta1.Container: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json` (sizes in MB).
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "namespace_id": .uuid, "status": .string(), "environment_variables": .map(.string()),
        "min_scale": .integer(), "max_scale": .integer(), "memory_limit": .integer(), "cpu_limit": .integer(), "timeout": .string(),
        "error_message": .nullableString, "privacy": .string(), "description": .string(), "registry_image": .string(),
        "max_concurrency": .integer(), "domain_name": .string(), "protocol": .string(), "port": .integer(),
        "secret_environment_variables": .hashedSecrets, "http_option": .string(), "sandbox": .string(), "local_storage_limit": .integer(),
        "scaling_option": .scalingOption, "created_at": .timestamp, "updated_at": .timestamp, "ready_at": JSONSchema.timestamp.orNull,
        "health_check": .probe(withTimeout: false), "tags": .array(.string()), "private_network_id": .nullableString,
        "command": .array(.string()), "args": .array(.string()), "region": .region,
    ])
}

extension V1Beta1.ListContainersResponse: DocumentedResponse {
    static let schema = JSONSchema.list("containers", of: V1Beta1.Container.schema)
}
