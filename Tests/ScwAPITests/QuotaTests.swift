import Foundation
import HTTPTypes
import HummingbirdTesting
import ScwAPI
import ScwDomain
import ScwEngine
import Testing

/// Bounds (reliability catalog C13/A28): Scaleway's quota error, the quota rules, the cheap secret-hash cost.
@Suite struct QuotaTests {
    static let c1 = "/containers/v1/regions/fr-par"

    /// Scaleway's quota error, as recorded: 403 `{"details":[{"resource","quota","current"}],"message":…,"type":"quotas_exceeded"}`, the same
    /// typed body in every API (v1beta1's untyped wording is for 404s and conflicts only).
    @Test(arguments: [ErrorDialect.containersV1Beta1, .functionsV1Beta1, .containersV1, .mock])
    func quotaErrorIsScalewaysBodyInEveryDialect(_ dialect: ErrorDialect) throws {
        let (status, body) = ErrorRenderer.render(.quotasExceeded(resource: "serverless_containers_namespaces", quota: 10, current: 10),
                                                  dialect: dialect, method: .post)
        #expect(status == .forbidden)
        let json = String(decoding: try WireJSON.encoder.encode(body), as: UTF8.self)
        #expect(json == #"{"details":[{"current":10,"quota":10,"resource":"serverless_containers_namespaces"}],"#
                + #""message":"quota(s) exceeded for this resource","type":"quotas_exceeded"}"#)
    }

    @Test func multiplierScalesTheDocumentedLimitsAndZeroTurnsThemOff() {
        #expect(Quotas().limit(Quotas.namespacesPerProject) == 100)
        #expect(Quotas(multiplier: 3).limit(Quotas.applicationsPerOrganization) == 3_000)
        #expect(Quotas(multiplier: 0).limit(Quotas.domainsPerApplication) == nil)
        #expect(Quotas(multiplier: -2).limit(Quotas.domainsPerApplication) == nil)
        #expect(EngineSettings().quotas == Quotas(multiplier: 1))
    }

    @Test func fastSecretHashCostStillVerifies() {
        for profile in [SecretHashProfile.containersV1, .legacy] {
            let fast = SecretHasher.hash("s3cret", profile: profile, cost: .fast)
            #expect(fast.hasPrefix("$argon2id$v=19$m=1024,t=1,p=1$"))
            #expect(SecretHasher.verify("s3cret", against: fast))
            #expect(!SecretHasher.verify("s3cre", against: fast))
        }
        #expect(SecretHasher.hash("x", profile: .legacy, cost: .scaleway).hasPrefix("$argon2id$v=19$m=65536,t=1,p=2$"))
    }

    /// The 101st container namespace of a project is refused, through the API and through a posted fixture; a fixture
    /// that goes past the quota writes nothing.
    @Test func namespaceQuotaThroughTheAPIAndPostedFixtures() async throws {
        try await withApp { client, _ in
            let hundred = "namespaces:\n" + (0..<100).map { "  - {name: q-\($0)}\n" }.joined()
            #expect(try await client.call(.post, "/_mock/seed", key: nil, json: hundred).status == .ok)
            let over = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"over"}"#)
            #expect(over.status == .forbidden)
            #expect(over.json["type"] as? String == "quotas_exceeded")
            let detail = (over.json["details"] as? [[String: Any]])?.first
            #expect(detail?["resource"] as? String == "serverless_containers_namespaces")
            #expect(detail?["quota"] as? Int == 100)
            #expect(detail?["current"] as? Int == 100)
            let posted = try await client.call(.post, "/_mock/seed", key: nil, json: "namespaces:\n  - {name: by-seed}\n")
            #expect(posted.status == .badRequest)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces").json["total_count"] as? Int == 100)
            // Function namespaces are counted apart.
            #expect(try await client.call(.post, "/functions/v1beta1/regions/fr-par/namespaces", json: #"{"name":"fns"}"#).status == .ok)
        }
    }
}
