import Foundation
import HTTPTypes
import HummingbirdTesting
import ScwDomain
import Testing

/// Behaviour the golden files do not show: scoping, isolation, secret semantics, transitions.
@Suite struct NamespaceBehaviourTests {
    static let c1b = "/containers/v1beta1/regions/fr-par"
    static let c1 = "/containers/v1/regions/fr-par"
    static let f1b = "/functions/v1beta1/regions/fr-par"

    @Test func oneContainerNamespaceIsSeenThroughBothVersionsButNotThroughFunctions() async throws {
        try await withApp { client, _ in
            let id = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"shared"}"#).json["id"] as! String
            #expect(try await client.call(.get, "\(Self.c1b)/namespaces/\(id)").json["registry_endpoint"] as? String
                    == "rg.fr-par.scw.cloud/funcscwshared\(id.prefix(8))")
            #expect(try await client.call(.get, "\(Self.f1b)/namespaces/\(id)").status == .notFound)
            #expect(try await client.call(.get, "/containers/v1/regions/nl-ams/namespaces/\(id)").status == .notFound)
            #expect(try await client.call(.get, "/containers/v1/regions/nl-ams/namespaces").json["total_count"] as? Int == 0)
            #expect(try await client.call(.get, "\(Self.f1b)/namespaces").json["total_count"] as? Int == 0)
        }
    }

    @Test func scopedKeySeesOnlyItsProject() async throws {
        try await withApp { client, _ in
            let mine = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"mine"}"#).json["id"] as! String
            let other = TestIdentity.otherSecret
            let theirs = try await client.call(.post, "\(Self.c1b)/namespaces", key: other, json: #"{"name":"mine"}"#)
            #expect(theirs.status == .ok)  // same name, other project: allowed
            #expect(theirs.json["project_id"] as? String == TestIdentity.otherProject)
            let list = try await client.call(.get, "\(Self.c1b)/namespaces", key: other).json
            #expect((list["namespaces"] as? [[String: Any]])?.map { $0["project_id"] as? String } == [TestIdentity.otherProject])
            #expect(list["total_count"] as? Int == 1)
            #expect(try await client.call(.patch, "\(Self.c1b)/namespaces/\(mine)", key: other, json: #"{"description":"x"}"#).status == .forbidden)
            #expect(try await client.call(.delete, "\(Self.c1b)/namespaces/\(mine)", key: other).status == .forbidden)
            #expect(try await client.call(.get, "\(Self.c1b)/namespaces?project_id=00000000-0000-4000-8000-000000000001", key: other).status == .forbidden)
            #expect(try await client.call(.post, "\(Self.c1b)/namespaces", key: other,
                                          json: #"{"name":"x","project_id":"00000000-0000-4000-8000-000000000001"}"#).status == .forbidden)
            // Nothing was changed by the refused calls.
            #expect(try await client.call(.get, "\(Self.c1b)/namespaces/\(mine)").json["description"] as? String == "")
        }
    }

    @Test func v1ReplacesSecretsAndKeepsEmptyValuedOnes() async throws {
        try await withApp { client, _ in
            let created = try await client.call(.post, "\(Self.c1)/namespaces",
                                                json: #"{"name":"s","secret_environment_variables":{"SECRET_1":"first_secret","GONE":"x"}}"#).json
            let id = created["id"] as! String
            let first = (created["secret_environment_variables"] as! [String: String])["SECRET_1"]!
            let updated = try await client.call(.patch, "\(Self.c1)/namespaces/\(id)",
                                                json: #"{"secret_environment_variables":{"SECRET_1":"","SECRET_2":"updated_value2"}}"#).json
            let secrets = updated["secret_environment_variables"] as! [String: String]
            #expect(secrets.keys.sorted() == ["SECRET_1", "SECRET_2"])
            #expect(secrets["SECRET_1"] == first)
            #expect(SecretHasher.verify("updated_value2", against: secrets["SECRET_2"]!))
            let cleared = try await client.call(.patch, "\(Self.c1)/namespaces/\(id)", json: #"{"secret_environment_variables":{}}"#).json
            #expect((cleared["secret_environment_variables"] as! [String: String]).isEmpty)
        }
    }

    @Test func v1beta1MergesSecretsAndNullDeletes() async throws {
        try await withApp { client, _ in
            let created = try await client.call(.post, "\(Self.c1b)/namespaces", json: """
                {"name":"m","secret_environment_variables":[{"key":"KEEP","value":"k"},{"key":"DROP","value":"d"},{"key":"CHANGE","value":"c1"}]}
                """).json
            let id = created["id"] as! String
            let keep = (created["secret_environment_variables"] as! [[String: String]])[0]["hashed_value"]!
            let updated = try await client.call(.patch, "\(Self.c1b)/namespaces/\(id)", json: """
                {"secret_environment_variables":[{"key":"DROP","value":null},{"key":"CHANGE","value":"c2"},{"key":"ADD","value":"a"}]}
                """).json
            let secrets = updated["secret_environment_variables"] as! [[String: String]]
            #expect(secrets.map { $0["key"]! } == ["KEEP", "CHANGE", "ADD"])
            #expect(secrets[0]["hashed_value"] == keep)
            #expect(SecretHasher.verify("c2", against: secrets[1]["hashed_value"]!))
            // Absent field: untouched; env map replaced whole.
            let again = try await client.call(.patch, "\(Self.c1b)/namespaces/\(id)", json: #"{"environment_variables":{"A":"1"}}"#).json
            #expect((again["secret_environment_variables"] as! [[String: String]]).count == 3)
            #expect(again["environment_variables"] as? [String: String] == ["A": "1"])
        }
    }

    @Test func transientStatusLastsTheTransitionDelay() async throws {
        try await withApp(transitionDelay: 5) { client, clock in
            let id = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"slow"}"#).json["id"] as! String
            clock.advance(seconds: 4.9)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces/\(id)").json["status"] as? String == "creating")
            #expect(try await client.call(.get, "\(Self.c1b)/namespaces/\(id)").json["status"] as? String == "pending")
            #expect(try await client.call(.get, "\(Self.c1b)/namespaces/\(id)").json["registry_endpoint"] as? String == "")
            clock.advance(seconds: 0.1)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces/\(id)").json["status"] as? String == "ready")
            // Description-only PATCH keeps v1 ready; an env change goes through updating.
            let described = try await client.call(.patch, "\(Self.c1)/namespaces/\(id)", json: #"{"description":"d"}"#)
            #expect(described.json["status"] as? String == "ready")
            let changed = try await client.call(.patch, "\(Self.c1)/namespaces/\(id)", json: #"{"environment_variables":{"A":"1"}}"#)
            #expect(changed.json["status"] as? String == "updating")
            clock.advance(seconds: 5)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces/\(id)").json["status"] as? String == "ready")
        }
    }

    @Test func generatedNamesFollowTheSDKPattern() async throws {
        try await withApp { client, _ in
            let c = try await client.call(.post, "\(Self.c1b)/namespaces", json: "{}").json["name"] as! String
            let f = try await client.call(.post, "\(Self.f1b)/namespaces", json: "{}").json["name"] as! String
            #expect(c.wholeMatch(of: /cns-[a-z]+-[a-z]+/) != nil)
            #expect(f.wholeMatch(of: /ns-[a-z]+-[a-z]+/) != nil)
        }
    }

    @Test func refusedCreatesStoreNothing() async throws {
        try await withApp { client, _ in
            for body in [#"{"name":"ok","environment_variables":{"PORT":"1"}}"#, #"{"name":"ok","tags":"x"}"#,
                         #"{"name":"ok","secret_environment_variables":[{"key":"A"}]}"#, #"{"name":"ok","project_id":"nope"}"#, "[]", ""] {
                let status = try await client.call(.post, "\(Self.c1b)/namespaces", json: body).status
                #expect(status == .badRequest, "\(body)")
            }
            let list = try await client.call(.get, "\(Self.c1b)/namespaces")
            #expect(list.json["total_count"] as? Int == 0)
        }
    }

    @Test func everyResponseCarriesTheGatewayHeaders() async throws {
        try await withApp { client, _ in
            for response in [try await client.call(.get, "\(Self.c1b)/namespaces"), try await client.call(.get, "/nope", key: nil),
                             try await client.call(.get, "/_mock/health", key: nil)] {
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[HTTPField.Name("X-Request-Id")!]?.count == 36)
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[.contentSecurityPolicy] == "default-src 'none'; frame-ancestors 'none'")
            }
        }
    }

    @Test func duplicateAuthHeadersAreRefused() async throws {
        try await withApp { client, _ in
            var headers: HTTPFields = [:]
            headers.append(HTTPField(name: HTTPField.Name("X-Auth-Token")!, value: TestIdentity.wellKnownSecret))
            headers.append(HTTPField(name: HTTPField.Name("X-Auth-Token")!, value: TestIdentity.wellKnownSecret))
            let response = try await client.execute(uri: "\(Self.c1b)/namespaces", method: .get, headers: headers, body: nil)
            #expect(response.status == .unauthorized)
            #expect(response.json["reason"] as? String == "invalid_argument")
        }
    }
}
