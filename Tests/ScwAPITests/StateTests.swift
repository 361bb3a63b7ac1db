import Foundation
import HTTPTypes
import HummingbirdTesting
import ScwMockApp
import Synchronization
import Testing

/// `GET /_mock/state` writes a fixture document that `--seed` reads back to the same world.
@Suite struct StateTests {
    static let c1 = "/containers/v1/regions/fr-par"
    static let c1b = "/containers/v1beta1/regions/fr-par"
    static let f1b = "/functions/v1beta1/regions/fr-par"

    func config(_ db: String, seeds: [String]) -> MockConfiguration {
        var config = MockConfiguration()
        config.databasePath = db
        config.seedPaths = seeds
        config.keyBits = 2048
        config.keyPoolSize = 1
        config.runtimeEnabled = false
        return config
    }

    static func normalized(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    @Test func everyKindOfObjectRoundTripsThroughState() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenFile = dir.appendingPathComponent("tokens.json").path
        let seedFile = dir.appendingPathComponent("world.yaml")
        try """
        projects:
          - id: 5eed0000-0000-4000-8000-000000000002
            name: team-b
        api_keys:
          - access_key: SCWTEAMB000000000000
            secret_key: 5eed0000-0000-4000-8000-00000000000b
            projects: [5eed0000-0000-4000-8000-000000000002]
        namespaces:
          - {id: 5eed0000-0000-4000-8000-0000000000c1, name: demo, secret_environment_variables: {NS_SECRET: s}}
          - {id: 5eed0000-0000-4000-8000-0000000000f1, name: fns, kind: function}
        containers:
          - {id: 5eed0000-0000-4000-8000-0000000000a1, namespace: demo, name: api, image: "nginx:latest", privacy: private, timeout: "60s",
             secret_environment_variables: {C_SECRET: c}}
          - {namespace: demo, name: idle, deploy: false}
        functions:
          - {id: 5eed0000-0000-4000-8000-0000000000b1, namespace: fns, name: fn, runtime: python312, memory_limit: 512}
        triggers:
          - {container: api, name: nightly, cron_config: {schedule: "0 3 * * *", timezone: Europe/Paris, body: "{}"}}
          - {function: fn, name: queue, sqs_config: {region: fr-par, endpoint: "https://sqs", queue_url: "https://sqs/q", access_key_id: AK, secret_access_key: SK}}
        tokens:
          - {id: 70ce0000-0000-4000-8000-000000000001, container: api, expires_at: "2099-01-01T00:00:00Z"}
          - {id: 70ce0000-0000-4000-8000-000000000002, namespace: fns}
        token_file: \(tokenFile)
        """.write(to: seedFile, atomically: true, encoding: .utf8)

        // 1. The fixture loads (and again, without duplicates), and the token file holds a JWT per token.
        let dbA = dir.appendingPathComponent("a.sqlite").path
        let captured = Mutex("")
        for _ in 0..<2 {
            let app = try await buildApplication(config(dbA, seeds: [seedFile.path]))
            try await app.test(.router) { client in
                #expect(try await client.call(.get, "\(Self.c1)/containers").json["total_count"] as? Int == 2)
                #expect(try await client.call(.get, "\(Self.f1b)/functions").json["total_count"] as? Int == 1)
                #expect(try await client.call(.get, "\(Self.c1)/triggers").json["total_count"] as? Int == 1)
                #expect(try await client.call(.get, "\(Self.f1b)/triggers").json["total_count"] as? Int == 1)
                #expect(try await client.call(.get, "\(Self.c1b)/tokens").json["total_count"] as? Int == 1)
                #expect(try await client.call(.get, "\(Self.c1b)/containers/5eed0000-0000-4000-8000-0000000000a1").json["timeout"] as? String == "60s")
                #expect(try await client.call(.get, "\(Self.c1b)/containers?name=idle").json["containers"].map { ($0 as! [[String: Any]])[0]["status"] as? String } == "created")
                let text = try await client.call(.get, "/_mock/state", key: nil).text
                captured.withLock { $0 = text }
            }
        }
        let stateA = captured.withLock { $0 }
        let tokens = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tokenFile))) as! [String: String]
        #expect(tokens.keys.sorted() == ["70ce0000-0000-4000-8000-000000000001", "70ce0000-0000-4000-8000-000000000002"])
        #expect(tokens.values.allSatisfy { $0.hasPrefix("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.") })

        // 2. The exported state seeds a fresh store into the same world.
        let exported = dir.appendingPathComponent("state.json")
        try stateA.write(to: exported, atomically: true, encoding: .utf8)
        let app = try await buildApplication(config(dir.appendingPathComponent("b.sqlite").path, seeds: [exported.path]))
        try await app.test(.router) { client in
            let stateB = try await client.call(.get, "/_mock/state", key: nil).text
            #expect(NSDictionary(dictionary: try Self.normalized(stateB)) == NSDictionary(dictionary: try Self.normalized(stateA)))
            // Secrets and keys came through: the seeded key still signs, and the container still has its secret.
            let state = try Self.normalized(stateB)
            let containers = state["containers"] as! [[String: Any]]
            #expect((containers.first { $0["name"] as? String == "api" }?["secret_environment_variables"] as? [String: String]) == ["C_SECRET": "c"])
            #expect(try await client.call(.get, "\(Self.c1)/namespaces", key: "5eed0000-0000-4000-8000-00000000000b").status == .ok)
        }
    }

    @Test func runtimeSeedIsCheckedAndApplied() async throws {
        try await withApp { client, _ in
            let bad = try await client.call(.post, "/_mock/seed", key: nil, json: #"{"namespaces":[{"name":"Bad_"}]}"#)
            #expect(bad.status == .badRequest)
            #expect((bad.json["details"] as? [[String: String]])?.first?["argument_name"] == "namespaces[0].name")
            #expect(try await client.call(.get, "\(Self.c1)/namespaces").json["total_count"] as? Int == 0)
            let good = try await client.call(.post, "/_mock/seed", key: nil, json: #"{"namespaces":[{"name":"live"}],"containers":[{"namespace":"live","name":"c","image":"nginx:latest"}]}"#)
            #expect(good.status == .ok)
            #expect(try await client.call(.get, "\(Self.c1)/containers").json["total_count"] as? Int == 1)
        }
    }

    @Test func runtimeSeedTakesYAMLAndWritesNothingWhenAnyPartIsWrong() async throws {
        try await withApp { client, _ in
            // The namespace is fine, the container is not (min_scale above max_scale): nothing is created.
            let bad = try await client.call(.post, "/_mock/seed", key: nil, json: """
                namespaces:
                  - name: yaml-ns
                containers:
                  - {namespace: yaml-ns, name: c, min_scale: 3, max_scale: 1}
                  - {namespace: yaml-ns, name: d, imgae: "nginx:latest"}
                """)
            #expect(bad.status == .badRequest)
            let names = ((bad.json["details"] as? [[String: String]]) ?? []).compactMap { $0["argument_name"] }
            #expect(names.contains { $0.hasPrefix("containers[0].") }, "\(names)")
            #expect(names.contains("containers[1].imgae"), "\(names)")
            #expect(try await client.call(.get, "\(Self.c1)/namespaces").json["total_count"] as? Int == 0)
            let good = try await client.call(.post, "/_mock/seed", key: nil, json: "namespaces:\n  - name: yaml-ns\n")
            #expect(good.status == .ok)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces").json["total_count"] as? Int == 1)
        }
    }

    @Test func organizationsAndTheirNamesRoundTripThroughState() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orgs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let seedFile = dir.appendingPathComponent("orgs.yaml")
        try """
        organizations:
          - {id: 0e650000-0000-4000-8000-000000000001, name: acme}
        projects:
          - {id: 0e650000-0000-4000-8000-000000000002, organization_id: 0e650000-0000-4000-8000-000000000001, name: web}
        """.write(to: seedFile, atomically: true, encoding: .utf8)
        var file = seedFile
        for round in 0..<2 {
            let app = try await buildApplication(config(":memory:", seeds: [file.path]))
            let exported = Mutex("")
            try await app.test(.router) { client in
                let text = try await client.call(.get, "/_mock/state", key: nil).text
                exported.withLock { $0 = text }
            }
            let state = try Self.normalized(exported.withLock { $0 })
            #expect((state["organizations"] as? [[String: String]]) == [["id": "0e650000-0000-4000-8000-000000000001", "name": "acme"]], "round \(round)")
            file = dir.appendingPathComponent("state-\(round).json")
            try exported.withLock { $0 }.write(to: file, atomically: true, encoding: .utf8)
        }
    }
}
