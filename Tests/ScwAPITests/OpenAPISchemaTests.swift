import Foundation
import HTTPTypes
import HummingbirdTesting
import ScwDomain
import Testing

@testable import ScwAPI

/// The request bodies and query arguments of `GET /_mock/openapi.json` (OpenAPISchemas) against the routes and wire
/// types: every body-taking route has a schema, every schema property is decoded by the route's wire type, every
/// documented query argument is read by its route, and bodies built from the schemas never earn a 5xx.
@Suite struct OpenAPISchemaTests {
    /// The API operations of the document, as `"METHOD /path/:param"` (the registry's keys).
    static func apiOperations(_ client: any TestClientProtocol) async throws -> Set<String> {
        let paths = try await client.call(.get, "/_mock/openapi.json", key: nil).json["paths"] as! [String: [String: Any]]
        var operations: Set<String> = []
        for (path, methods) in paths where OpenAPISchemas.apiPrefixes.contains(where: { path.hasPrefix($0) }) {
            let tablePath = path.replacingOccurrences(of: #"\{([a-z_]+)\}"#, with: ":$1", options: .regularExpression)
            for method in methods.keys { operations.insert("\(method.uppercased()) \(tablePath)") }
        }
        return operations
    }

    @Test func everyBodyTakingRouteHasASchemaAndEveryEntryARoute() async throws {
        try await withApp { client, _ in
            let operations = try await Self.apiOperations(client)
            let writes = operations.filter { ["POST", "PATCH", "PUT"].contains($0.split(separator: " ")[0]) }
            #expect(writes.count >= 31)
            for operation in writes.sorted() {
                #expect(OpenAPISchemas.bodies[operation] != nil, "\(operation) has no body schema in OpenAPISchemas.bodies")
            }
            // Lists and the other GETs that do not end in an id must say which query arguments they read (maybe none).
            let reads = operations.filter { $0.hasPrefix("GET ") && !($0.split(separator: "/").last?.hasPrefix(":") ?? false) }
            for operation in reads.sorted() {
                #expect(OpenAPISchemas.queries[operation] != nil, "\(operation) has no entry in OpenAPISchemas.queries")
            }
            for key in OpenAPISchemas.bodies.keys.sorted() + OpenAPISchemas.queries.keys.sorted() {
                #expect(operations.contains(key), "OpenAPISchemas names \(key), which is no route")
            }
            // The document carries them.
            let paths = try await client.call(.get, "/_mock/openapi.json", key: nil).json["paths"] as! [String: [String: [String: Any]]]
            let create = paths["/containers/v1/regions/{region}/containers"]!["post"]!
            let body = ((create["requestBody"] as? [String: Any])?["content"] as? [String: [String: [String: Any]]])?["application/json"]?["schema"]
            #expect((body?["required"] as? [String])?.sorted() == ["image", "name", "namespace_id"])
            let list = paths["/containers/v1/regions/{region}/triggers"]!["get"]!["parameters"] as! [[String: Any]]
            #expect(list.compactMap { $0["in"] as? String == "query" ? $0["name"] as? String : nil }.contains("trigger_type"))
            // The mock's own routes are unchanged: path parameters only, as plain strings.
            let seed = paths["/_mock/namespaces/{namespace_id}/public-key"]!["get"]!
            #expect(seed["requestBody"] == nil)
            #expect((seed["parameters"] as! [[String: Any]]).map { $0["schema"] as! [String: String] } == [["type": "string"]])
        }
    }

    /// Every route that answers JSON documents its answer's fields (not a bare object), the mock's own included; only
    /// the answers that are not the mock's JSON are left open: what a workload answers through `/_mock/invoke`,
    /// PEM keys, code archives, the console's pages, and the OpenAPI document and state export themselves.
    @Test func everyJSONAnswerHasItsSchema() async throws {
        try await withApp { client, _ in
            let paths = try await client.call(.get, "/_mock/openapi.json", key: nil).json["paths"] as! [String: [String: Any]]
            let open = ["/_mock/invoke/", "/_mock/namespaces/{namespace_id}/public-key", "/_mock/downloads/", "/_mock/uploads/",
                        "/_mock/openapi.json", "/_mock/state", "/_mock/seed", "/_mock/console"]
            var undocumented: [String] = []
            for (path, operations) in paths where !open.contains(where: { path.hasPrefix($0) }) {
                for (method, operation) in operations {
                    let responses = (operation as? [String: Any])?["responses"] as? [String: Any]
                    let ok = responses?["200"] as? [String: Any]
                    let schema = ((ok?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
                    if schema?["properties"] == nil { undocumented.append("\(method.uppercased()) \(path)") }
                }
            }
            #expect(undocumented.sorted() == [], "answers without a schema")
        }
    }

    @Test func everySchemaPropertyIsDecodedByTheWireType() throws {
        for (operation, body) in OpenAPISchemas.bodies.sorted(by: { $0.key < $1.key }) {
            guard let decode = body.decode else { continue }
            let sample = Sample.value(body.schema, ids: [:])
            let data = try JSONSerialization.data(withJSONObject: sample)
            let value: Any
            do {
                value = try decode(data)
            } catch {
                Issue.record("\(operation): the wire type refuses the schema's sample \(String(decoding: data, as: UTF8.self)): \(error)")
                continue
            }
            var problems: [String] = []
            Sample.checkDecoded(value, body.schema, path: "body", problems: &problems)
            #expect(problems.isEmpty, "\(operation): \(problems.joined(separator: "; "))")
        }
    }

    @Test func sampleBodiesAreAcceptedOrRefusedWithA4xx() async throws {
        try await withApp { client, _ in
            let c1 = "/containers/v1/regions/fr-par", f1b = "/functions/v1beta1/regions/fr-par"
            let containerNamespace = try await client.call(.post, "\(c1)/namespaces", json: #"{"name":"schemas"}"#).json["id"] as! String
            let container = try await client.call(.post, "\(c1)/containers", json: """
                {"namespace_id":"\(containerNamespace)","name":"web","image":"nginx:latest"}
                """).json["id"] as! String
            let functionNamespace = try await client.call(.post, "\(f1b)/namespaces", json: #"{"name":"schemas"}"#).json["id"] as! String
            let function = try await client.call(.post, "\(f1b)/functions", json: """
                {"namespace_id":"\(functionNamespace)","name":"fn","runtime":"go126"}
                """).json["id"] as! String
            let document = try await client.call(.get, "/_mock/openapi.json", key: nil).json["paths"] as! [String: [String: [String: Any]]]
            /// The documented schema of an operation's 200 answer.
            func answerSchema(_ method: String, _ tablePath: Substring) -> [String: Any]? {
                let path = tablePath.replacingOccurrences(of: #":([a-z_]+)"#, with: "{$1}", options: .regularExpression)
                let ok = (document[path]?[method.lowercased()]?["responses"] as? [String: [String: Any]])?["200"]
                return ((ok?["content"] as? [String: [String: Any]])?["application/json"]?["schema"]) as? [String: Any]
            }
            var accepted = 0, conforming = 0
            for (operation, body) in OpenAPISchemas.bodies.sorted(by: { $0.key < $1.key }) {
                let parts = operation.split(separator: " ", maxSplits: 1)
                let isFunctions = parts[1].hasPrefix("/functions/")
                let ids = ["namespace_id": isFunctions ? functionNamespace : containerNamespace, "container_id": container,
                           "function_id": function, "project_id": WellKnownIdentity.projectID.rawValue]
                let uri = parts[1].split(separator: "/").map { segment -> String in
                    guard segment.hasPrefix(":") else { return String(segment) }
                    return segment == ":region" ? "fr-par" : ids[String(segment.dropFirst())] ?? "11111111-1111-4111-8111-111111111111"
                }.joined(separator: "/")
                let method = HTTPRequest.Method(String(parts[0]))!
                // A realistic body, only the required fields, and every integer at the edges of Int64.
                for extreme in [nil, Int64.max, Int64.min] {
                    for full in extreme == nil ? [true, false] : [true] {
                        let sample = Sample.value(body.schema, ids: ids, extreme: extreme, full: full)
                        let json = String(decoding: try JSONSerialization.data(withJSONObject: sample), as: UTF8.self)
                        let response = try await client.call(method, "/\(uri)", json: json)
                        #expect(response.status.code < 500, "\(operation) \(json) → \(response.status.code) \(response.text)")
                        if response.status.code < 300 {
                            accepted += 1
                            // The answer is what the document says it is.
                            let schema = answerSchema(String(parts[0]), parts[1])
                            let answer = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
                            let problems = schema.map { Conformance.problems(answer, $0, path: "body") } ?? ["no schema"]
                            #expect(problems.isEmpty, "\(operation) answer: \(problems)")
                            if problems.isEmpty { conforming += 1 }
                        }
                    }
                }
            }
            #expect(accepted > 0 && conforming == accepted)
            // Reads of what was created conform too; `plain` has no startup probe (`"startup_probe": null`).
            let plain = try await client.call(.post, "\(c1)/containers", json: """
                {"namespace_id":"\(containerNamespace)","name":"plain","image":"nginx:latest"}
                """).json["id"] as! String
            for (path, get) in [("\(c1)/containers/\(container)", "/containers/v1/regions/:region/containers/:container_id"),
                                ("\(c1)/containers/\(plain)", "/containers/v1/regions/:region/containers/:container_id"),
                                ("/containers/v1beta1/regions/fr-par/containers/\(container)",
                                 "/containers/v1beta1/regions/:region/containers/:container_id"),
                                ("\(c1)/namespaces", "/containers/v1/regions/:region/namespaces"),
                                ("/containers/v1beta1/regions/fr-par/namespaces", "/containers/v1beta1/regions/:region/namespaces"),
                                ("\(f1b)/functions?namespace_id=\(functionNamespace)", "/functions/v1beta1/regions/:region/functions"),
                                ("\(f1b)/runtimes", "/functions/v1beta1/regions/:region/runtimes"),
                                ("\(c1)/triggers?container_id=\(container)", "/containers/v1/regions/:region/triggers"),
                                ("\(f1b)/tokens?function_id=\(function)", "/functions/v1beta1/regions/:region/tokens")] {
                let response = try await client.call(.get, path)
                #expect(response.status == .ok, "\(path)")
                let schema = try #require(answerSchema("GET", Substring(get)), "\(get) has no answer schema")
                let problems = Conformance.problems(try JSONSerialization.jsonObject(with: Data(buffer: response.body)), schema, path: "body")
                #expect(problems.isEmpty, "GET \(path): \(problems)")
            }
        }
    }

    /// The limits a body schema states (ranges, lengths, patterns, counts, enums) are the ones validation enforces: for
    /// each top-level property of a body whose minimal sample is accepted, a value just outside a limit is refused with a
    /// 400 naming the property, and values at the limits are not refused for that property.
    @Test func schemaLimitsAreTheOnesValidationEnforces() async throws {
        try await withApp { client, _ in
            let c1 = "/containers/v1/regions/fr-par", f1b = "/functions/v1beta1/regions/fr-par"
            let containerNamespace = try await client.call(.post, "\(c1)/namespaces", json: #"{"name":"limits"}"#).json["id"] as! String
            let container = try await client.call(.post, "\(c1)/containers", json: """
                {"namespace_id":"\(containerNamespace)","name":"web","image":"nginx:latest"}
                """).json["id"] as! String
            let functionNamespace = try await client.call(.post, "\(f1b)/namespaces", json: #"{"name":"limits"}"#).json["id"] as! String
            let function = try await client.call(.post, "\(f1b)/functions", json: """
                {"namespace_id":"\(functionNamespace)","name":"fn","runtime":"go126"}
                """).json["id"] as! String
            // Namespace PATCHes get namespaces of their own: their variables count against the applications' limit.
            let patchedNamespaces = [
                "containers": try await client.call(.post, "\(c1)/namespaces", json: #"{"name":"patched"}"#).json["id"] as! String,
                "functions": try await client.call(.post, "\(f1b)/namespaces", json: #"{"name":"patched"}"#).json["id"] as! String,
            ]
            var counter = 0
            var checked: Set<String> = []
            for (operation, body) in OpenAPISchemas.bodies.sorted(by: { $0.key < $1.key }) {
                guard body.decode != nil, let properties = body.schema.properties else { continue }
                let parts = operation.split(separator: " ", maxSplits: 1)
                let isFunctions = parts[1].hasPrefix("/functions/")
                let ids = ["namespace_id": isFunctions ? functionNamespace : containerNamespace, "container_id": container,
                           "function_id": function, "project_id": WellKnownIdentity.projectID.rawValue]
                let patched = patchedNamespaces[isFunctions ? "functions" : "containers"]!
                let uri = "/" + parts[1].split(separator: "/").map { segment -> String in
                    guard segment.hasPrefix(":") else { return String(segment) }
                    if segment == ":namespace_id" { return patched }
                    return segment == ":region" ? "fr-par" : ids[String(segment.dropFirst())] ?? "11111111-1111-4111-8111-111111111111"
                }.joined(separator: "/")
                let method = HTTPRequest.Method(String(parts[0]))!
                /// The required fields (and a namespace when the body can name one), with a name and hostname no other
                /// request used, so that a conflict never hides a refusal.
                func base() -> [String: Any] {
                    counter += 1
                    var sample = Sample.value(body.schema, ids: ids, full: false) as! [String: Any]
                    if properties["namespace_id"] != nil { sample["namespace_id"] = ids["namespace_id"] }
                    if properties["name"] != nil { sample["name"] = "limit\(counter)" }
                    if properties["hostname"] != nil { sample["hostname"] = "limit\(counter).example.com" }
                    return sample
                }
                func send(_ object: [String: Any]) async throws -> TestResponse {
                    try await client.call(method, uri, json: String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
                }
                func names(_ response: TestResponse, _ property: String) -> Bool {
                    ((response.json["details"] as? [[String: Any]]) ?? []).contains {
                        guard let argument = $0["argument_name"] as? String else { return false }
                        return argument == property || argument.hasPrefix(property + ".") || argument.hasPrefix(property + "[")
                    }
                }
                guard try await send(base()).status.code < 300 else { continue }
                checked.insert(operation)
                for (property, schema) in properties.sorted(by: { $0.key < $1.key }) {
                    // Secrets at their count limit cost 100 Argon2id hashes at Scaleway's parameters: only the count just
                    // over the limit (refused before hashing) is sent.
                    for (value, inside) in Sample.limitProbes(schema) where !(inside && property.hasPrefix("secret") && schema.types != ["string"]) {
                        var object = base()
                        object[property] = value
                        // min_scale at its maximum needs max_scale as high.
                        if property == "min_scale", inside { object["max_scale"] = properties["max_scale"]?.maximum }
                        let response = try await send(object)
                        if inside {
                            #expect(!names(response, property), "\(operation) refuses \(property) at its limit: \(response.text)")
                        } else {
                            #expect(response.status == .badRequest && names(response, property),
                                    "\(operation) accepts \(property) outside its schema: \(response.status.code) \(response.text)")
                        }
                    }
                }
            }
            for operation in ["POST \(c1)/namespaces", "POST \(c1)/containers", "PATCH \(c1)/containers/:container_id",
                              "POST /containers/v1beta1/regions/:region/containers", "POST \(f1b)/functions", "POST \(f1b)/namespaces"] {
                #expect(checked.contains(operation.replacingOccurrences(of: "fr-par", with: ":region")), "\(operation) was not checked")
            }
        }
    }

    @Test func everyDocumentedQueryArgumentIsReadByItsRoute() async throws {
        try await withApp { client, _ in
            func details(_ response: TestResponse) -> [(name: String, reason: String)] {
                (response.json["details"] as? [[String: Any]])?.compactMap {
                    guard let name = $0["argument_name"] as? String, let reason = $0["reason"] as? String else { return nil }
                    return (name, reason)
                } ?? []
            }
            for (operation, arguments) in OpenAPISchemas.queries.sorted(by: { $0.key < $1.key }) {
                let path = String(operation.split(separator: " ", maxSplits: 1)[1])
                    .replacingOccurrences(of: ":region", with: "fr-par")
                    .replacingOccurrences(of: #":[a-z_]+"#, with: "11111111-1111-4111-8111-111111111111", options: .regularExpression)
                func pair(_ argument: QueryArgument) -> String { "\(argument.name)=\(Sample.value(argument.schema, ids: [:], key: argument.name))" }
                // The schema's sample values are never refused for their form.
                let valid = try await client.call(.get, "\(path)?\(arguments.map(pair).joined(separator: "&"))")
                #expect(valid.status.code < 500 && !details(valid).contains { $0.reason == "format" },
                        "\(operation) refuses its own sample arguments: \(valid.text)")
                // A malformed value of an argument the route checks is refused: the route reads it. Other arguments the
                // check may depend on (issue-jwt: a scope before the expiry) are added one at a time.
                let required = arguments.filter(\.required)
                for argument in arguments where Sample.checksForm(argument.schema) {
                    let base = required.filter { $0.name != argument.name }
                    let companions: [[QueryArgument]] = [[]] + arguments.filter { !$0.required && $0.name != argument.name }.map { [$0] }
                    var outcomes: [String] = []
                    var read = false
                    for extra in companions where !read {
                        let others = (base + extra).map(pair)
                        let without = try await client.call(.get, "\(path)?\(others.joined(separator: "&"))")
                        let response = try await client.call(.get, "\(path)?\((others + ["\(argument.name)=not-valid"]).joined(separator: "&"))")
                        read = response.status == .badRequest
                            && (details(response).contains { $0.name == argument.name } || without.status != .badRequest)
                        outcomes.append("\(response.status.code) \(response.text)")
                    }
                    #expect(read, "\(operation): \(argument.name)=not-valid is not refused: \(outcomes)")
                }
            }
        }
    }
}

/// Whether a JSON value (from JSONSerialization) is what a schema of the served document (a dictionary) says: types,
/// documented properties only, required ones present, items, map values, and for property-less `oneOf` one alternative.
enum Conformance {
    static func problems(_ value: Any, _ schema: [String: Any], path: String) -> [String] {
        if schema["type"] == nil, let alternatives = schema["oneOf"] as? [[String: Any]] {
            // "This, or that": exactly one alternative.
            let matching = alternatives.filter { Self.problems(value, $0, path: path).isEmpty }.count
            return matching == 1 ? [] : ["\(path) matches \(matching) of the alternatives, not exactly one"]
        }
        let types = (schema["type"] as? [String]) ?? (schema["type"] as? String).map { [$0] } ?? []
        guard types.contains(where: { matches(value, $0) }) else { return ["\(path) is \(type(of: value)), not \(types)"] }
        var problems: [String] = []
        // Alternatives apply to whatever the value is (a null included), as JSON Schema's `oneOf` does.
        if let alternatives = schema["oneOf"] as? [[String: Any]],
           !alternatives.contains(where: { Self.problems(value, $0, path: path).isEmpty }) {
            problems.append("\(path) matches no alternative")
        }
        if let object = value as? [String: Any] {
            if let properties = schema["properties"] as? [String: [String: Any]] {
                for (key, child) in object {
                    if let property = properties[key] {
                        problems += Self.problems(child, property, path: "\(path).\(key)")
                    } else if schema["additionalProperties"] == nil {
                        problems.append("\(path).\(key) is not documented")
                    }
                }
            } else if let values = schema["additionalProperties"] as? [String: Any] {
                for (key, child) in object { problems += Self.problems(child, values, path: "\(path).\(key)") }
            }
            for key in (schema["required"] as? [String]) ?? [] where object[key] == nil { problems.append("\(path).\(key) is missing") }
        } else if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, item) in array.enumerated() { problems += Self.problems(item, items, path: "\(path)[\(i)]") }
        }
        return problems
    }

    private static func matches(_ value: Any, _ type: String) -> Bool {
        // JSONSerialization reads true/false as NSNumbers of type "c" (and numbers as "i"/"q"/"d").
        let isBool = (value as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? false
        switch type {
        case "null": return value is NSNull
        case "boolean": return isBool
        case "integer": return !isBool && (value as? NSNumber).map { $0.doubleValue == $0.doubleValue.rounded() } ?? false
        case "string": return value is String
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        default: return false
        }
    }
}

/// Sample JSON built from a schema, and the check that a decoded wire value received every property.
enum Sample {
    /// A value valid for `schema`; ids come from `ids` by property name. `extreme` replaces every integer; `full` = every
    /// property, otherwise only the required ones.
    static func value(_ schema: JSONSchema, ids: [String: String], key: String? = nil, extreme: Int64? = nil, full: Bool = true) -> Any {
        if let alternatives = schema.oneOf, schema.properties == nil { return value(alternatives[0], ids: ids, extreme: extreme, full: full) }
        if let values = schema.enum { return values[0] }
        switch schema.types[0] {
        case "integer":
            return extreme ?? Int64(schema.minimum ?? 1)
        case "boolean":
            return true
        case "array":
            return [value(schema.items!, ids: ids, extreme: extreme, full: full)]
        case "object":
            if let properties = schema.properties {
                // Of properties that exclude each other (oneOf), the first alternative's.
                let required = Set(schema.required ?? []).union(schema.oneOf?.first?.required ?? [])
                let excluded = excludedAlternatives(schema)
                var object: [String: Any] = [:]
                for (name, property) in properties where (full || required.contains(name)) && !excluded.contains(name) {
                    object[name] = value(property, ids: ids, key: name, extreme: extreme, full: full)
                }
                return object
            }
            if let values = schema.additionalProperties { return ["SAMPLE_KEY": value(values, ids: ids, extreme: extreme, full: full)] }
            return ["test": "scw"]
        default:
            switch schema.format {
            case "uuid": return key.flatMap { ids[$0] } ?? "11111111-1111-4111-8111-111111111111"
            case "date-time": return "2099-01-02T03:04:05Z"
            case "hostname": return "app.example.com"
            case "uri": return "https://example.com/queue"
            default: break
            }
            switch schema.pattern {
            case nil: return key == "schedule" ? "5 4 * * *" : key == "timezone" ? "Europe/Paris" : "sample"
            case "^/": return "/"
            case let pattern? where pattern.hasSuffix("s$"): return "300s"
            default: return "sample"
            }
        }
    }

    /// Values at (`true`) and just outside (`false`) the limits `schema` states: integer ranges, string lengths and
    /// patterns, item and key counts, key patterns, enums. Strings with a `format` are left out (the format decides).
    static func limitProbes(_ schema: JSONSchema) -> [(value: Any, inside: Bool)] {
        var probes: [(value: Any, inside: Bool)] = []
        if let values = schema.enum { return [("not-a-value", false)] + values.map { ($0, true) } }
        if schema.types.contains("integer") {
            if let minimum = schema.minimum { probes += [(minimum, true), (minimum - 1, false)] }
            if let maximum = schema.maximum { probes += [(maximum, true), (maximum + 1, false)] }
        } else if schema.types[0] == "string", schema.format == nil {
            if let maxLength = schema.maxLength { probes += [(String(repeating: "a", count: maxLength), true), (String(repeating: "a", count: maxLength + 1), false)] }
            if let minLength = schema.minLength, minLength > 0 { probes += [(String(repeating: "a", count: minLength - 1), false)] }
            if let pattern = schema.pattern, let outside = ["-a", "A", "a b", "1"].first(where: { !matches($0, pattern) }) {
                probes += [(outside, false)]
            }
        } else if schema.types[0] == "array", let items = schema.items, let maxItems = schema.maxItems {
            func elements(_ n: Int) -> [Any] {
                (0..<n).map { i in items.properties?["key"] != nil ? ["key": "K\(i)", "value": "v"] : value(items, ids: [:]) }
            }
            probes += [(elements(maxItems), true), (elements(maxItems + 1), false)]
        } else if schema.types[0] == "object", let values = schema.additionalProperties {
            func entries(_ n: Int) -> [String: Any] {
                Dictionary(uniqueKeysWithValues: (0..<n).map { ("K\($0)", value(values, ids: [:])) })
            }
            if let maxProperties = schema.maxProperties { probes += [(entries(maxProperties), true), (entries(maxProperties + 1), false)] }
            if let pattern = schema.propertyNames?.pattern, let key = ["1A", "-A", "A B"].first(where: { !matches($0, pattern) }) {
                probes += [([key: value(values, ids: [:])], false)]
            }
            if let maxLength = values.maxLength { probes += [(["K": String(repeating: "a", count: maxLength + 1)], false)] }
        }
        return probes
    }

    private static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }

    /// Whether the route refuses a malformed value of an argument of this schema (so that reading it can be tested).
    static func checksForm(_ schema: JSONSchema) -> Bool {
        schema.enum != nil || schema.types.contains("integer") || schema.format == "uuid" || schema.format == "date-time"
    }

    /// Records every property of `schema` that `value` (a decoded wire type) has no non-nil stored property for.
    static func checkDecoded(_ value: Any, _ schema: JSONSchema, path: String, problems: inout [String]) {
        guard let properties = schema.properties ?? schema.oneOf?.first?.properties else { return }
        var children: [String: Any] = [:]
        for child in Mirror(reflecting: value).children { if let label = child.label { children[label] = child.value } }
        for (name, property) in properties where !excludedAlternatives(schema).contains(name) {
            guard let child = children[name] else {
                problems.append("\(path).\(name) is not a property of \(type(of: value))")
                continue
            }
            guard let decoded = unwrap(child) else {
                problems.append("\(path).\(name) was sent but not decoded by \(type(of: value))")
                continue
            }
            if property.types == ["array"], let items = property.items, let first = Mirror(reflecting: decoded).children.first {
                if let element = unwrap(first.value) { checkDecoded(element, items, path: "\(path).\(name)[0]", problems: &problems) }
            } else {
                checkDecoded(decoded, property, path: "\(path).\(name)", problems: &problems)
            }
        }
    }

    /// The properties of the alternatives a sample does not take (all but the first of `oneOf`).
    static func excludedAlternatives(_ schema: JSONSchema) -> Set<String> {
        guard schema.properties != nil, let alternatives = schema.oneOf else { return [] }
        return Set(alternatives.dropFirst().flatMap { $0.required ?? [] })
    }

    private static func unwrap(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first.flatMap { unwrap($0.value) }
    }
}
