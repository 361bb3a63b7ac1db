import Hummingbird
import ScwDomain
import ScwEngine
import ScwKeys
import Synchronization

/// What `/_mock/health` reports.
public struct MockInfo: Sendable {
    public var version: String
    public var databasePath: String
    public var authEnforced: Bool

    /// Creates the report's facts.
    public init(version: String, databasePath: String, authEnforced: Bool) {
        self.version = version
        self.databasePath = databasePath
        self.authEnforced = authEnforced
    }
}

/// The mock's own routes under `/_mock` (no API key needed).
struct MockController {
    let info: MockInfo
    let tokens: TokenService
    /// The `/_mock` routes, filled in once the router is built (so the health report cannot drift from them).
    let routes: Box<[(method: String, path: String)]>

    /// `{"keys":[JWK…]}`.
    struct JWKS: ResponseEncodable, Sendable {
        var keys: [JWK]
    }

    /// The health report.
    struct Health: ResponseEncodable, Sendable {
        var status: String
        var version: String
        var database: String
        var auth: String
        var regions: [String]
        var routes: [String]
        var key_pool: KeyPool
    }

    /// Key pool state: new namespaces are ready at once while `ready` > 0.
    struct KeyPool: Encodable, Sendable {
        var bits: Int
        var ready: Int
        var target: Int
    }

    /// Routes as `GET|POST /_mock/clock`, one line a path, `{name}` for path parameters.
    static func describe(_ routes: [(method: String, path: String)]) -> [String] {
        let order = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        let byPath = Dictionary(grouping: routes, by: \.path)
        return byPath.keys.sorted().map { path in
            let methods = byPath[path]!.map(\.method).sorted { (order.firstIndex(of: $0) ?? order.count) < (order.firstIndex(of: $1) ?? order.count) }
            let open = path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            return methods.joined(separator: "|") + " /" + open
        }
    }

    /// Mounts the routes on the `/_mock` group.
    func mount(on routes: RouteTable<ScwRequestContext>) {
        // Described once, on the first call (the route list is complete by then): health is polled in loops.
        let described = Mutex<[String]?>(nil)
        routes.get("health") { _, _ in
            // The listener only opens after the store is migrated and seeded, so an answer means ready.
            let pool = try tokens.keyPoolStatus()
            return Health(status: "ready", version: info.version, database: info.databasePath,
                   auth: info.authEnforced ? "enforced" : "disabled", regions: Region.allCases.map(\.rawValue),
                   routes: described.withLock { cached in
                       if let cached { return cached }
                       let list = Self.describe(self.routes.value)
                       cached = list
                       return list
                   },
                   key_pool: KeyPool(bits: pool.bits, ready: pool.ready, target: pool.target))
        }
        // The namespace's public key as PEM: PKCS#1 like the tokens API returns it, or `?format=spki`.
        routes.get("namespaces/:namespace_id/public-key") { request, context -> Response in
            let key = try await tokens.publicKey(of: try context.id("namespace_id"))
            let format = request.query("format") ?? "pkcs1"
            guard format == "pkcs1" || format == "spki" else { throw ScwError.invalid("format", .format, "format must be pkcs1 or spki") }
            let pem = format == "spki" ? key.spkiPEM : key.pkcs1PEM
            return Response(status: .ok, headers: [.contentType: "application/x-pem-file"], body: .init(byteBuffer: ByteBuffer(string: pem)))
        }
        // Every namespace key as a JWKS (kid = namespace id).
        routes.get("jwks.json") { _, _ in
            JWKS(keys: try tokens.allPublicKeys().map { id, key in try key.jwk(kid: id.rawValue) })
        }
    }
}
