import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ScwDomain
import ScwMockApp
import Synchronization
import Testing

/// A clock the test moves by hand.
final class TestClock: WallClock {
    private let current: Mutex<Timestamp>
    init(_ start: Timestamp = Timestamp(nanoseconds: 1_777_992_190_670_343_416)) { current = Mutex(start) }
    func now() -> Timestamp { current.withLock { $0 } }
    func advance(seconds: Double) { current.withLock { $0 = $0.adding(nanoseconds: Int64(seconds * 1e9)) } }
}

/// Ids `00000000-0000-4000-8000-000000000101`, `…102`, …: stable golden files.
final class SequentialIDs: IDSource {
    private let counter = Mutex(100)
    func next() -> UUID {
        let n = counter.withLock { $0 += 1; return $0 }
        return UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", n))!
    }
    func nextSuffix() -> String { "sfx" + String(format: "%05d", counter.withLock { $0 }) }
}

/// Fixed ids of the scoped test identity written by `seedFile()`.
enum TestIdentity {
    static let otherProject = "11111111-1111-4111-8111-111111111111"
    static let otherSecret = "22222222-2222-4222-8222-222222222222"
    static let expiredSecret = "33333333-3333-4333-8333-333333333333"
    static let wellKnownSecret = WellKnownIdentity.secretKey

    /// A seed with a second project, a key scoped to it and an expired key on the default project.
    static func seedFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString).yaml").path
        try """
        projects:
          - id: \(otherProject)
            name: other
        api_keys:
          - access_key: SCWOTHER000000000000
            secret_key: \(otherSecret)
            projects: [\(otherProject)]
          - access_key: SCWEXPIRED0000000000
            secret_key: \(expiredSecret)
            projects: [00000000-0000-4000-8000-000000000001]
            expires_at: "2020-01-01T00:00:00Z"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Runs `body` against the application in router mode with an in-memory store, a test clock and sequential ids.
func withApp(transitionDelay: Double = 0, clock: TestClock = TestClock(), keyPool: Int = 3,
             _ body: @Sendable (any TestClientProtocol, TestClock) async throws -> Void) async throws {
    var config = MockConfiguration()
    config.databasePath = ":memory:"
    config.seedPaths = [try TestIdentity.seedFile()]
    config.transitionDelaySeconds = transitionDelay
    config.keyBits = 2048
    // Router-mode tests run no processes: deploys settle after the transition delay (the runtime has its own tests).
    config.runtimeEnabled = false
    config.keyPoolSize = keyPool
    let app = try await buildApplication(config, clock: clock, ids: SequentialIDs())
    try await app.test(.router) { client in
        // Start from a full key pool so that new namespaces are keyed (and so settle) deterministically.
        try await waitUntil("key pool full") {
            let pool = try await client.call(.get, "/_mock/health", key: nil).json["key_pool"] as? [String: Int]
            return pool?["ready"] == keyPool
        }
        try await body(client, clock)
    }
}

extension TestClientProtocol {
    /// A request with the well-known key (or `key`), and a JSON body when given.
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, key: String? = TestIdentity.wellKnownSecret, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let key { headers[HTTPField.Name("X-Auth-Token")!] = key }
        if json != nil { headers[.contentType] = "application/json; charset=utf-8" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    /// The body parsed as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }
    var text: String { String(buffer: body) }
}

/// Compares status and body with `Golden/<name>.json`; `UPDATE_GOLDEN=1` rewrites the file.
/// Argon2id salts and hashes are random, so they are masked (their parameters stay pinned).
func expectGolden(_ name: String, _ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    let document: [String: Any] = ["status": Int(response.status.code), "body": body]
    var text = String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    text = text.replacingOccurrences(of: #"\$argon2id\$v=19\$(m=\d+,t=\d+,p=\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}"#,
                                     with: "\\$argon2id\\$v=19\\$$1\\$<salt>\\$<hash>", options: .regularExpression)
    // JWTs and keys change with every key: pinned by the token tests, masked here.
    text = text.replacingOccurrences(of: #""eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+""#, with: "\"<jwt>\"", options: .regularExpression)
    // Pre-signed URL tokens are random too.
    text = text.replacingOccurrences(of: #"token=[0-9a-f]{48}"#, with: "token=<token>", options: .regularExpression)
    text = text.replacingOccurrences(of: #""-----BEGIN RSA PUBLIC KEY-----\\n[^"]+-----END RSA PUBLIC KEY-----\\n""#, with: "\"<pkcs1 pem>\"", options: .regularExpression) + "\n"
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name).json")
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(text == expected, "golden \(name) differs", sourceLocation: sourceLocation)
}

/// Polls `condition` until it holds, failing after `seconds` (no fixed sleeps in tests).
func waitUntil(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}
