import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Pins the exact wire JSON of every container operation in v1beta1 and v1, and their error bodies.
@Suite struct ContainerGoldenTests {
    static let c1b = "/containers/v1beta1/regions/fr-par"
    static let c1 = "/containers/v1/regions/fr-par"

    @Test func v1beta1Lifecycle() async throws {
        try await withApp { client, clock in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"tf-acctest-basic"}"#).json["id"] as! String
            clock.advance(seconds: 1)
            let created = try await client.call(.post, "\(Self.c1b)/containers", json: """
                {"namespace_id":"\(ns)","name":"my-container-02","environment_variables":{"foo":"var"},"min_scale":3,"memory_limit":256,
                 "timeout":"600.000000000s","privacy":"private","description":"environment variables test","registry_image":"nginx:latest",
                 "max_concurrency":80,"protocol":"h2c","port":80,"http_option":"unknown_http_option","sandbox":"unknown_sandbox",
                 "secret_environment_variables":[{"key":"S","value":"v"}],"tags":null,"command":null,"args":null,"scaling_option":{"concurrent_requests_threshold":80}}
                """)
            try expectGolden("c1b-container-create", created)
            let id = created.json["id"] as! String
            clock.advance(seconds: 12)
            try expectGolden("c1b-container-get", try await client.call(.get, "\(Self.c1b)/containers/\(id)"))
            try expectGolden("c1b-container-list", try await client.call(.get, "\(Self.c1b)/containers?namespace_id=\(ns)&order_by=created_at_asc"))
            clock.advance(seconds: 1)
            try expectGolden("c1b-container-update", try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: """
                {"min_scale":1,"privacy":"unknown_privacy","protocol":"unknown_protocol","health_check":{"failure_threshold":3,"interval":"20.000000000s","http":{"path":"/health"}},"redeploy":true}
                """))
            clock.advance(seconds: 1)
            try expectGolden("c1b-container-deploy", try await client.call(.post, "\(Self.c1b)/containers/\(id)/deploy", json: "{}"))
            try expectGolden("c1b-container-deploy-again", try await client.call(.post, "\(Self.c1b)/containers/\(id)/deploy", json: "{}"))
            clock.advance(seconds: 1)
            try expectGolden("c1b-container-delete", try await client.call(.delete, "\(Self.c1b)/containers/\(id)"))
            // No transition delay here: the deletion is 404 at once.
            try expectGolden("c1b-container-not-found", try await client.call(.get, "\(Self.c1b)/containers/\(id)"))
            // Without an image: created, with the default registry image.
            try expectGolden("c1b-container-create-no-image", try await client.call(.post, "\(Self.c1b)/containers",
                                                                                   json: #"{"namespace_id":"\#(ns)","name":"plain"}"#))
        }
    }

    @Test func v1Lifecycle() async throws {
        try await withApp(transitionDelay: 10) { client, clock in
            let ns = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"tf-acctest-basic"}"#).json["id"] as! String
            clock.advance(seconds: 10)
            let created = try await client.call(.post, "\(Self.c1)/containers", json: """
                {"namespace_id":"\(ns)","name":"tf-co-dreamy-joliot","image":"nginx:1.29.4-alpine","port":80,"description":"This container has a description",
                 "tags":["terraform-test","scaleway_container","basic"],"memory_limit_bytes":"128000000",
                 "liveness_probe":{"failure_threshold":3,"interval":"10.000000000s","timeout":"30.000000000s","http":{"path":"/test"}},
                 "secret_environment_variables":{"SECRET":"value1"}}
                """)
            try expectGolden("c1-container-create", created)
            let id = created.json["id"] as! String
            try expectGolden("c1-container-transient", try await client.call(.post, "\(Self.c1)/containers/\(id)/redeploy", json: "{}"))
            clock.advance(seconds: 17.5)
            try expectGolden("c1-container-get", try await client.call(.get, "\(Self.c1)/containers/\(id)"))
            try expectGolden("c1-container-list", try await client.call(.get, "\(Self.c1)/containers?namespace_id=\(ns)"))
            try expectGolden("c1-container-update", try await client.call(.patch, "\(Self.c1)/containers/\(id)", json: """
                {"https_connection_only":true,"secret_environment_variables":{"SECRET":"","OTHER":"x"},"sandbox":"unknown_sandbox"}
                """))
            clock.advance(seconds: 10)
            try expectGolden("c1-container-redeploy", try await client.call(.post, "\(Self.c1)/containers/\(id)/redeploy", json: "{}"))
            try expectGolden("c1-container-delete", try await client.call(.delete, "\(Self.c1)/containers/\(id)"))
            // As on Scaleway, a deletion reads as `deleting` for the transition delay, then 404.
            #expect(try await client.call(.get, "\(Self.c1)/containers/\(id)").json["status"] as? String == "deleting")
            clock.advance(seconds: 60)
            try expectGolden("c1-container-not-found", try await client.call(.get, "\(Self.c1)/containers/\(id)"))
        }
    }

    @Test func errorBodies() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"errors"}"#).json["id"] as! String
            let fns = try await client.call(.post, "/functions/v1beta1/regions/fr-par/namespaces", json: #"{"name":"fns"}"#).json["id"] as! String
            try expectGolden("c1b-container-error-ranges", try await client.call(.post, "\(Self.c1b)/containers", json: """
                {"namespace_id":"\(ns)","name":"x","min_scale":6,"max_scale":51,"memory_limit":127,"cpu_limit":69,"port":9090,
                 "registry_image":"UPPER/case","environment_variables":{"PORT":"1"}}
                """))
            try expectGolden("c1b-container-error-timeout", try await client.call(.post, "\(Self.c1b)/containers",
                                                                                 json: #"{"namespace_id":"\#(ns)","name":"x","timeout":"-1s"}"#))
            try expectGolden("c1-container-error-ranges", try await client.call(.post, "\(Self.c1)/containers", json: """
                {"namespace_id":"\(ns)","name":"x","image":"a b","min_scale":6,"max_scale":5,"memory_limit_bytes":127000000,"mvcpu_limit":6001,"port":65536}
                """))
            try expectGolden("c1-container-error-required", try await client.call(.post, "\(Self.c1)/containers", json: "{}"))
            try expectGolden("c1b-container-error-enum", try await client.call(.post, "\(Self.c1b)/containers",
                                                                              json: #"{"namespace_id":"\#(ns)","name":"e","privacy":"secret"}"#))
            try expectGolden("c1b-container-error-function-namespace", try await client.call(.post, "\(Self.c1b)/containers",
                                                                                            json: #"{"namespace_id":"\#(fns)","name":"f"}"#))
            try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"dup"}"#)
            try expectGolden("c1b-container-error-duplicate", try await client.call(.post, "\(Self.c1b)/containers",
                                                                                   json: #"{"namespace_id":"\#(ns)","name":"dup"}"#))
            try expectGolden("c1-container-error-duplicate", try await client.call(.post, "\(Self.c1)/containers",
                                                                                  json: #"{"namespace_id":"\#(ns)","name":"dup","image":"nginx:latest"}"#))
            try expectGolden("c1-container-error-function-namespace", try await client.call(.post, "\(Self.c1)/containers",
                                                                                           json: #"{"namespace_id":"\#(fns)","name":"f","image":"nginx:latest"}"#))
            let dup = try await client.call(.get, "\(Self.c1b)/containers?namespace_id=\(ns)").json["containers"] as! [[String: Any]]
            try expectGolden("c1b-container-error-permissions", try await client.call(.get, "\(Self.c1b)/containers/\(dup[0]["id"] as! String)",
                                                                                     key: TestIdentity.otherSecret))
            try expectGolden("c1-container-error-permissions", try await client.call(.patch, "\(Self.c1)/containers/\(dup[0]["id"] as! String)",
                                                                                    key: TestIdentity.otherSecret, json: "{}"))
            let many = (0...100).map { #"{"key":"S\#($0)","value":"v"}"# }.joined(separator: ",")
            try expectGolden("c1b-container-error-secret-count", try await client.call(.post, "\(Self.c1b)/containers", json: """
                {"namespace_id":"\(ns)","name":"secrets","secret_environment_variables":[\(many)]}
                """))
            let big = String(repeating: "x", count: 65537)
            try expectGolden("c1-container-error-secret-size", try await client.call(.patch, "\(Self.c1)/containers/\(dup[0]["id"] as! String)",
                                                                                    json: #"{"secret_environment_variables":{"BIG":"\#(big)"}}"#))
        }
    }

    @Test func errorBodiesWhileDeploying() async throws {
        try await withApp(transitionDelay: 10) { client, clock in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"transient"}"#).json["id"] as! String
            clock.advance(seconds: 10)
            let id = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"c"}"#).json["id"] as! String
            try await client.call(.post, "\(Self.c1b)/containers/\(id)/deploy", json: "{}")
            try expectGolden("c1b-container-error-transient", try await client.call(.post, "\(Self.c1b)/containers/\(id)/deploy", json: "{}"))
        }
    }
}
