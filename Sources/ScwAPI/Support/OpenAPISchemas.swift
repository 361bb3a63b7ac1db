import Foundation
import ScwDomain
import ScwEngine

/// A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) with only the keywords the mock's document uses.
final class JSONSchema: Encodable, Sendable {
    let types: [String]
    let format: String?
    let `enum`: [String]?
    let pattern: String?
    let minimum: Int?
    let maximum: Int?
    let properties: [String: JSONSchema]?
    let required: [String]?
    let additionalProperties: JSONSchema?
    let items: JSONSchema?
    let oneOf: [JSONSchema]?
    let description: String?

    init(types: [String], format: String? = nil, enum values: [String]? = nil, pattern: String? = nil, minimum: Int? = nil,
         maximum: Int? = nil, properties: [String: JSONSchema]? = nil, required: [String]? = nil,
         additionalProperties: JSONSchema? = nil, items: JSONSchema? = nil, oneOf: [JSONSchema]? = nil, description: String? = nil) {
        self.types = types
        self.format = format
        self.enum = values
        self.pattern = pattern
        self.minimum = minimum
        self.maximum = maximum
        self.properties = properties
        self.required = required
        self.additionalProperties = additionalProperties
        self.items = items
        self.oneOf = oneOf
        self.description = description
    }

    static func string(format: String? = nil, pattern: String? = nil, description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["string"], format: format, pattern: pattern, description: description)
    }
    static func oneOf(_ values: [String], description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["string"], enum: values, description: description)
    }
    static func integer(minimum: Int? = nil, maximum: Int? = nil, description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["integer"], minimum: minimum, maximum: maximum, description: description)
    }
    static var boolean: JSONSchema { JSONSchema(types: ["boolean"]) }
    static func object(_ properties: [String: JSONSchema], required: [String] = [], description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["object"], properties: properties, required: required.isEmpty ? nil : required.sorted(), description: description)
    }
    /// An object of arbitrary keys whose values follow `values` (`environment_variables`).
    static func map(_ values: JSONSchema, description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["object"], additionalProperties: values, description: description)
    }
    static func array(_ items: JSONSchema) -> JSONSchema { JSONSchema(types: ["array"], items: items) }
    static func exactlyOne(_ alternatives: [JSONSchema], description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["object"], oneOf: alternatives, description: description)
    }

    /// The same schema also accepting JSON null.
    var orNull: JSONSchema {
        JSONSchema(types: types + ["null"], format: format, enum: self.enum, pattern: pattern, minimum: minimum, maximum: maximum,
                   properties: properties, required: required, additionalProperties: additionalProperties, items: items, oneOf: oneOf,
                   description: description)
    }

    private enum CodingKeys: String, CodingKey {
        case type, format, `enum`, pattern, minimum, maximum, properties, required, additionalProperties, items, oneOf, description
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if types.count == 1 { try c.encode(types[0], forKey: .type) } else { try c.encode(types, forKey: .type) }
        try c.encodeIfPresent(format, forKey: .format)
        try c.encodeIfPresent(self.enum, forKey: .enum)
        try c.encodeIfPresent(pattern, forKey: .pattern)
        try c.encodeIfPresent(minimum, forKey: .minimum)
        try c.encodeIfPresent(maximum, forKey: .maximum)
        try c.encodeIfPresent(properties, forKey: .properties)
        try c.encodeIfPresent(required, forKey: .required)
        try c.encodeIfPresent(additionalProperties, forKey: .additionalProperties)
        try c.encodeIfPresent(items, forKey: .items)
        try c.encodeIfPresent(oneOf, forKey: .oneOf)
        try c.encodeIfPresent(description, forKey: .description)
    }
}

/// The JSON body a route reads, described for the OpenAPI document, with the wire type that decodes it.
struct RequestBodySchema: Sendable {
    let schema: JSONSchema
    /// Whether the route refuses a request without a body (every route that decodes one does: 400 `body`).
    let required: Bool
    /// Decodes a body as the route does; nil when the route ignores its body.
    let decode: (@Sendable (Data) throws -> Any)?
}

/// A query argument a route reads.
struct QueryArgument: Sendable {
    let name: String
    let schema: JSONSchema
    /// Whether the route refuses a request without it.
    let required: Bool
}

/// Request bodies and query arguments of the API routes, keyed by `"METHOD /full/path/:param"` as the route tables
/// spell them, for `GET /_mock/openapi.json`. Built from the wire types and the controllers (field names, enums from
/// the domain types, `order_by` values from the same tables the controllers parse with); `OpenAPISchemaTests` fails
/// when a route that takes a body or arguments has no entry, an entry names no route, or a property is not decoded
/// by its wire type.
enum OpenAPISchemas {
    private typealias S = JSONSchema

    /// The body of each POST/PATCH/PUT route under the API prefixes.
    static let bodies: [String: RequestBodySchema] = buildBodies()
    /// The query arguments of each GET route under the API prefixes whose last segment is not an id (lists, issue-jwt,
    /// upload/download URLs, runtimes); an empty list = the route reads none.
    static let queries: [String: [QueryArgument]] = buildQueries()

    /// The route prefixes the registry covers.
    static let apiPrefixes = ["/containers/v1beta1/", "/containers/v1/", "/functions/v1beta1/"]

    /// The schema of a path parameter of an API route: the region enum, UUIDs for ids.
    static func pathSchema(_ name: String) -> JSONSchema {
        if name == "region" { return .oneOf(Region.allCases.map(\.rawValue)) }
        if name.hasSuffix("_id") { return .string(format: "uuid") }
        return .string()
    }

    // MARK: Shared pieces

    private static let uuid = S.string(format: "uuid")
    private static let tags = S.array(.string())
    private static let stringMap = S.map(.string())
    /// Go durations in whole seconds (`"300s"`, `"300.000000000s"`), as WireValues.seconds accepts them.
    private static let duration = S.string(pattern: #"^[0-9]+(\.0+)?s$"#, description: "duration in whole seconds, e.g. \"300s\"")
    /// Proto3 JSON sends 64-bit integers as numbers or decimal strings (WireInt64).
    private static let int64 = JSONSchema(types: ["integer", "string"], pattern: "^-?[0-9]+$")
    /// The SDKs send an enum's `unknown_*` value for "not set" (Go, every PATCH).
    private static func enumeration<T: RawRepresentable & CaseIterable>(_: T.Type, sentinel: String) -> S where T.RawValue == String {
        .oneOf(T.allCases.map(\.rawValue) + [sentinel])
    }
    private static let privacy = enumeration(Privacy.self, sentinel: "unknown_privacy")
    private static let containerProtocol = enumeration(ContainerProtocol.self, sentinel: "unknown_protocol")
    private static let sandbox = enumeration(Sandbox.self, sentinel: "unknown_sandbox")
    private static let httpOption = S.oneOf(["enabled", "redirected", "unknown_http_option"],
                                            description: "redirected = HTTP is redirected to HTTPS")
    private static let runtime = S.oneOf(FunctionRuntimes.all.map(\.name) + ["unknown_runtime"], description: "see GET …/runtimes")
    private static let region = S.oneOf(Region.allCases.map(\.rawValue))
    private static let scalingOption = S.exactlyOne(
        ["concurrent_requests_threshold", "cpu_usage_threshold", "memory_usage_threshold"].map { S.object([$0: .integer()], required: [$0]) },
        description: "exactly one threshold")
    private static func probe(withTimeout: Bool) -> S {
        var properties: [String: S] = [
            "failure_threshold": .integer(), "interval": duration,
            "http": .object(["path": .string()], required: ["path"]), "tcp": .object([:]),
        ]
        if withTimeout { properties["timeout"] = duration }
        return .object(properties, description: "at most one of http and tcp")
    }
    /// v1beta1 secrets: `[{"key","value"}]`; on updates a null value deletes the key (spec section 6).
    private static func secretList(update: Bool) -> S {
        .array(.object(["key": .string(), "value": update ? S.string().orNull : .string()], required: ["key"]))
    }

    private static func body<T: Decodable & SendableMetatype>(_ type: T.Type, _ properties: [String: S], required: [String] = [],
                                           description: String? = nil) -> RequestBodySchema {
        RequestBodySchema(schema: .object(properties, required: required, description: description), required: true,
                          decode: { try WireJSON.decoder.decode(T.self, from: $0) })
    }

    /// `deploy` and `redeploy`: the SDKs send `{}`, the route reads nothing.
    private static let ignoredBody = RequestBodySchema(schema: .object([:], description: "ignored (the SDKs send {})"), required: false, decode: nil)

    // MARK: Bodies

    private static func buildBodies() -> [String: RequestBodySchema] {
        var bodies: [String: RequestBodySchema] = [:]
        let c1b = "/containers/v1beta1/regions/:region", c1 = "/containers/v1/regions/:region", f1b = "/functions/v1beta1/regions/:region"

        // Namespaces of v1beta1 (containers and functions share the controller).
        for prefix in [c1b, f1b] {
            bodies["POST \(prefix)/namespaces"] = body(V1Beta1.CreateNamespaceRequest.self, [
                "name": .string(), "project_id": uuid, "description": .string(), "environment_variables": stringMap,
                "secret_environment_variables": secretList(update: false), "tags": tags, "activate_vpc_integration": .boolean,
            ])
            bodies["PATCH \(prefix)/namespaces/:namespace_id"] = body(V1Beta1.UpdateNamespaceRequest.self, [
                "description": .string(), "environment_variables": stringMap, "secret_environment_variables": secretList(update: true), "tags": tags,
            ])
        }

        // Containers v1beta1: PATCH takes the create fields minus namespace_id and name, plus redeploy.
        var container: [String: S] = [
            "environment_variables": stringMap, "min_scale": .integer(), "max_scale": .integer(),
            "memory_limit": .integer(description: "MB"), "cpu_limit": .integer(description: "mvCPU"), "timeout": duration, "privacy": privacy,
            "description": .string(), "registry_image": .string(), "max_concurrency": .integer(), "protocol": containerProtocol,
            "port": .integer(), "http_option": httpOption, "sandbox": sandbox,
            "local_storage_limit": .integer(description: "MB"), "scaling_option": scalingOption, "health_check": probe(withTimeout: false),
            "tags": tags, "private_network_id": .string(), "command": .array(.string()), "args": .array(.string()),
        ]
        var create = container
        create["namespace_id"] = uuid
        create["name"] = .string()
        create["secret_environment_variables"] = secretList(update: false)
        bodies["POST \(c1b)/containers"] = body(V1Beta1.CreateContainerRequest.self, create, required: ["namespace_id", "name"])
        container["secret_environment_variables"] = secretList(update: true)
        container["redeploy"] = .boolean
        bodies["PATCH \(c1b)/containers/:container_id"] = body(V1Beta1.CreateContainerRequest.self, container)
        bodies["POST \(c1b)/containers/:container_id/deploy"] = ignoredBody

        // Functions v1beta1.
        var function: [String: S] = [
            "environment_variables": stringMap, "min_scale": .integer(), "max_scale": .integer(), "runtime": runtime,
            "memory_limit": .integer(description: "MB"), "timeout": duration, "handler": .string(), "privacy": privacy,
            "description": .string(), "http_option": httpOption, "sandbox": sandbox, "tags": tags, "private_network_id": .string(),
        ]
        var createFunction = function
        createFunction["namespace_id"] = uuid
        createFunction["name"] = .string()
        createFunction["secret_environment_variables"] = secretList(update: false)
        bodies["POST \(f1b)/functions"] = body(V1Beta1.FunctionRequest.self, createFunction, required: ["namespace_id", "name", "runtime"])
        function["secret_environment_variables"] = secretList(update: true)
        function["redeploy"] = .boolean
        bodies["PATCH \(f1b)/functions/:function_id"] = body(V1Beta1.FunctionRequest.self, function)
        bodies["POST \(f1b)/functions/:function_id/deploy"] = ignoredBody

        // Crons, domains, tokens and triggers of v1beta1: containers name the application `container_id`, functions `function_id`.
        for (prefix, app) in [(c1b, "container_id"), (f1b, "function_id")] {
            let cron: [String: S] = [app: uuid, "schedule": .string(description: "5-field cron expression, e.g. \"5 4 * * *\""),
                                     "args": S(types: ["object"], description: "any JSON object"),
                                     "name": .string()]
            bodies["POST \(prefix)/crons"] = body(V1Beta1.CronRequest.self, cron, required: [app, "schedule"])
            bodies["PATCH \(prefix)/crons/:cron_id"] = body(V1Beta1.CronRequest.self, cron)
            bodies["POST \(prefix)/domains"] = body(V1Beta1.DomainRequest.self, [app: uuid, "hostname": .string(format: "hostname")],
                                                   required: [app, "hostname"])
            bodies["POST \(prefix)/tokens"] = body(V1Beta1.CreateTokenRequest.self, [
                "namespace_id": uuid, app: uuid, "description": .string(), "expires_at": .string(format: "date-time"),
            ], description: "exactly one of namespace_id and \(app)")
            bodies["POST \(prefix)/triggers"] = body(V1Beta1.TriggerRequest.self, [
                app: uuid, "name": .string(), "description": .string(),
                "scw_sqs_config": .object(["queue": .string(), "mnq_project_id": uuid, "mnq_region": region]),
                "scw_nats_config": .object(["subject": .string(), "mnq_nats_account_id": .string(), "mnq_project_id": uuid, "mnq_region": region]),
                "sqs_config": .object(["endpoint": .string(format: "uri"), "queue_url": .string(format: "uri"), "access_key": .string(),
                                       "secret_key": .string()]),
            ], required: [app, "name"], description: "exactly one of scw_sqs_config, scw_nats_config and sqs_config")
            bodies["PATCH \(prefix)/triggers/:trigger_id"] = body(V1Beta1.TriggerRequest.self, [
                "name": .string(), "description": .string(), "sqs_config": .object(["access_key": .string(), "secret_key": .string()]),
            ])
        }

        // Containers v1.
        bodies["POST \(c1)/namespaces"] = body(V1.CreateNamespaceRequest.self, [
            "name": .string(), "project_id": uuid, "description": .string(), "environment_variables": stringMap,
            "secret_environment_variables": stringMap, "tags": tags,
        ], required: ["name"])
        bodies["PATCH \(c1)/namespaces/:namespace_id"] = body(V1.UpdateNamespaceRequest.self, [
            "description": .string(), "environment_variables": stringMap,
            "secret_environment_variables": .map(.string(), description: "replaces every secret; \"\" keeps a key's current value"), "tags": tags,
        ])
        var v1Container: [String: S] = [
            "image": .string(), "environment_variables": stringMap, "secret_environment_variables": stringMap,
            "min_scale": .integer(), "max_scale": .integer(), "memory_limit_bytes": int64, "mvcpu_limit": .integer(), "timeout": duration,
            "privacy": privacy, "description": .string(), "protocol": containerProtocol, "port": .integer(), "sandbox": sandbox,
            "local_storage_limit_bytes": int64, "scaling_option": scalingOption, "liveness_probe": probe(withTimeout: true),
            "startup_probe": probe(withTimeout: true), "tags": tags, "private_network_id": .string(),
            "command": .array(.string()), "args": .array(.string()),
        ]
        var v1Create = v1Container
        v1Create["namespace_id"] = uuid
        v1Create["name"] = .string()
        v1Create["https_connections_only"] = .boolean
        bodies["POST \(c1)/containers"] = body(V1.ContainerRequest.self, v1Create, required: ["namespace_id", "name", "image"])
        // PATCH spells the flag `https_connection_only` (the plural is read when the singular is absent).
        v1Container["https_connection_only"] = .boolean
        v1Container["https_connections_only"] = .boolean
        bodies["PATCH \(c1)/containers/:container_id"] = body(V1.ContainerRequest.self, v1Container)
        bodies["POST \(c1)/containers/:container_id/redeploy"] = ignoredBody
        bodies["POST \(c1)/domains"] = body(V1.DomainRequest.self, ["container_id": uuid, "hostname": .string(format: "hostname"), "tags": tags],
                                            required: ["container_id", "hostname"])
        bodies["PATCH \(c1)/domains/:domain_id"] = body(V1.DomainRequest.self, ["tags": tags])
        for update in [false, true] {
            let cron = S.object(["schedule": .string(description: "5-field cron expression, e.g. \"5 4 * * *\""),
                                 "timezone": .string(description: "IANA time zone, e.g. Europe/Paris"), "body": .string(),
                                 "headers": stringMap], required: update ? [] : ["schedule", "timezone"])
            var trigger: [String: S] = [
                "name": .string(), "description": .string(), "tags": tags,
                "destination_config": .object(["http_path": .string(pattern: "^/"), "http_method": .oneOf(TriggerRules.methods.sorted())]),
                "cron_config": cron,
                "sqs_config": .object(["region": .string(), "endpoint": .string(format: "uri"), "queue_url": .string(format: "uri"),
                                       "access_key_id": .string(), "secret_access_key": .string()]),
                "nats_config": .object(["server_urls": .array(.string(format: "uri")), "subject": .string(),
                                        "credentials_file_content": .string()]),
            ]
            if update {
                bodies["PATCH \(c1)/triggers/:trigger_id"] = body(V1.TriggerRequest.self, trigger,
                                                                  description: "nulls inside a config leave it unchanged; the source type cannot change")
            } else {
                trigger["container_id"] = uuid
                bodies["POST \(c1)/triggers"] = body(V1.TriggerRequest.self, trigger, required: ["container_id", "name"],
                                                     description: "exactly one of cron_config, sqs_config and nats_config")
            }
        }
        return bodies
    }

    // MARK: Query arguments

    private static func argument(_ name: String, _ schema: S, required: Bool = false) -> QueryArgument {
        QueryArgument(name: name, schema: schema, required: required)
    }

    /// `page`, `page_size` and `order_by` with the values `orders` accepts (PageRequest.parse's bounds).
    private static func paging(_ orders: [String]) -> [QueryArgument] {
        [argument("page", .integer(minimum: 1, maximum: 1_000_000_000)),
         argument("page_size", .integer(minimum: 0, maximum: PageRequest.maxPageSize, description: "0 = the default of 20")),
         argument("order_by", .oneOf(orders.sorted()))]
    }

    private static func buildQueries() -> [String: [QueryArgument]] {
        var queries: [String: [QueryArgument]] = [:]
        let c1b = "/containers/v1beta1/regions/:region", c1 = "/containers/v1/regions/:region", f1b = "/functions/v1beta1/regions/:region"
        let allOrders = ListOrder.allCases.map(\.rawValue)
        let tenancy = [argument("project_id", uuid), argument("organization_id", uuid)]

        for prefix in [c1b, f1b] {
            queries["GET \(prefix)/namespaces"] = paging(allOrders) + [argument("name", .string(description: "substring of the name"))] + tenancy
        }
        // v1 ignores `name` on namespaces (recorded, spec section 3b): the route does not read it.
        queries["GET \(c1)/namespaces"] = paging(allOrders) + tenancy
        for key in ["GET \(c1b)/containers", "GET \(c1)/containers", "GET \(f1b)/functions"] {
            queries[key] = paging(allOrders) + [argument("namespace_id", uuid), argument("name", .string(description: "substring of the name"))] + tenancy
        }

        for (prefix, app) in [(c1b, "container_id"), (f1b, "function_id")] {
            queries["GET \(prefix)/crons"] = [argument(app, uuid, required: true)] + paging(Array(creationOrders.keys))
            queries["GET \(prefix)/domains"] = [argument(app, uuid, required: true)] + paging(Array(hostnameOrders.keys))
            queries["GET \(prefix)/triggers"] = [argument(app, uuid), argument("namespace_id", uuid)] + paging(Array(creationOrders.keys))
            queries["GET \(prefix)/tokens"] = [argument(app, uuid), argument("namespace_id", uuid)] + paging(Array(creationOrders.keys))
            // Either API's issue-jwt names applications of both products (spec section 12).
            queries["GET \(prefix)/issue-jwt"] = [argument("container_id", uuid), argument("function_id", uuid), argument("namespace_id", uuid),
                                                  argument("expires_at", .string(format: "date-time")),
                                                  argument("expiration_date", .string(format: "date-time"))]
        }
        queries["GET \(c1)/domains"] = [argument("container_id", uuid), argument("namespace_id", uuid)] + paging(Array(hostnameOrders.keys))
        queries["GET \(c1)/triggers"] = [argument("container_id", uuid), argument("namespace_id", uuid),
                                         argument("trigger_type", .oneOf(["cron", "sqs", "nats"]))]
            + paging(Array(V1TriggerController.orders.keys))
        queries["GET \(f1b)/functions/:function_id/upload-url"] = [
            argument("content_length", .integer(minimum: 1, maximum: FunctionService.maxArchiveBytes, description: "size of the zip in bytes"),
                     required: true),
        ]
        queries["GET \(f1b)/functions/:function_id/download-url"] = []
        queries["GET \(f1b)/runtimes"] = []
        return queries
    }
}
