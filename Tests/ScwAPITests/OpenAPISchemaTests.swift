import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ScwAPI
import ScwDomain
import Testing

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
            var accepted = 0
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
                        if response.status.code < 300 { accepted += 1 }
                    }
                }
            }
            #expect(accepted > 0)
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

/// Sample JSON built from a schema, and the check that a decoded wire value received every property.
enum Sample {
    /// A value valid for `schema`; ids come from `ids` by property name. `extreme` replaces every integer; `full` = every
    /// property, otherwise only the required ones.
    static func value(_ schema: JSONSchema, ids: [String: String], key: String? = nil, extreme: Int64? = nil, full: Bool = true) -> Any {
        if let alternatives = schema.oneOf { return value(alternatives[0], ids: ids, extreme: extreme, full: full) }
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
                let required = Set(schema.required ?? [])
                var object: [String: Any] = [:]
                for (name, property) in properties where full || required.contains(name) {
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

    /// Whether the route refuses a malformed value of an argument of this schema (so that reading it can be tested).
    static func checksForm(_ schema: JSONSchema) -> Bool {
        schema.enum != nil || schema.types.contains("integer") || schema.format == "uuid" || schema.format == "date-time"
    }

    /// Records every property of `schema` that `value` (a decoded wire type) has no non-nil stored property for.
    static func checkDecoded(_ value: Any, _ schema: JSONSchema, path: String, problems: inout [String]) {
        guard let properties = schema.properties ?? schema.oneOf?.first?.properties else { return }
        var children: [String: Any] = [:]
        for child in Mirror(reflecting: value).children { if let label = child.label { children[label] = child.value } }
        for (name, property) in properties {
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

    private static func unwrap(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first.flatMap { unwrap($0.value) }
    }
}
