import Hummingbird
import ScwDomain
import ScwEngine

extension V1Beta1 {
    /// A token as containers and functions v1beta1 render it: only the scope id that is set is
    /// present; `token` and `public_key` are shown once, at creation.
    public struct Token: ResponseEncodable, Sendable {
        public var id: String
        public var token: String
        public var public_key: String
        public var namespace_id: String?
        public var container_id: String?
        public var function_id: String?
        public var status: String
        public var expires_at: Nullable<String>
        public var description: String
    }

    /// Body of `POST …/tokens` (containers send `container_id`, functions `function_id`).
    public struct CreateTokenRequest: Decodable, Sendable {
        public var namespace_id: String?
        public var container_id: String?
        public var function_id: String?
        public var description: String?
        public var expires_at: String?
    }

    /// `{"tokens":[…],"total_count":N}`.
    public struct ListTokensResponse: ResponseEncodable, Sendable {
        public var tokens: [Token]
        public var total_count: Int
    }
}

extension V1Beta1.Token {
    /// How much of the secret material a response shows.
    enum Disclosure {
        /// Creation and issue-jwt: the JWT and the public key.
        case issued(jwt: String, publicKey: String)
        /// GET and LIST: `"token":"<hidden>","public_key":""`.
        case hidden
        /// DELETE: both empty.
        case deleted
    }

    init(_ t: ScwDomain.Token, disclosure: Disclosure, status: String) {
        var nsID: String?, appID: String?
        switch t.scope {
        case .namespace(let ns): nsID = ns.rawValue
        case .application(let app): appID = app
        }
        let app = appID.map { t.api.namespaceKind.ref($0) }
        let (jwt, key): (String, String)
        switch disclosure {
        case .issued(let j, let k): (jwt, key) = (j, k)
        case .hidden: (jwt, key) = ("<hidden>", "")
        case .deleted: (jwt, key) = ("", "")
        }
        self.init(id: t.id.rawValue, token: jwt, public_key: key, namespace_id: nsID,
                  container_id: app?.id(of: .container), function_id: app?.id(of: .function),
                  status: status, expires_at: Nullable(t.expiresAt?.rfc3339(fractionDigits: 0)), description: t.description)
    }
}

extension V1Beta1.CreateTokenRequest {
    /// The `POST …/tokens` body's schema in `GET /_mock/openapi.json`; `application` is `container_id` or `function_id`.
    static func schema(application: String) -> JSONSchema {
        .object(["namespace_id": .uuid, application: .uuid, "description": .description, "expires_at": .string(format: "date-time")],
                exactlyOneOf: ["namespace_id", application])
    }
}

extension V1Beta1.Token: DocumentedResponse {
    /// The answer's schema in `GET /_mock/openapi.json`: the JWT and the namespace's key are shown once, at creation.
    static let schema = JSONSchema.object([
        "id": .uuid, "token": .string(), "public_key": .string(), "namespace_id": .uuid, "container_id": .uuid, "function_id": .uuid,
        "status": .string(), "expires_at": JSONSchema.timestamp.orNull, "description": .string(),
    ])
}

extension V1Beta1.ListTokensResponse: DocumentedResponse {
    static let schema = JSONSchema.list("tokens", of: V1Beta1.Token.schema)
}
