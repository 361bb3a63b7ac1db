import Foundation
import HummingbirdTesting
import ScwKeys
import ScwMockApp
import Synchronization
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

    /// A temporary folder holding `world.yaml` (the fixture below) and, once loaded, its `tokens.json`.
    static func world(_ text: String = """
        namespaces:
          - {name: world}
          - {name: later}
        containers:
          - {namespace: world, name: web, image: "nginx:latest"}
        tokens:
          - {namespace: world, description: ci}
        token_file: tokens.json
        """) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("world-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try text.write(to: dir.appendingPathComponent("world.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    func worldConfig(_ dir: URL, database: String = ":memory:") -> MockConfiguration {
        var config = config(database: database)
        config.seedPaths = [dir.appendingPathComponent("world.yaml").path]
        config.keyPoolSize = 1
        return config
    }

    /// Ids of namespaces, containers and container tokens, and each namespace's public key.
    static func ids(_ client: any TestClientProtocol) async throws -> [String] {
        var ids: [String] = []
        for (path, list) in [("/containers/v1/regions/fr-par/namespaces", "namespaces"), ("/containers/v1/regions/fr-par/containers", "containers"),
                             ("/containers/v1beta1/regions/fr-par/tokens", "tokens")] {
            ids += ((try await client.call(.get, path).json[list] as? [[String: Any]]) ?? []).map { "\(list):\($0["name"] ?? $0["description"] ?? ""):\($0["id"]!)" }
        }
        return ids.sorted()
    }

    @Test func resetGivesBackExactlyTheSeededState() async throws {
        let dir = try Self.world()
        defer { try? FileManager.default.removeItem(at: dir) }
        let app = try await buildApplication(worldConfig(dir))
        try await app.test(.router) { client in
            let before = try await Self.ids(client)
            #expect(before.count == 4)
            let tokenFile = try String(contentsOf: dir.appendingPathComponent("tokens.json"), encoding: .utf8)
            let namespaces = (try await client.call(.get, "/containers/v1/regions/fr-par/namespaces").json["namespaces"] as! [[String: Any]])
            // `later` has no token, so it is keyed in the background after start, after the seeded state was taken.
            var keys: [String: String] = [:]
            for ns in namespaces {
                let id = ns["id"] as! String
                try await waitUntil("key of \(id)") { try await client.call(.get, "/_mock/namespaces/\(id)/public-key", key: nil).status == .ok }
                keys[id] = try await client.call(.get, "/_mock/namespaces/\(id)/public-key", key: nil).text
            }
            #expect(try await client.call(.post, "/_mock/clock", key: nil, json: #"{"advance_seconds":3600}"#).status == .ok)
            _ = try await client.call(.post, "/containers/v1/regions/fr-par/namespaces", json: #"{"name":"extra"}"#)
            for _ in 0..<2 { #expect(try await client.call(.post, "/_mock/reset", key: nil).status == .ok) }
            #expect(try await Self.ids(client) == before)
            for (id, pem) in keys {
                #expect(try await client.call(.get, "/_mock/namespaces/\(id)/public-key", key: nil).text == pem)
            }
            // The token file was not rewritten, and its token (signed by the kept key) is still the listed one.
            #expect(try String(contentsOf: dir.appendingPathComponent("tokens.json"), encoding: .utf8) == tokenFile)
            let jwts = try JSONSerialization.jsonObject(with: Data(tokenFile.utf8)) as! [String: String]
            #expect(before.contains { jwts.keys.first.map($0.hasSuffix) ?? false })
            #expect(try await client.call(.get, "/_mock/clock", key: nil).json["offset_seconds"] as? Double == 0)
        }
    }

    @Test func restartWithTheSameSeedAddsNoTokenAndKeepsTheTokenFileValid() async throws {
        let dir = try Self.world()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("state.sqlite").path
        var seen: [[String]] = []
        var files: [[String: String]] = []
        for _ in 0..<2 {
            let app = try await buildApplication(worldConfig(dir, database: db))
            let ids = Mutex<[String]>([])
            try await app.test(.router) { client in
                let found = try await Self.ids(client)
                ids.withLock { $0 = found }
            }
            seen.append(ids.withLock { $0 })
            files.append(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokens.json"))) as! [String: String])
        }
        #expect(seen[0] == seen[1])
        #expect(seen[1].filter { $0.hasPrefix("tokens:") }.count == 1)
        // The token file names the one stored token, after the restart too.
        for file in files {
            #expect(file.count == 1)
            #expect(seen[1].contains { $0.hasSuffix(file.keys.first!) })
        }
    }

    @Test func problemsFoundWhileApplyingAreAllReportedWithLinesAndNothingIsWritten() async throws {
        let dir = try Self.world("""
            namespaces:
              - name: first
            containers:
              - namespace: first
                name: web
                min_scale: 3
                max_scale: 1
              - namespace: nowhere
                name: lost
              - namespace: first
                name: ok
            triggers:
              - container: ok
                name: bad
                cron_config: {schedule: "not a cron"}
            tokens:
              - namespace: first
                expires_at: "2000-01-01T00:00:00Z"
            namepsaces:
              - name: typo
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("state.sqlite").path
        let file = dir.appendingPathComponent("world.yaml").path
        do {
            _ = try await buildApplication(worldConfig(dir, database: db))
            Issue.record("a bad fixture was accepted")
        } catch let error as SeedError {
            let lines = error.description.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("\(file):6: containers[0].min_scale: ") || $0.hasPrefix("\(file):7: containers[0].max_scale: ") },
                    "\(lines)")
            #expect(lines.contains("\(file):8: containers[1].namespace: no container namespace nowhere"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("\(file):15: triggers[0].cron_config") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("\(file):18: tokens[0].expires_at: ") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("\(file):19: namepsaces: unknown field; expected one of organizations, projects") }, "\(lines)")
        }
        // Nothing was written: not the namespace, not the token file.
        var clean = worldConfig(dir, database: db)
        clean.seedPaths = []
        let app = try await buildApplication(clean)
        try await app.test(.router) { client in
            let count = try await client.call(.get, "/containers/v1/regions/fr-par/namespaces").json["total_count"] as? Int
            #expect(count == 0)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("tokens.json").path))
    }

    /// A fixture posted at run time is data only: what runs a command or names a file of this
    /// machine is refused, naming each field, and nothing of the document is applied; `--trust-posted-seeds` allows it.
    @Test func postedFixturesAreDataOnlyUnlessTheOperatorTrustsThem() async throws {
        let dir = try Self.world()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = Self.repo.appendingPathComponent("Keys/dev-namespace-1.pem").path
        let tokenFile = dir.appendingPathComponent("posted-tokens.json").path
        let document = """
            {"images":[{"image":"*","command":["sh","-c","exit 0"],"working_directory":"/"}],
             "namespaces":[{"name":"posted","key_file":"\(keyFile)"},{"name":"fns","kind":"function"}],
             "functions":[{"namespace":"fns","name":"f","runtime":"python311","code":"/etc"}],
             "tokens":[{"namespace":"posted"}],"token_file":"\(tokenFile)"}
            """
        var config = config(database: ":memory:")
        config.seedPaths = []
        let app = try await buildApplication(config)
        try await app.test(.router) { client in
            let response = try await client.call(.post, "/_mock/seed", key: nil, json: document)
            #expect(response.status == .badRequest)
            let names = ((response.json["details"] as? [[String: String]]) ?? []).compactMap { $0["argument_name"] }
            #expect(names == ["images[0].command", "images[0].working_directory", "namespaces[0].key_file", "functions[0].code", "token_file"])
            #expect(try await client.call(.get, "/containers/v1/regions/fr-par/namespaces").json["total_count"] as? Int == 0)
        }
        #expect(!FileManager.default.fileExists(atPath: tokenFile))

        config.trustPostedSeeds = true
        let trusting = try await buildApplication(config)
        try await trusting.test(.router) { client in
            let trusted = """
                {"images":[{"image":"*","command":["sh","-c","exit 0"],"working_directory":"/"}],
                 "namespaces":[{"name":"posted","key_file":"\(keyFile)"}],"tokens":[{"namespace":"posted"}],"token_file":"\(tokenFile)"}
                """
            let response = try await client.call(.post, "/_mock/seed", key: nil, json: trusted)
            #expect(response.status == .ok, "\(response.text)")
            #expect(try await client.call(.get, "/containers/v1/regions/fr-par/namespaces").json["total_count"] as? Int == 1)
        }
        // The token file holds bearer tokens: this user only.
        let mode = try FileManager.default.attributesOfItem(atPath: tokenFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// A "billion laughs" (10^9 nodes from about 500 bytes) is refused with the limit before anything expands it.
    @Test func aliasBombIsRefusedWithTheLimitAtOnce() async throws {
        var lines = [#"a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for i in 1..<10 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ",") + "]") }
        lines.append("namespaces: *a9")
        let dir = try Self.world(lines.joined(separator: "\n"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = ContinuousClock.now
        do {
            _ = try await buildApplication(worldConfig(dir))
            Issue.record("the alias bomb was accepted")
        } catch let error as SeedError {
            #expect(error.description.hasSuffix("-: the document expands (through its YAML aliases) to more than the limit of 250000 nodes"))
        }
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    /// Aliases within the limit still work, merge keys included.
    @Test func aliasesWithinTheLimitStillWork() async throws {
        let dir = try Self.world("""
            namespaces:
              - {name: one, environment_variables: &env {GREETING: hello}}
              - {name: two, environment_variables: {<<: *env, EXTRA: "1"}}
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let app = try await buildApplication(worldConfig(dir))
        try await app.test(.router) { client in
            let list = try await client.call(.get, "/containers/v1/regions/fr-par/namespaces?order_by=name_asc").json["namespaces"] as? [[String: Any]]
            #expect(list?.map { $0["environment_variables"] as? [String: String] } == [["GREETING": "hello"], ["GREETING": "hello", "EXTRA": "1"]])
        }
    }

    /// `seed check` warns about paths that leave the fixture's folder; they are no problem.
    @Test func seedCheckWarnsAboutPathsLeavingTheFixtureFolder() async throws {
        let dir = try Self.world("""
            namespaces:
              - {name: world, key_file: \(Self.repo.appendingPathComponent("Keys/dev-namespace-1.pem").path)}
            tokens:
              - {namespace: world}
            token_file: ../tokens.json
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try await checkSeeds(paths: [dir.path])
        #expect(check.files == 1)
        #expect(check.warnings.map(\.field) == ["namespaces[0].key_file", "token_file"])
        #expect(check.warnings.map(\.line) == [2, 5])
    }

    /// A folder seeded with `token_file: tokens.json` starts again (the written file is no fixture), and checks clean.
    @Test func aFolderWithItsOwnTokenFileStartsAgainAndChecksClean() async throws {
        let dir = try Self.world()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("state.sqlite").path
        var config = worldConfig(dir, database: db)
        config.seedPaths = [dir.path]
        for _ in 0..<2 {
            let app = try await buildApplication(config)
            try await app.test(.router) { client in
                let tokens = try await Self.ids(client).filter { $0.hasPrefix("tokens:") }
                #expect(tokens.count == 1)
            }
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("tokens.json").path))
        }
        let check = try await checkSeeds(paths: [dir.path])
        #expect(check.files == 1)
        #expect(check.warnings.isEmpty)
    }

    /// A token file that no fixture names any more is left out with a warning; a stray JSON file is refused in one line.
    @Test func leftoverTokenFileWarnsAndStrayJSONIsRefusedWithHowToExcludeIt() async throws {
        let dir = try Self.world("namespaces:\n  - {name: world}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let leftover = dir.appendingPathComponent("old-tokens.json")
        try #"{"5eed0000-0000-4000-8000-0000000000aa": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}"#
            .write(to: leftover, atomically: true, encoding: .utf8)
        let check = try await checkSeeds(paths: [dir.path])
        #expect(check.files == 1)
        #expect(check.warnings.map(\.file) == [leftover.path])
        #expect(check.warnings.first?.message.contains("no fixture names") == true)

        let stray = dir.appendingPathComponent("package.json")
        try #"{"name": "app", "version": "1.0.0", "dependencies": {}}"#.write(to: stray, atomically: true, encoding: .utf8)
        do {
            _ = try await checkSeeds(paths: [dir.path])
            Issue.record("a stray JSON file was accepted")
        } catch let error as SeedError {
            #expect(error.problems.count == 1)
            #expect(error.problems.first?.file == stray.path)
            #expect(error.problems.first?.message.hasPrefix("not a fixture") == true)
            #expect(error.problems.first?.message.contains("pass the fixture files by name") == true)
            #expect(error.warnings.map(\.file) == [leftover.path])
        }
        // Named, the fixture alone is read.
        #expect(try await checkSeeds(paths: [dir.appendingPathComponent("world.yaml").path]).files == 1)
    }

    @Test func seedCheckWritesNothing() async throws {
        let dir = try Self.world()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try await checkSeeds(paths: [dir.path]).files == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("tokens.json").path))
    }
}
