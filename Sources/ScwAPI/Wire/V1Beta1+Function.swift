import Hummingbird
import ScwDomain

extension V1Beta1 {
    /// A function as functions v1beta1 renders it.
    public struct Function: ResponseEncodable, Sendable {
        var id: String
        var name: String
        var namespace_id: String
        var status: String
        var environment_variables: [String: String]
        var min_scale: Int
        var max_scale: Int
        var runtime: String
        var memory_limit: Int
        var cpu_limit: Int
        var timeout: String
        var handler: String
        var error_message: Nullable<String>
        var build_message: Nullable<String>
        var privacy: String
        var description: String
        var domain_name: String
        var secret_environment_variables: [SecretHashedValue]
        var region: String
        var http_option: String
        var runtime_message: String
        var sandbox: String
        var created_at: String
        var updated_at: String
        var ready_at: Nullable<String>
        var tags: [String]
        var private_network_id: Nullable<String>
    }

    /// Body of `POST …/functions` and `PATCH …/functions/{id}`.
    struct FunctionRequest: Decodable, Sendable {
        var namespace_id: String?
        var name: String?
        var environment_variables: [String: String]?
        var min_scale: Int?
        var max_scale: Int?
        var runtime: String?
        var memory_limit: Int?
        var timeout: String?
        var handler: String?
        var privacy: String?
        var description: String?
        var secret_environment_variables: [Secret]?
        var http_option: String?
        var sandbox: String?
        var tags: [String]?
        var private_network_id: String?
        var redeploy: Bool?
    }

    /// `{"functions":[…],"total_count":N}`.
    struct ListFunctionsResponse: ResponseEncodable, Sendable {
        var functions: [Function]
        var total_count: Int
    }

    /// `{"url","headers":{name:[values]}}`: an upload or download URL.
    struct PresignedURL: ResponseEncodable, Sendable {
        var url: String
        var headers: [String: [String]]
    }

    /// One runtime of `GET …/runtimes`.
    struct Runtime: Encodable, Sendable {
        var name, language, version, default_handler, code_sample, status, status_message, `extension`, implementation, logo_url: String
    }

    /// `{"runtimes":[…],"total_count":N}`.
    struct ListRuntimesResponse: ResponseEncodable, Sendable {
        var runtimes: [Runtime]
        var total_count: Int
    }
}

extension V1Beta1.Function {
    /// Renders a function; `written` answers show nanosecond timestamps.
    init(_ f: ScwDomain.Function, written: Bool) {
        func time(_ t: Timestamp) -> String { written ? t.rfc3339(fractionDigits: 9) : t.roundedToMicroseconds.rfc3339(fractionDigits: 6) }
        let s = f.spec
        self.init(
            id: f.id.rawValue, name: f.name, namespace_id: f.namespaceID.rawValue, status: V1Beta1.status(f.phase),
            environment_variables: s.environmentVariables, min_scale: s.minScale, max_scale: s.maxScale, runtime: s.runtime,
            memory_limit: s.memoryLimitMB, cpu_limit: s.cpuLimit, timeout: WireValues.duration(s.timeoutSeconds), handler: s.handler,
            error_message: Nullable(f.phase == .error ? f.errorMessage : nil), build_message: nil, privacy: s.privacy.rawValue,
            description: s.description, domain_name: f.domainName,
            secret_environment_variables: f.secrets.map { .init(key: $0.key, hashed_value: $0.hashedValue) }, region: f.region.rawValue,
            http_option: s.httpsOnly ? "redirected" : "enabled", runtime_message: "", sandbox: s.sandbox.rawValue,
            created_at: time(f.createdAt), updated_at: time(f.updatedAt), ready_at: Nullable(f.readyAt.map(time)), tags: s.tags,
            private_network_id: Nullable(s.privateNetworkID))
    }
}

extension V1Beta1.FunctionRequest {
    /// The domain patch this request asks for (`unknown_*` sentinels and nulls mean "not set").
    func patch() throws -> FunctionPatch {
        var p = FunctionPatch()
        p.description = description
        p.environmentVariables = environment_variables
        p.minScale = min_scale
        p.maxScale = max_scale
        if let runtime, runtime != "unknown_runtime" {
            guard FunctionRuntimes.find(runtime) != nil else {
                throw ScwError.invalid("runtime", .format, "runtime must be one of the runtimes GET …/runtimes lists")
            }
            p.runtime = runtime
        }
        // Scaleway's field is a uint32; beyond Int32 the size is invalid anyway (128–4096 MB), and clamping it keeps the
        // domain's CPU derivation (memory × 70 / 128) from overflowing and trapping: the answer stays the same 400.
        p.memoryLimitMB = memory_limit.map { Swift.min(Swift.max($0, Int(Int32.min)), Int(Int32.max)) }
        p.timeoutSeconds = try WireValues.seconds(timeout, argument: "timeout")
        p.handler = handler
        p.privacy = try WireValues.enumValue(privacy, Privacy.self, sentinel: "unknown_privacy", argument: "privacy")
        if let option = http_option, option != "unknown_http_option" {
            guard option == "enabled" || option == "redirected" else {
                throw ScwError.invalid("http_option", .format, "http_option must be one of enabled, redirected")
            }
            p.httpsOnly = option == "redirected"
        }
        p.sandbox = try WireValues.enumValue(sandbox, Sandbox.self, sentinel: "unknown_sandbox", argument: "sandbox")
        p.tags = tags
        p.privateNetworkID = private_network_id
        p.secrets = secret_environment_variables.map { .merge($0.map { ($0.key, $0.value) }) } ?? .unchanged
        return p
    }
}

extension V1Beta1.FunctionRequest {
    /// The fields `POST` and `PATCH` share.
    private static let settings: [String: JSONSchema] = [
        "environment_variables": .environmentVariables, "min_scale": .minScale, "max_scale": .maxScale,
        "memory_limit": .integer(128...4096, description: "MB"), "timeout": .applicationTimeout,
        "handler": .string(minLength: 1, maxLength: 255), "privacy": .privacy, "description": .description, "http_option": .httpOption,
        "sandbox": .sandbox, "tags": .tags, "private_network_id": .uuid,
    ]
    /// The `POST …/functions` body's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object(settings.merging([
        "namespace_id": .uuid, "name": .applicationName, "secret_environment_variables": .secretList(update: false),
        "runtime": .oneOf(FunctionRuntimes.all.map(\.name), description: "see GET …/runtimes"),
    ]) { a, _ in a }, required: ["namespace_id", "name", "runtime"])
    /// The `PATCH …/functions/{id}` body's schema.
    static let updateSchema = JSONSchema.object(settings.merging([
        "secret_environment_variables": .secretList(update: true), "redeploy": .boolean, "runtime": .runtime,
    ]) { a, _ in a })
}

extension V1Beta1.Function: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "id": .uuid, "name": .string(), "namespace_id": .uuid, "status": .string(), "environment_variables": .map(.string()),
        "min_scale": .integer(), "max_scale": .integer(), "runtime": .string(), "memory_limit": .integer(), "cpu_limit": .integer(),
        "timeout": .string(), "handler": .string(), "error_message": .nullableString, "build_message": .nullableString,
        "privacy": .string(), "description": .string(), "domain_name": .string(), "secret_environment_variables": .hashedSecrets,
        "region": .region, "http_option": .string(), "runtime_message": .string(), "sandbox": .string(), "created_at": .timestamp,
        "updated_at": .timestamp, "ready_at": JSONSchema.timestamp.orNull, "tags": .array(.string()), "private_network_id": .nullableString,
    ])
}

extension V1Beta1.ListFunctionsResponse: DocumentedResponse {
    static let schema = JSONSchema.list("functions", of: V1Beta1.Function.schema)
}

extension V1Beta1.PresignedURL: DocumentedResponse {
    static let schema = JSONSchema.object(["url": .string(format: "uri"), "headers": .map(.array(.string()))], required: ["url", "headers"])
}

extension V1Beta1.ListRuntimesResponse: DocumentedResponse {
    static let schema = JSONSchema.list("runtimes", of: .object(Dictionary(uniqueKeysWithValues: [
        "name", "language", "version", "default_handler", "code_sample", "status", "status_message", "extension", "implementation", "logo_url",
    ].map { ($0, JSONSchema.string()) })))
}
