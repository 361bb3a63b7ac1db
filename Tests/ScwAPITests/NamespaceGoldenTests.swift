import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Pins the exact wire JSON of every namespace operation in each API version, and of each error body.
@Suite struct NamespaceGoldenTests {
    static let c1b = "/containers/v1beta1/regions/fr-par"
    static let c1 = "/containers/v1/regions/fr-par"
    static let f1b = "/functions/v1beta1/regions/fr-par"

    @Test func containersV1Beta1Lifecycle() async throws {
        try await withApp { client, clock in
            let created = try await client.call(.post, "\(Self.c1b)/namespaces", json: """
                {"name":"tf-acctest-basic","description":null,"environment_variables":{"FOO":"bar"},
                 "secret_environment_variables":[{"key":"SECRET","value":"test_secret"}],"tags":null,"activate_vpc_integration":true}
                """)
            try expectGolden("c1b-namespace-create", created)
            let id = created.json["id"] as! String
            clock.advance(seconds: 0.5)
            try expectGolden("c1b-namespace-get", try await client.call(.get, "\(Self.c1b)/namespaces/\(id)"))
            try expectGolden("c1b-namespace-list", try await client.call(.get, "\(Self.c1b)/namespaces?order_by=created_at_asc&page=1"))
            clock.advance(seconds: 1)
            try expectGolden("c1b-namespace-update", try await client.call(.patch, "\(Self.c1b)/namespaces/\(id)", json: """
                {"environment_variables":{"FOO":"baz"},"secret_environment_variables":[{"key":"NEW","value":"x"}],"description":"d","tags":["a"]}
                """))
            clock.advance(seconds: 1)
            try expectGolden("c1b-namespace-delete", try await client.call(.delete, "\(Self.c1b)/namespaces/\(id)", json: "{}"))
            try expectGolden("c1b-namespace-not-found", try await client.call(.get, "\(Self.c1b)/namespaces/\(id)"))
        }
    }

    @Test func containersV1Lifecycle() async throws {
        try await withApp { client, clock in
            let created = try await client.call(.post, "\(Self.c1)/namespaces", json: """
                {"name":"tf-acctest-basic","environment_variables":{"FOO":"bar"},"secret_environment_variables":{"SECRET_1":"first_secret"},"tags":["x"]}
                """)
            try expectGolden("c1-namespace-create", created)
            let id = created.json["id"] as! String
            clock.advance(seconds: 0.5)
            try expectGolden("c1-namespace-get", try await client.call(.get, "\(Self.c1)/namespaces/\(id)"))
            try expectGolden("c1-namespace-list", try await client.call(.get, "\(Self.c1)/namespaces?name=does-not-matter"))
            try expectGolden("c1-namespace-update", try await client.call(.patch, "\(Self.c1)/namespaces/\(id)", json: """
                {"secret_environment_variables":{"SECRET_1":"","SECRET_2":"updated_value2"}}
                """))
            try expectGolden("c1-namespace-delete", try await client.call(.delete, "\(Self.c1)/namespaces/\(id)"))
            try expectGolden("c1-namespace-not-found", try await client.call(.delete, "\(Self.c1)/namespaces/\(id)"))
        }
    }

    @Test func functionsV1Beta1Lifecycle() async throws {
        try await withApp { client, clock in
            let created = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"tf-ds-function"}"#)
            try expectGolden("f1b-namespace-create", created)
            let id = created.json["id"] as! String
            clock.advance(seconds: 0.25)
            try expectGolden("f1b-namespace-get", try await client.call(.get, "\(Self.f1b)/namespaces/\(id)"))
            try expectGolden("f1b-namespace-list", try await client.call(.get, "\(Self.f1b)/namespaces"))
            try expectGolden("f1b-namespace-update", try await client.call(.patch, "\(Self.f1b)/namespaces/\(id)", json: #"{"tags":["t"]}"#))
            try expectGolden("f1b-namespace-delete", try await client.call(.delete, "\(Self.f1b)/namespaces/\(id)"))
            try expectGolden("f1b-namespace-not-found", try await client.call(.get, "\(Self.f1b)/namespaces/\(id)"))
        }
    }

    @Test func errorBodies() async throws {
        try await withApp { client, _ in
            try expectGolden("error-auth-missing", try await client.call(.get, "\(Self.c1b)/namespaces", key: nil))
            try expectGolden("error-auth-malformed", try await client.call(.get, "\(Self.c1b)/namespaces", key: "abc"))
            try expectGolden("error-auth-unknown", try await client.call(.get, "\(Self.c1b)/namespaces", key: "99999999-9999-4999-8999-999999999999"))
            try expectGolden("error-auth-expired", try await client.call(.get, "\(Self.c1b)/namespaces", key: TestIdentity.expiredSecret))
            try expectGolden("error-region", try await client.call(.get, "/containers/v1/regions/xx-yyy/namespaces"))
            try expectGolden("error-name", try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"-bad"}"#))
            try expectGolden("error-type", try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"ok","environment_variables":[]}"#))
            try expectGolden("error-json", try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"#))
            try expectGolden("error-v1-name-required", try await client.call(.post, "\(Self.c1)/namespaces", json: "{}"))
            try expectGolden("error-reserved-variable", try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"x","environment_variables":{"SCW_PUBLIC":"1"}}"#))
            try expectGolden("error-page-size", try await client.call(.get, "\(Self.c1b)/namespaces?page_size=101"))
            try expectGolden("error-bad-id", try await client.call(.get, "\(Self.c1b)/namespaces/123"))
            try expectGolden("error-route", try await client.call(.get, "/containers/v1/regions/fr-par/nothing"))
            try expectGolden("error-method", try await client.call(.put, "\(Self.c1)/namespaces"))
            try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"taken"}"#)
            try expectGolden("error-duplicate", try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"taken"}"#))
            let mine = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"mine"}"#).json["id"] as! String
            try expectGolden("error-permissions", try await client.call(.get, "\(Self.c1)/namespaces/\(mine)", key: TestIdentity.otherSecret))
            let big = "{\"name\":\"big\",\"description\":\"" + String(repeating: "x", count: 11 * 1024 * 1024) + "\"}"
            try expectGolden("error-too-large", try await client.call(.post, "\(Self.c1)/namespaces", json: big))
        }
    }
}
