import Foundation
import Hummingbird
import ScwDomain
import ScwEngine

/// IAM v1alpha1's API-key look-up, `GET /iam/v1alpha1/api-keys/{access_key}`: what the `scw` CLI calls to find the
/// caller's default project. Untrusted side of the trust line: needs an API key; keys of the caller's own organization
/// are visible, any other is a 404; the secret key is never in the answer.
struct IAMController {
    let service: RegistryService

    /// Mounts the route on the `/iam/v1alpha1` group.
    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("api-keys/:access_key", getAPIKey)
    }

    @Sendable func getAPIKey(_ request: Request, context: APIRequestContext) async throws -> IAMAPIKey {
        let key = try service.apiKey(accessKey: context.parameters.get("access_key") ?? "", by: context.principal)
        return IAMAPIKey(key)
    }
}

/// An API key as `scaleway.iam.v1alpha1` unmarshals it, without `secret_key` (Scaleway shows it only at creation).
struct IAMAPIKey: ResponseEncodable, Sendable {
    var access_key: String
    var description: String
    var default_project_id: String
    var editable: Bool
    var deletable: Bool
    var managed: Bool
    var creation_ip: String
    /// The key's bearer: the mock's keys belong to an IAM application whose id is derived from the access key, so it
    /// is stable across runs and resets.
    var application_id: String
    var user_id: Nullable<String>
    /// The mock does not record when a fixture's key was made: null (the SDK declares both optional).
    var created_at: Nullable<String>
    var updated_at: Nullable<String>
    var expires_at: Nullable<String>

    init(_ key: APIKey) {
        access_key = key.accessKey
        description = ""
        default_project_id = key.defaultProjectID.rawValue
        editable = true
        deletable = true
        managed = false
        creation_ip = ""
        application_id = Self.applicationID(of: key.accessKey)
        user_id = nil
        created_at = nil
        updated_at = nil
        expires_at = Nullable(key.expiresAt.map { $0.rfc3339(fractionDigits: 6) })
    }

    /// A version-4-shaped UUID from the SHA-256 of the access key.
    static func applicationID(of accessKey: String) -> String {
        var hex = Array(ConstantTime.digest("iam-application:" + accessKey).prefix(32))
        hex[12] = "4"
        hex[16] = "8"
        let s = String(hex)
        func part(_ from: Int, _ length: Int) -> Substring { s.dropFirst(from).prefix(length) }
        return "\(part(0, 8))-\(part(8, 4))-\(part(12, 4))-\(part(16, 4))-\(part(20, 12))"
    }
}

extension IAMAPIKey: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`.
    static let schema = JSONSchema.object([
        "access_key": .string(), "description": .string(), "default_project_id": .uuid, "editable": .boolean, "deletable": .boolean,
        "managed": .boolean, "creation_ip": .string(), "application_id": .uuid, "user_id": .nullableString,
        "created_at": .string(format: "date-time").orNull, "updated_at": .string(format: "date-time").orNull,
        "expires_at": .string(format: "date-time").orNull,
    ])
}
