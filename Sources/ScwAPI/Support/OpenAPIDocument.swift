import Hummingbird

/// An OpenAPI 3.1 document of every route the mock serves, generated from the route tables themselves so that it
/// cannot drift from them (`GET /_mock/openapi.json`).
public struct OpenAPIDocument: ResponseEncodable, Sendable {
    struct Info: Encodable, Sendable { var title: String; var version: String }
    struct Parameter: Encodable, Sendable {
        struct Schema: Encodable, Sendable { var type: String }
        var name: String
        var `in`: String
        var required: Bool
        var schema: Schema
    }
    struct Operation: Encodable, Sendable {
        struct Response: Encodable, Sendable {
            struct Media: Encodable, Sendable { var schema: [String: String] }
            var description: String
            var content: [String: Media]?
        }
        var operationId: String
        var parameters: [Parameter]
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

    /// The document for `routes` (method, full path with `:name` parameters).
    init(version: String, routes: [(method: String, path: String)]) {
        info = Info(title: "scw-mock: Scaleway Serverless Containers and Functions APIs", version: version)
        var paths: [String: [String: Operation]] = [:]
        for (method, path) in routes {
            let segments = path.split(separator: "/")
            let openPath = "/" + segments.map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            let parameters = segments.filter { $0.hasPrefix(":") }.map {
                Parameter(name: String($0.dropFirst()), in: "path", required: true, schema: .init(type: "string"))
            }
            let json = ["application/json": Operation.Response.Media(schema: ["type": "object"])]
            let operation = Operation(
                operationId: method.lowercased() + segments.map { $0.hasPrefix(":") ? "By" + $0.dropFirst().capitalized : $0.capitalized }
                    .joined().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "").replacingOccurrences(of: ".", with: ""),
                parameters: parameters, security: path.hasPrefix("/_mock") ? [] : [["X-Auth-Token": []]],
                responses: ["200": .init(description: "OK", content: path.contains("public-key") || path.contains("downloads") ? nil : json),
                            "default": .init(description: "Scaleway error", content: json)])
            paths[openPath, default: [:]][method.lowercased()] = operation
        }
        self.paths = paths
    }
}
