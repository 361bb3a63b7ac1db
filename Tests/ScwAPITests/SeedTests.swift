import Foundation
import HummingbirdTesting
import ScwKeys
import ScwMockApp
import Testing

/// Fixtures: the repository's example seed loads, names its keys, and loading it twice changes nothing.
@Suite struct SeedTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func config(database: String) -> MockConfiguration {
        var config = MockConfiguration()
        config.databasePath = database
        config.seedPaths = [Self.repo.appendingPathComponent("seed").path]
        config.keyBits = 2048
        config.runtimeEnabled = false
        config.keyPoolSize = 0
        return config
    }

    @Test func exampleSeedLoadsWithItsKeyFilesAndIsIdempotent() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("state.sqlite").path
        let expectedKey = try NamespaceKey(pem: String(contentsOf: Self.repo.appendingPathComponent("Keys/dev-namespace-1.pem"), encoding: .utf8))
        for _ in 0..<2 {
            let app = try await buildApplication(config(database: db))
            try await app.test(.router) { client in
                let list = try await client.call(.get, "/containers/v1/regions/fr-par/namespaces").json
                #expect(list["total_count"] as? Int == 1)
                let ns = (list["namespaces"] as! [[String: Any]])[0]
                #expect(ns["id"] as? String == "5eed0000-0000-4000-8000-0000000000c1")
                #expect(ns["status"] as? String == "ready")
                #expect(ns["environment_variables"] as? [String: String] == ["GREETING": "hello"])
                let pem = try await client.call(.get, "/_mock/namespaces/5eed0000-0000-4000-8000-0000000000c1/public-key", key: nil).text
                #expect(pem == expectedKey.publicKey.pkcs1PEM)
                #expect(try await client.call(.get, "/functions/v1beta1/regions/fr-par/namespaces").json["total_count"] as? Int == 1)
                // The scoped key of the example sees none of the default project's namespaces.
                let teamB = try await client.call(.get, "/containers/v1/regions/fr-par/namespaces", key: "5eed0000-0000-4000-8000-00000000000b")
                #expect(teamB.json["total_count"] as? Int == 0)
            }
        }
    }

    @Test func badFixturesNameTheFileAndField() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("badseed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.yaml")
        try """
        api_keys:
          - access_key: nope
            secret_key: 00000000-0000-4000-8000-000000000009
        namespaces:
          - name: Bad_Name
          - name: ok
            key_file: Keys/missing.pem
          - name: ok2
            kind: lambda
        """.write(to: file, atomically: true, encoding: .utf8)
        var config = MockConfiguration()
        config.databasePath = ":memory:"
        config.seedPaths = [file.path]
        config.keyPoolSize = 0
        config.runtimeEnabled = false
        do {
            _ = try await buildApplication(config)
            Issue.record("a bad fixture was accepted")
        } catch let error as SeedError {
            let lines = error.description.split(separator: "\n").map(String.init)
            // file:line: field: what was expected
            #expect(lines.contains("\(file.path):2: api_keys[0].access_key: expected SCW followed by 17 characters A-Z or 0-9"))
            #expect(lines.contains { $0.hasPrefix("\(file.path):5: namespaces[0].name: namespace name must begin") })
            #expect(lines.contains("\(file.path):7: namespaces[1].key_file: no such file Keys/missing.pem"))
            #expect(lines.contains("\(file.path):9: namespaces[2].kind: expected container or function"))
        }
    }
}
