import Hummingbird

/// An OpenAPI 3.1 document of every route the mock serves, generated from the route tables themselves so that it
/// cannot drift from them (`GET /_mock/openapi.json`).
public struct OpenAPIDocument: ResponseEncodable, Sendable {
    struct Info: Encodable, Sendable { var title: String; var version: String }
    struct Parameter: Encodable, Sendable {
        var name: String
        var `in`: String
        var required: Bool
        var schema: JSONSchema
    }
    struct Operation: Encodable, Sendable {
        struct Response: Encodable, Sendable {
            struct Media: Encodable, Sendable { var schema: JSONSchema }
            var description: String
            var content: [String: Media]?
        }
        struct RequestBody: Encodable, Sendable {
            struct Media: Encodable, Sendable { var schema: JSONSchema }
            var required: Bool
            var content: [String: Media]
        }
        var operationId: String
        var parameters: [Parameter]
        var requestBody: RequestBody?
        var security: [[String: [String]]]
        var responses: [String: Response]
    }
    struct Components: Encodable, Sendable {
        struct Scheme: Encodable, Sendable { var type: String; var `in`: String; var name: String }
        var securitySchemes: [String: Scheme]
    }

    var openapi = "3.1.0"
    var info: Info
    var paths: [String: [String: Operation]]
    var components = Components(securitySchemes: ["X-Auth-Token": .init(type: "apiKey", in: "header", name: "X-Auth-Token")])

    /// The document for `routes` (method, full path with `:name` parameters); `responses` are the schemas of the routes'
    /// answers by "METHOD /full/path" (an object of any shape otherwise).
    init(version: String, routes: [(method: String, path: String)], responses: [String: JSONSchema] = [:]) {
        info = Info(title: "scw-mock: Scaleway Serverless Containers and Functions APIs", version: version)
        var paths: [String: [String: Operation]] = [:]
        for (method, path) in routes {
            let segments = path.split(separator: "/")
            let openPath = "/" + segments.map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            // API routes document their arguments and bodies (OpenAPISchemas); the mock's own routes only their path.
            let isAPI = OpenAPISchemas.apiPrefixes.contains { path.hasPrefix($0) }
            let key = "\(method) \(path)"
            let parameters = segments.filter { $0.hasPrefix(":") }.map {
                let name = String($0.dropFirst())
                return Parameter(name: name, in: "path", required: true, schema: isAPI ? OpenAPISchemas.pathSchema(name) : .string())
            } + (isAPI ? OpenAPISchemas.queries[key] ?? [] : []).map {
                Parameter(name: $0.name, in: "query", required: $0.required, schema: $0.schema)
            }
            let body = isAPI ? OpenAPISchemas.bodies[key].map {
                Operation.RequestBody(required: $0.required, content: ["application/json": .init(schema: $0.schema)])
            } : nil
            let json = ["application/json": Operation.Response.Media(schema: JSONSchema(types: ["object"]))]
            let answer = responses[key].map { ["application/json": Operation.Response.Media(schema: $0)] } ?? json
            let operation = Operation(
                operationId: method.lowercased() + segments.map { $0.hasPrefix(":") ? "By" + $0.dropFirst().capitalized : $0.capitalized }
                    .joined().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "").replacingOccurrences(of: ".", with: ""),
                parameters: parameters, requestBody: body, security: path.hasPrefix("/_mock") ? [] : [["X-Auth-Token": []]],
                responses: ["200": .init(description: "OK", content: path.contains("public-key") || path.contains("downloads") ? nil : answer),
                            "default": .init(description: "Scaleway error", content: json)])
            paths[openPath, default: [:]][method.lowercased()] = operation
        }
        self.paths = paths
    }
}
