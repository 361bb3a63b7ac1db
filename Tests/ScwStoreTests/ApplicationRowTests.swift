import Foundation
import ScwDomain
import ScwStore
import Testing

/// Both kinds go through one generic row (`ApplicationRow`) and one set of queries: each test runs for a container and
/// a function, and a kind's own column (a function's `has_code`) survives the trip.
@Suite struct ApplicationRowTests {
    static func make<A: StoredApplication>(_: A.Type, name: String, in ns: Namespace, spec: A.Spec, at t: Int64 = 5) -> A {
        var app = A(id: Identifier(uuid: UUID()), namespaceID: ns.id, name: name, region: ns.region, projectID: ns.projectID,
                    organizationID: ns.organizationID, spec: spec, secrets: [HashedSecret(key: "K", hashedValue: "$argon2id$h")],
                    phase: .updating, settlesAt: Timestamp(nanoseconds: t + 10), errorMessage: "boom", readyAt: Timestamp(nanoseconds: t),
                    domainName: "p-\(name).functions.fnc.fr-par.scw.cloud", createdAt: Timestamp(nanoseconds: t), updatedAt: Timestamp(nanoseconds: t))
        app.secretValues = ["K": "plain"]
        return app
    }

    func roundTrip<A: StoredApplication>(_ app: A, _ db: AppDatabase) throws {
        try db.createApplication(app)
        #expect(try db.application(A.self, id: app.id) == app)
        #expect(try db.application(A.self, named: app.name) == app)
        #expect(try db.applicationRef(id: app.id.rawValue) == app.ref)
        #expect(try db.applications(A.self, matching: ApplicationQuery(
            region: .frPar, namespaceID: app.namespaceID, nameContains: nil, projectIDs: nil,
            organizationID: app.organizationID, page: PageRequest())).items == [app])
        #expect(throws: ScwError.alreadyExists(A.kind, name: app.name)) { try db.createApplication(app) }
        let updated = try db.updateApplication(A.self, id: app.id) { a, _ in a.phase = .ready; a.errorMessage = nil }
        #expect(updated?.phase == .ready)
        #expect(try db.application(A.self, id: app.id)?.phase == .ready)
        #expect(try db.deleteApplication(A.self, id: app.id) { _ in }?.id == app.id)
        #expect(try db.application(A.self, id: app.id) == nil)
    }

    @Test func aContainerRoundTrips() throws {
        let db = try AppDatabase.open(path: ":memory:")
        let ns = AppDatabaseTests.namespace("c")
        try db.createNamespace(ns)
        try roundTrip(Self.make(Container.self, name: "web", in: ns, spec: .defaults(name: "web", namespace: ns)), db)
    }

    @Test func aFunctionRoundTripsWithItsCodeFlag() throws {
        let db = try AppDatabase.open(path: ":memory:")
        let ns = AppDatabaseTests.namespace("f", kind: .function)
        try db.createNamespace(ns)
        var f = Self.make(Function.self, name: "fn", in: ns, spec: .defaults(runtime: "python311"))
        f.hasCode = true
        try roundTrip(f, db)
    }

    @Test func aNameIsUniqueAcrossKindsInANamespace() throws {
        let db = try AppDatabase.open(path: ":memory:")
        let ns = AppDatabaseTests.namespace("c")
        try db.createNamespace(ns)
        let c = Self.make(Container.self, name: "same", in: ns, spec: .defaults(name: "same", namespace: ns))
        try db.createApplication(c)
        #expect(try db.applicationID(named: "same", in: ns.id) == c.id.rawValue)
        #expect(try db.application(forHost: c.domainName) == c.ref)
    }
}
