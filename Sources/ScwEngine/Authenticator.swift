import ScwDomain
import ScwStore
import Synchronization

/// Checks `X-Auth-Token` values against the API keys in the store (Scaleway IAM's `denied_authentication` rules).
/// Keys are cached in memory by the SHA-256 of their secret, each with its principal; the cache is reloaded whenever keys
/// are written.
public final class Authenticator: Sendable {
    private struct Entry {
        let key: APIKey
        let principal: Principal
    }

    private let database: AppDatabase
    private let clock: any WallClock
    private let keys: Mutex<[SecretDigest: Entry]>

    /// Loads every key from the store.
    public init(database: AppDatabase, clock: any WallClock) throws(ScwError) {
        self.database = database
        self.clock = clock
        self.keys = Mutex([:])
        try reload()
    }

    /// Re-reads the keys after the store changed (seed applied).
    public func reload() throws(ScwError) {
        let all = try database.allAPIKeys()
        keys.withLock { cache in
            cache = Dictionary(all.map { (SecretDigest($0.secretKey), Entry(key: $0, principal: Principal(key: $0))) },
                               uniquingKeysWith: { a, _ in a })
        }
    }

    /// The principal for a secret key, or the exact `denied_authentication` reason.
    /// The secret is compared in constant time and never logged.
    public func authenticate(secretKey: String?) throws(ScwError) -> Principal {
        guard let secretKey, secretKey.utf8.count == 36, Identifier<Never>(secretKey) != nil else {
            throw .deniedAuthentication(.invalidArgument)
        }
        let digest = SecretDigest(secretKey)
        guard let entry = keys.withLock({ $0[digest] }), ConstantTime.equals(entry.key.secretKey, secretKey) else {
            throw .deniedAuthentication(.notFound)
        }
        if let expiry = entry.key.expiresAt, expiry <= clock.now() {
            throw .deniedAuthentication(.expired)
        }
        return entry.principal
    }
}
