import Foundation
import ScwDomain
import Testing

@testable import ScwStore

@Suite struct AppDatabaseTests {
    static func namespace(_ name: String, kind: NamespaceKind = .container, project: ProjectID = WellKnownIdentity.projectID,
                          region: Region = .frPar, createdAt: Int64 = 1) -> Namespace {
        Namespace(id: NamespaceID(uuid: UUID()), kind: kind, name: name, projectID: project,
                  organizationID: WellKnownIdentity.organizationID, region: region, description: "", phase: .creating,
                  settlesAt: Timestamp(nanoseconds: createdAt), environmentVariables: ["A": "1"],
                  secrets: [HashedSecret(key: "S", hashedValue: "$argon2id$x")], tags: ["t"],
                  registryNamespaceID: RegistryNamespaceID(uuid: UUID()), endpointSuffix: "abcdefgh",
                  vpcIntegrationActivated: false, errorMessage: nil, createdAt: Timestamp(nanoseconds: createdAt),
                  updatedAt: Timestamp(nanoseconds: createdAt), keyReady: false)
    }

    func query(_ kind: NamespaceKind = .container, region: Region = .frPar, name: String? = nil, projects: Set<ProjectID>? = nil,
               page: PageRequest = PageRequest()) -> NamespaceQuery {
        NamespaceQuery(kind: kind, region: region, nameContains: name, projectIDs: projects, organizationID: nil, page: page)
    }

    @Test func roundTripsEveryField() throws {
        let db = try AppDatabase.open(path: ":memory:")
        let ns = Self.namespace("round-trip")
        try db.createNamespace(ns)
        #expect(try db.namespace(id: ns.id) == ns)
    }

    @Test func duplicateNamesAreRefusedPerKindRegionAndProject() throws {
        let db = try AppDatabase.open(path: ":memory:")
        try db.createNamespace(Self.namespace("dup"))
        #expect(throws: ScwError.alreadyExists(.namespace, name: "dup")) { try db.createNamespace(Self.namespace("dup")) }
        try db.createNamespace(Self.namespace("dup", kind: .function))
        try db.createNamespace(Self.namespace("dup", region: .nlAms))
        #expect(try db.namespaces(matching: query()).totalCount == 1)
    }

    @Test func listsPageOrderAndFilter() throws {
        let db = try AppDatabase.open(path: ":memory:")
        for (i, name) in ["charlie", "alpha", "bravo", "alpha-two"].enumerated() {
            try db.createNamespace(Self.namespace(name, createdAt: Int64(i + 1)))
        }
        try db.createNamespace(Self.namespace("other-kind", kind: .function))
        let all = try db.namespaces(matching: query())
        #expect(all.totalCount == 4)
        #expect(all.items.map(\.name) == ["charlie", "alpha", "bravo", "alpha-two"])
        #expect(try db.namespaces(matching: query(page: PageRequest(page: 1, pageSize: 10, order: .nameAsc))).items.map(\.name)
                == ["alpha", "alpha-two", "bravo", "charlie"])
        #expect(try db.namespaces(matching: query(page: PageRequest(page: 1, pageSize: 10, order: .createdAtDesc))).items.first?.name == "alpha-two")
        let page2 = try db.namespaces(matching: query(page: PageRequest(page: 2, pageSize: 3, order: .nameDesc)))
        #expect(page2.items.map(\.name) == ["alpha"])
        #expect(page2.totalCount == 4)
        let past = try db.namespaces(matching: query(page: PageRequest(page: 9, pageSize: 3)))
        #expect(past.items.isEmpty && past.totalCount == 4)
        let filtered = try db.namespaces(matching: query(name: "ALPHA"))
        #expect(filtered.items.map(\.name) == ["alpha", "alpha-two"] && filtered.totalCount == 2)
        // LIKE wildcards in the filter are literal.
        #expect(try db.namespaces(matching: query(name: "%")).totalCount == 0)
        #expect(try db.namespaces(matching: query(projects: [ProjectID(uuid: UUID())])).totalCount == 0)
    }

    @Test func refusedUpdateWritesNothing() throws {
        let db = try AppDatabase.open(path: ":memory:")
        let ns = Self.namespace("refuse")
        try db.createNamespace(ns)
        #expect(throws: ScwError.self) {
            _ = try db.updateNamespace(id: ns.id) { n in
                n.description = "changed"
                throw ScwError.invalid("x", .format, "no")
            }
        }
        #expect(try db.namespace(id: ns.id)?.description == "")
    }

    @Test func deleteReturnsTheRowAndRemovesIt() throws {
        let db = try AppDatabase.open(path: ":memory:")
        let ns = Self.namespace("gone")
        try db.createNamespace(ns)
        #expect(try db.deleteNamespace(id: ns.id) { _ in } == ns)
        #expect(try db.namespace(id: ns.id) == nil)
        #expect(try db.deleteNamespace(id: ns.id) { _ in } == nil)
    }

    @Test func fileDatabaseSurvivesReopen() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scwmock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("nested/state.sqlite").path
        let ns = Self.namespace("durable")
        do {
            let db = try AppDatabase.open(path: path)
            try db.createNamespace(ns)
            try db.close()
        }
        let again = try AppDatabase.open(path: path)
        #expect(try again.namespace(id: ns.id) == ns)
    }

    @Test func identityIsUpsertedIdempotently() throws {
        let db = try AppDatabase.open(path: ":memory:")
        for _ in 0..<2 {
            try db.saveIdentity(organizations: [(WellKnownIdentity.organizationID, "default")],
                                projects: [WellKnownIdentity.project], apiKeys: [WellKnownIdentity.apiKey])
        }
        #expect(try db.allAPIKeys() == [WellKnownIdentity.apiKey])
        #expect(try db.allProjects() == [WellKnownIdentity.project])
    }

    /// Catalog C08/C09: the gateway accepts a token only if the store knows its id and it is not revoked. Stored
    /// tokens and recorded issue-jwt ids are known (under their namespace); deleted ones are revoked; a copy taken
    /// before a token was issued, once restored, does not know it; deleting the namespace forgets its issue-jwt ids.
    @Test func tokenStandingKnowsIssuedIdsOnly() throws {
        let db = try AppDatabase.open(path: ":memory:")
        let ns = Self.namespace("tokens")
        try db.createNamespace(ns)
        let seeded = try db.copy()
        let at = Timestamp(nanoseconds: 10)
        let token = Token(id: TokenID(uuid: UUID()), api: .containers, region: .frPar, namespaceID: ns.id, scope: .namespace(ns.id),
                          projectID: ns.projectID, organizationID: ns.organizationID, description: "", expiresAt: nil, createdAt: at,
                          settlesAt: at)
        let legacy = TokenID(uuid: UUID())
        #expect(try db.tokenStanding(jti: token.id.rawValue) == .unknown)
        try db.createToken(token)
        try db.recordLegacyToken(jti: legacy, api: .containers, namespaceID: ns.id, applicationID: nil, expiresAt: nil, createdAt: at)
        #expect(try db.tokenStanding(jti: token.id.rawValue) == .known(namespaceID: ns.id))
        #expect(try db.tokenStanding(jti: legacy.rawValue) == .known(namespaceID: ns.id))
        #expect(try db.tokens(matching: TokenQuery(api: .containers, region: .frPar, namespaceID: nil, applicationID: nil, projectIDs: nil,
                                                   organizationID: ns.organizationID, page: PageRequest())).items == [token])
        // Expired issue-jwt ids are pruned by the next record.
        let shortLived = TokenID(uuid: UUID())
        try db.recordLegacyToken(jti: shortLived, api: .functions, namespaceID: ns.id, applicationID: "x", expiresAt: Timestamp(nanoseconds: 20),
                                 createdAt: at)
        try db.recordLegacyToken(jti: TokenID(uuid: UUID()), api: .containers, namespaceID: ns.id, applicationID: nil, expiresAt: nil,
                                 createdAt: Timestamp(nanoseconds: 30))
        #expect(try db.tokenStanding(jti: shortLived.rawValue) == .unknown)

        _ = try db.deleteToken(id: token.id, api: .containers, revokedAt: at) { _ in }
        #expect(try db.tokenStanding(jti: token.id.rawValue) == .revoked)
        try db.restore(seeded)
        #expect(try db.tokenStanding(jti: token.id.rawValue) == .unknown)
        #expect(try db.tokenStanding(jti: legacy.rawValue) == .unknown)

        try db.recordLegacyToken(jti: legacy, api: .containers, namespaceID: ns.id, applicationID: nil, expiresAt: nil, createdAt: at)
        _ = try db.deleteNamespace(id: ns.id) { _ in }
        #expect(try db.tokenStanding(jti: legacy.rawValue) == .unknown)
        #expect(throws: ScwError.notFound(.namespace, id: ns.id.rawValue)) {
            try db.recordLegacyToken(jti: legacy, api: .containers, namespaceID: ns.id, applicationID: nil, expiresAt: nil, createdAt: at)
        }
    }

    /// Token writes leave the row caches valid (a burst of tokens keeps reading its namespace from memory), while the
    /// gateway's caches, keyed on `generation`, still see every token write; any other write empties the row caches,
    /// and the next read sees it.
    @Test func tokenWritesKeepTheRowCachesButNotTheGatewayGeneration() throws {
        let db = try AppDatabase.open(path: ":memory:")
        let ns = try db.createNamespace(Self.namespace("cached"))
        #expect(try db.namespace(id: ns.id) == ns)
        let (rows, all) = (db.rowGeneration, db.generation)
        let at = Timestamp(nanoseconds: 10)
        let token = Token(id: TokenID(uuid: UUID()), api: .containers, region: .frPar, namespaceID: ns.id, scope: .namespace(ns.id),
                          projectID: ns.projectID, organizationID: ns.organizationID, description: "", expiresAt: nil, createdAt: at,
                          settlesAt: at)
        try db.createToken(token)
        try db.recordLegacyToken(jti: TokenID(uuid: UUID()), api: .containers, namespaceID: ns.id, applicationID: nil, expiresAt: nil, createdAt: at)
        _ = try db.deleteToken(id: token.id, api: .containers, revokedAt: at) { _ in }
        #expect(db.rowGeneration == rows)
        #expect(db.generation == all + 3)
        #expect(try db.namespace(id: ns.id) == ns)

        let changed = try #require(try db.updateNamespace(id: ns.id) { $0.description = "changed" })
        #expect(db.rowGeneration == rows + 1)
        #expect(try db.namespace(id: ns.id)?.description == "changed")
        #expect(try db.namespace(id: ns.id) == changed)
    }
}
