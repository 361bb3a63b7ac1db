import Foundation
import ScwDomain
import ScwEngine

/// A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) with only the keywords the mock's document uses.
final class JSONSchema: Encodable, Sendable {
    let types: [String]
    let format: String?
    let `enum`: [String]?
    let pattern: String?
    let minLength: Int?
    let maxLength: Int?
    let minimum: Int?
    let maximum: Int?
    let properties: [String: JSONSchema]?
    let required: [String]?
    let additionalProperties: JSONSchema?
    let propertyNames: JSONSchema?
    let maxProperties: Int?
    let items: JSONSchema?
    let maxItems: Int?
    let oneOf: [JSONSchema]?
    let description: String?

    init(types: [String], format: String? = nil, enum values: [String]? = nil, pattern: String? = nil, minLength: Int? = nil,
         maxLength: Int? = nil, minimum: Int? = nil, maximum: Int? = nil, properties: [String: JSONSchema]? = nil,
         required: [String]? = nil, additionalProperties: JSONSchema? = nil, propertyNames: JSONSchema? = nil,
         maxProperties: Int? = nil, items: JSONSchema? = nil, maxItems: Int? = nil, oneOf: [JSONSchema]? = nil,
         description: String? = nil) {
        self.types = types
        self.format = format
        self.enum = values
        self.pattern = pattern
        self.minLength = minLength
        self.maxLength = maxLength
        self.minimum = minimum
        self.maximum = maximum
        self.properties = properties
        self.required = required
        self.additionalProperties = additionalProperties
        self.propertyNames = propertyNames
        self.maxProperties = maxProperties
        self.items = items
        self.maxItems = maxItems
        self.oneOf = oneOf
        self.description = description
    }

    static func string(format: String? = nil, pattern: String? = nil, minLength: Int? = nil, maxLength: Int? = nil,
                       description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["string"], format: format, pattern: pattern, minLength: minLength, maxLength: maxLength, description: description)
    }
    static func oneOf(_ values: [String], description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["string"], enum: values, description: description)
    }
    static func integer(minimum: Int? = nil, maximum: Int? = nil, description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["integer"], minimum: minimum, maximum: maximum, description: description)
    }
    static func integer(_ range: ClosedRange<Int>, description: String? = nil) -> JSONSchema {
        .integer(minimum: range.lowerBound, maximum: range.upperBound, description: description)
    }
    static var boolean: JSONSchema { JSONSchema(types: ["boolean"]) }
    /// An object; `exactlyOneOf`: of these properties, exactly one must be present.
    static func object(_ properties: [String: JSONSchema], required: [String] = [], exactlyOneOf: [String] = [],
                       description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["object"], properties: properties, required: required.isEmpty ? nil : required.sorted(),
                   oneOf: exactlyOneOf.isEmpty ? nil : exactlyOneOf.map { JSONSchema(types: ["object"], required: [$0]) },
                   description: description)
    }
    /// An object of arbitrary keys whose values follow `values` (`environment_variables`).
    static func map(_ values: JSONSchema, keys: JSONSchema? = nil, maxProperties: Int? = nil, description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["object"], additionalProperties: values, propertyNames: keys, maxProperties: maxProperties, description: description)
    }
    static func array(_ items: JSONSchema, maxItems: Int? = nil) -> JSONSchema { JSONSchema(types: ["array"], items: items, maxItems: maxItems) }
    static func exactlyOne(_ alternatives: [JSONSchema], description: String? = nil) -> JSONSchema {
        JSONSchema(types: ["object"], oneOf: alternatives, description: description)
    }

    /// The same schema also accepting JSON null.
    var orNull: JSONSchema {
        // A schema whose members exclude each other (`oneOf`, e.g. a probe's `http` or `tcp`) cannot simply add "null"
        // to its types: a null would still have to match one of those members. It becomes "this, or null" instead.
        if oneOf != nil { return JSONSchema(types: [], oneOf: [self, JSONSchema(types: ["null"])]) }
        return JSONSchema(types: types + ["null"], format: format, enum: self.enum, pattern: pattern, minLength: minLength,
                   maxLength: maxLength, minimum: minimum, maximum: maximum, properties: properties, required: required,
                   additionalProperties: additionalProperties, propertyNames: propertyNames, maxProperties: maxProperties, items: items,
                   maxItems: maxItems, oneOf: oneOf, description: description)
    }

    private enum CodingKeys: String, CodingKey {
        case type, format, `enum`, pattern, minLength, maxLength, minimum, maximum, properties, required, additionalProperties,
             propertyNames, maxProperties, items, maxItems, oneOf, description
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if types.count == 1 { try c.encode(types[0], forKey: .type) } else if !types.isEmpty { try c.encode(types, forKey: .type) }
        try c.encodeIfPresent(format, forKey: .format)
        try c.encodeIfPresent(self.enum, forKey: .enum)
        try c.encodeIfPresent(pattern, forKey: .pattern)
        try c.encodeIfPresent(minLength, forKey: .minLength)
        try c.encodeIfPresent(maxLength, forKey: .maxLength)
        try c.encodeIfPresent(minimum, forKey: .minimum)
        try c.encodeIfPresent(maximum, forKey: .maximum)
        try c.encodeIfPresent(properties, forKey: .properties)
        try c.encodeIfPresent(required, forKey: .required)
        try c.encodeIfPresent(additionalProperties, forKey: .additionalProperties)
        try c.encodeIfPresent(propertyNames, forKey: .propertyNames)
        try c.encodeIfPresent(maxProperties, forKey: .maxProperties)
        try c.encodeIfPresent(items, forKey: .items)
        try c.encodeIfPresent(maxItems, forKey: .maxItems)
        try c.encodeIfPresent(oneOf, forKey: .oneOf)
        try c.encodeIfPresent(description, forKey: .description)
    }
}

/// A wire type a route answers with, described for the OpenAPI document: `RouteTable` records the schema of each
/// route's response type as the route is mounted.
protocol DocumentedResponse {
    static var schema: JSONSchema { get }
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
/// spell them, for `GET /_mock/openapi.json`. Each body's schema is the `static let schema` next to its wire type; query
/// arguments come from the controllers' own tables (`order_by` values, paging bounds). `OpenAPISchemaTests` fails when
/// a route that takes a body or arguments has no entry, an entry names no route, a property is not decoded by its wire
/// type, or a stated limit is not the one validation enforces.
enum OpenAPISchemas {
    private typealias S = JSONSchema

    /// The body of each POST/PATCH/PUT route under the API prefixes.
    static let bodies: [String: RequestBodySchema] = buildBodies()
    /// The query arguments of each GET route under the API prefixes whose last segment is not an id (lists, issue-jwt,
    /// upload/download URLs, runtimes); an empty list = the route reads none.
    static let queries: [String: [QueryArgument]] = buildQueries()

    /// The route prefixes the registry covers.
    static let apiPrefixes = ["/containers/v1beta1/", "/containers/v1/", "/functions/v1beta1/", "/registry/v1/", "/iam/v1alpha1/"]

    /// The schema of a path parameter of an API route: the region enum, UUIDs for ids.
    static func pathSchema(_ name: String) -> JSONSchema {
        if name == "region" { return .oneOf(Region.allCases.map(\.rawValue)) }
        if name == "access_key" { return .string(pattern: "^SCW[A-Z0-9]{17}$") }
        if name.hasSuffix("_id") { return .string(format: "uuid") }
        return .string()
    }

    private static let uuid = S.uuid

    private static func body<T: Decodable & SendableMetatype>(_ type: T.Type, _ schema: JSONSchema) -> RequestBodySchema {
        RequestBodySchema(schema: schema, required: true, decode: { try WireJSON.decoder.decode(T.self, from: $0) })
    }

    /// `deploy` and `redeploy`: the SDKs send `{}`, the route reads nothing.
    private static let ignoredBody = RequestBodySchema(schema: .object([:], description: "ignored (the SDKs send {})"), required: false, decode: nil)

    // MARK: Bodies

    /// Each route's body: the schema next to its wire type (`Sources/ScwAPI/Wire`).
    private static func buildBodies() -> [String: RequestBodySchema] {
        var bodies: [String: RequestBodySchema] = [:]
        let c1b = "/containers/v1beta1/regions/:region", c1 = "/containers/v1/regions/:region", f1b = "/functions/v1beta1/regions/:region"

        for prefix in [c1b, f1b] {
            bodies["POST \(prefix)/namespaces"] = body(V1Beta1.CreateNamespaceRequest.self, V1Beta1.CreateNamespaceRequest.schema)
            bodies["PATCH \(prefix)/namespaces/:namespace_id"] = body(V1Beta1.UpdateNamespaceRequest.self, V1Beta1.UpdateNamespaceRequest.schema)
        }
        bodies["POST \(c1b)/containers"] = body(V1Beta1.CreateContainerRequest.self, V1Beta1.CreateContainerRequest.schema)
        bodies["PATCH \(c1b)/containers/:container_id"] = body(V1Beta1.CreateContainerRequest.self, V1Beta1.CreateContainerRequest.updateSchema)
        bodies["POST \(c1b)/containers/:container_id/deploy"] = ignoredBody
        bodies["POST \(f1b)/functions"] = body(V1Beta1.FunctionRequest.self, V1Beta1.FunctionRequest.schema)
        bodies["PATCH \(f1b)/functions/:function_id"] = body(V1Beta1.FunctionRequest.self, V1Beta1.FunctionRequest.updateSchema)
        bodies["POST \(f1b)/functions/:function_id/deploy"] = ignoredBody

        // Crons, domains, tokens and triggers of v1beta1: containers name the application `container_id`, functions `function_id`.
        for (prefix, app) in [(c1b, "container_id"), (f1b, "function_id")] {
            bodies["POST \(prefix)/crons"] = body(V1Beta1.CronRequest.self, V1Beta1.CronRequest.schema(application: app))
            bodies["PATCH \(prefix)/crons/:cron_id"] = body(V1Beta1.CronRequest.self, V1Beta1.CronRequest.updateSchema(application: app))
            bodies["POST \(prefix)/domains"] = body(V1Beta1.DomainRequest.self, V1Beta1.DomainRequest.schema(application: app))
            bodies["POST \(prefix)/tokens"] = body(V1Beta1.CreateTokenRequest.self, V1Beta1.CreateTokenRequest.schema(application: app))
            bodies["POST \(prefix)/triggers"] = body(V1Beta1.TriggerRequest.self, V1Beta1.TriggerRequest.schema(application: app))
            bodies["PATCH \(prefix)/triggers/:trigger_id"] = body(V1Beta1.TriggerRequest.self, V1Beta1.TriggerRequest.updateSchema)
        }

        bodies["POST \(c1)/namespaces"] = body(V1.CreateNamespaceRequest.self, V1.CreateNamespaceRequest.schema)
        bodies["PATCH \(c1)/namespaces/:namespace_id"] = body(V1.UpdateNamespaceRequest.self, V1.UpdateNamespaceRequest.schema)
        bodies["POST \(c1)/containers"] = body(V1.ContainerRequest.self, V1.ContainerRequest.schema)
        bodies["PATCH \(c1)/containers/:container_id"] = body(V1.ContainerRequest.self, V1.ContainerRequest.updateSchema)
        bodies["POST \(c1)/containers/:container_id/redeploy"] = ignoredBody
        bodies["POST \(c1)/domains"] = body(V1.DomainRequest.self, V1.DomainRequest.schema)
        bodies["PATCH \(c1)/domains/:domain_id"] = body(V1.DomainRequest.self, V1.DomainRequest.updateSchema)
        bodies["POST \(c1)/triggers"] = body(V1.TriggerRequest.self, V1.TriggerRequest.schema)
        bodies["PATCH \(c1)/triggers/:trigger_id"] = body(V1.TriggerRequest.self, V1.TriggerRequest.updateSchema)
        bodies.merge(RegistryController.requestBodies) { a, _ in a }
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
        // v1 ignores `name` on namespaces (recorded): the route does not read it.
        queries["GET \(c1)/namespaces"] = paging(allOrders) + tenancy
        for key in ["GET \(c1b)/containers", "GET \(c1)/containers", "GET \(f1b)/functions"] {
            queries[key] = paging(allOrders) + [argument("namespace_id", uuid), argument("name", .string(description: "substring of the name"))] + tenancy
        }

        for (prefix, app) in [(c1b, "container_id"), (f1b, "function_id")] {
            queries["GET \(prefix)/crons"] = [argument(app, uuid, required: true)] + paging(Array(creationOrders.keys))
            queries["GET \(prefix)/domains"] = [argument(app, uuid, required: true)] + paging(Array(hostnameOrders.keys))
            queries["GET \(prefix)/triggers"] = [argument(app, uuid), argument("namespace_id", uuid)] + paging(Array(creationOrders.keys))
            queries["GET \(prefix)/tokens"] = [argument(app, uuid), argument("namespace_id", uuid)] + paging(Array(creationOrders.keys))
            // Either API's issue-jwt names applications of both products.
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
        queries.merge(RegistryController.queryArguments) { a, _ in a }
        return queries
    }
}

/// The pieces the wire types' schemas share, with the limits validation enforces (`NamespaceRules`,
/// `ContainerRules.problems`, `FunctionPatch.problems`, `WireValues`); `OpenAPISchemaTests` sends values just outside
/// each limit and expects the route to refuse them naming the argument.
extension JSONSchema {
    static let uuid = JSONSchema.string(format: "uuid")
    static let region = JSONSchema.oneOf(Region.allCases.map(\.rawValue))
    /// A namespace name: a lower-case letter, then `[a-z0-9-]`, ending with a letter or digit.
    static let namespaceName = JSONSchema.string(pattern: "^[a-z]([a-z0-9-]*[a-z0-9])?$", maxLength: NamespaceRules.maxNameLength)
    /// Container and function names: the namespace alphabet, shorter so that the endpoint label fits 63 characters.
    static let applicationName = JSONSchema.string(pattern: "^[a-z]([a-z0-9-]*[a-z0-9])?$", maxLength: ContainerRules.maxNameLength)
    static let description = JSONSchema.string(maxLength: NamespaceRules.maxDescriptionLength)
    static let tags = JSONSchema.array(.string(maxLength: NamespaceRules.maxTagLength), maxItems: NamespaceRules.maxTags)
    /// A variable name: a letter or `_`, then letters, digits, `_`, `-` or `.`.
    static let variableName = JSONSchema.string(pattern: "^[A-Za-z_][A-Za-z0-9_.-]*$", maxLength: NamespaceRules.maxKeyLength,
                                                description: "PORT and SCW_* are reserved")
    static let environmentVariables = JSONSchema.map(.string(maxLength: NamespaceRules.maxVariableValueLength), keys: variableName,
                                                     maxProperties: NamespaceRules.maxVariables)
    /// v1 secrets: a map of clear values (at most 64 KiB each).
    static let secretMap = JSONSchema.map(.string(), keys: variableName, maxProperties: NamespaceRules.maxSecrets)
    /// v1beta1 secrets: `[{"key","value"}]`; on updates a null value deletes the key.
    static func secretList(update: Bool) -> JSONSchema {
        .array(.object(["key": variableName, "value": update ? JSONSchema.string().orNull : .string()], required: update ? ["key"] : ["key", "value"]),
               maxItems: NamespaceRules.maxSecrets)
    }
    /// Go durations in whole seconds (`"300s"`, `"300.000000000s"`), as WireValues.seconds accepts them.
    static func duration(_ range: ClosedRange<Int>) -> JSONSchema {
        .string(pattern: #"^[0-9]+(\.0+)?s$"#, description: "whole seconds between \(range.lowerBound)s and \(range.upperBound)s, e.g. \"300s\"")
    }
    /// Proto3 JSON sends 64-bit integers as numbers or decimal strings (WireInt64).
    static func int64(_ range: ClosedRange<Int>, description: String) -> JSONSchema {
        JSONSchema(types: ["integer", "string"], pattern: "^-?[0-9]+$", minimum: range.lowerBound, maximum: range.upperBound,
                   description: description)
    }
    /// The SDKs send an enum's `unknown_*` value for "not set" (Go, every PATCH).
    static func enumeration<T: RawRepresentable & CaseIterable>(_: T.Type, sentinel: String) -> JSONSchema where T.RawValue == String {
        .oneOf(T.allCases.map(\.rawValue) + [sentinel])
    }
    static let privacy = enumeration(Privacy.self, sentinel: "unknown_privacy")
    static let containerProtocol = enumeration(ContainerProtocol.self, sentinel: "unknown_protocol")
    static let sandbox = enumeration(Sandbox.self, sentinel: "unknown_sandbox")
    static let httpOption = JSONSchema.oneOf(["enabled", "redirected", "unknown_http_option"], description: "redirected = HTTP is redirected to HTTPS")
    static let runtime = JSONSchema.oneOf(FunctionRuntimes.all.map(\.name) + ["unknown_runtime"], description: "see GET …/runtimes")
    static let cronSchedule = JSONSchema.string(description: "5-field cron expression, e.g. \"5 4 * * *\"")
    /// RFC 3339 timestamps of answers.
    static let timestamp = JSONSchema.string(format: "date-time")
    /// A string answered as `null` when unset.
    static let nullableString = JSONSchema.string().orNull
    /// v1beta1 secrets in answers: the key and its Argon2id PHC string.
    static let hashedSecrets = JSONSchema.array(.object(["key": .string(), "hashed_value": .string()], required: ["key", "hashed_value"]))
    /// `{"<items>":[…],"total_count":N}`, the shape of every list.
    static func list(_ key: String, of item: JSONSchema) -> JSONSchema {
        .object([key: .array(item), "total_count": .integer(minimum: 0)], required: [key, "total_count"])
    }
    /// `min_scale` and `max_scale` (containers and functions).
    static let minScale = JSONSchema.integer(0...50)
    static let maxScale = JSONSchema.integer(1...50, description: "at least min_scale")
    static let mvcpu = JSONSchema.integer(70...6000, description: "mvCPU")
    static let applicationTimeout = duration(1...900)
    static let port = JSONSchema.integer(1...65535, description: "8008, 8012, 8013, 8022, 9090 and 9091 are reserved")
    static let commandLine = JSONSchema.array(.string(maxLength: 4096), maxItems: 1000)
    static let scalingOption = JSONSchema.exactlyOne([
        .object(["concurrent_requests_threshold": .integer(ContainerRules.concurrencyRange)], required: ["concurrent_requests_threshold"]),
        .object(["cpu_usage_threshold": .integer(1...100, description: "percent")], required: ["cpu_usage_threshold"]),
        .object(["memory_usage_threshold": .integer(1...100, description: "percent")], required: ["memory_usage_threshold"]),
    ], description: "exactly one threshold")
    static func probe(withTimeout: Bool) -> JSONSchema {
        var properties: [String: JSONSchema] = [
            "failure_threshold": .integer(1...100), "interval": duration(1...3600),
            "http": .object(["path": .string(pattern: "^/")], required: ["path"]), "tcp": .object([:]),
        ]
        if withTimeout { properties["timeout"] = duration(1...3600) }
        return .object(properties, exactlyOneOf: ["http", "tcp"])
    }
}
