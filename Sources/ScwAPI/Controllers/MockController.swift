import Hummingbird
import ScwDomain

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

    /// The health report.
    struct Health: ResponseEncodable, Sendable {
        var status: String
        var version: String
        var database: String
        var auth: String
        var regions: [String]
        var routes: [String]
    }

    /// Mounts the routes on the `/_mock` group.
    func mount(on routes: RouteTable) {
        routes.get("health") { _, _ in
            // The listener only opens after the store is migrated and seeded, so an answer means ready.
            Health(status: "ready", version: info.version, database: info.databasePath,
                   auth: info.authEnforced ? "enforced" : "disabled", regions: Region.allCases.map(\.rawValue),
                   routes: ["GET /_mock/health"])
        }
    }
}
