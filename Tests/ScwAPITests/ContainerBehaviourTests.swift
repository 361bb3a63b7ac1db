import Foundation
import HTTPTypes
import HummingbirdTesting
import ScwKeys
import Testing

/// Container behaviour beyond the golden files: both versions, tokens, cascades, lists, serialised updates.
@Suite struct ContainerBehaviourTests {
    static let c1b = "/containers/v1beta1/regions/fr-par"
    static let c1 = "/containers/v1/regions/fr-par"

    @Test func oneContainerTwoShapes() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"shapes"}"#).json["id"] as! String
            let id = try await client.call(.post, "\(Self.c1)/containers", json: """
                {"namespace_id":"\(ns)","name":"web","image":"nginx:latest","memory_limit_bytes":256000000,"https_connections_only":true,
                 "local_storage_limit_bytes":2000000000}
                """).json["id"] as! String
            let old = try await client.call(.get, "\(Self.c1b)/containers/\(id)").json
            #expect(old["memory_limit"] as? Int == 256 && old["cpu_limit"] as? Int == 140)
            #expect(old["http_option"] as? String == "redirected" && old["local_storage_limit"] as? Int == 2000)
            #expect(old["registry_image"] as? String == "nginx:latest")
            #expect(old["domain_name"] as? String == "shapes\(ns.prefix(8))-web.functions.fnc.fr-par.scw.cloud")
            // A v1beta1 PATCH is seen by v1.
            try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"memory_limit":512,"http_option":"enabled"}"#)
            let new = try await client.call(.get, "\(Self.c1)/containers/\(id)").json
            #expect(new["memory_limit_bytes"] as? Int == 512_000_000 && new["https_connections_only"] as? Bool == false)
            #expect(new["mvcpu_limit"] as? Int == 140)  // cpu is derived from memory only on creation
            #expect(try await client.call(.get, "/containers/v1/regions/nl-ams/containers/\(id)").status == .notFound)
        }
    }

    @Test func containerTokensAndCascades() async throws {
        try await withApp { client, clock in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"cascade"}"#).json["id"] as! String
            let c1 = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"c1"}"#).json["id"] as! String
            let c2 = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"c2"}"#).json["id"] as! String
            let token = try await client.call(.post, "\(Self.c1b)/tokens", json: #"{"container_id":"\#(c1)"}"#).json
            #expect(token["container_id"] as? String == c1 && token["namespace_id"] == nil)
            let key = try NamespacePublicKey(pem: token["public_key"] as! String)
            let verifier = TokenVerifier(publicKey: key)
            let claims = try verifier.verify(token["token"] as! String, for: TokenTarget(namespaceID: ns, applicationID: c1), nowNanoseconds: clock.now().nanoseconds)
            #expect(claims.applicationID == c1 && claims.namespaceID == "")
            #expect(throws: TokenFailure.wrongApplication) {
                try verifier.verify(token["token"] as! String, for: TokenTarget(namespaceID: ns, applicationID: c2), nowNanoseconds: clock.now().nanoseconds)
            }
            let listed = try await client.call(.get, "\(Self.c1b)/tokens?container_id=\(c1)").json
            #expect(listed["total_count"] as? Int == 1)
            // Deleting the container deletes its tokens; deleting the namespace deletes its containers.
            try await client.call(.delete, "\(Self.c1b)/containers/\(c1)")
            #expect(try await client.call(.get, "\(Self.c1b)/tokens/\(token["id"] as! String)").status == .notFound)
            try await client.call(.delete, "\(Self.c1b)/namespaces/\(ns)")
            let gone = try await client.call(.get, "\(Self.c1b)/containers/\(c2)")
            #expect(gone.status == .notFound && gone.text == #"{"message":"Container was not found"}"#)
            #expect(try await client.call(.delete, "\(Self.c1)/containers/\(c2)").json["resource"] as? String == "container")
        }
    }

    @Test func listsPageOrderAndFilter() async throws {
        try await withApp { client, clock in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"lists"}"#).json["id"] as! String
            let other = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"lists-other"}"#).json["id"] as! String
            for name in ["charlie", "alpha", "bravo"] {
                try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"\#(name)"}"#)
                clock.advance(seconds: 1)
            }
            try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(other)","name":"alpha"}"#)
            func names(_ query: String, api: String = Self.c1b) async throws -> ([String], Int) {
                let body = try await client.call(.get, "\(api)/containers?\(query)").json
                return ((body["containers"] as! [[String: Any]]).map { $0["name"] as! String }, body["total_count"] as! Int)
            }
            #expect(try await names("namespace_id=\(ns)") == (["charlie", "alpha", "bravo"], 3))
            #expect(try await names("namespace_id=\(ns)&order_by=name_asc&page_size=2") == (["alpha", "bravo"], 3))
            #expect(try await names("namespace_id=\(ns)&order_by=name_asc&page_size=2&page=2") == (["charlie"], 3))
            #expect(try await names("namespace_id=\(ns)&page=5") == ([], 3))
            #expect(try await names("namespace_id=\(ns)&order_by=created_at_desc").0.first == "bravo")
            #expect(try await names("name=alpha", api: Self.c1) == (["alpha", "alpha"], 2))
            #expect(try await names("").1 == 4)
            #expect(try await client.call(.get, "\(Self.c1b)/containers?order_by=bogus").status == .badRequest)
            #expect(try await client.call(.get, "\(Self.c1b)/containers", key: TestIdentity.otherSecret).json["total_count"] as? Int == 0)
        }
    }

    @Test func concurrentUpdatesAreSerialised() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"serial"}"#).json["id"] as! String
            let id = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"c"}"#).json["id"] as! String
            // Each PATCH merges one more secret: a lost update would drop a key.
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        try await client.call(.patch, "\(Self.c1b)/containers/\(id)",
                                              json: #"{"secret_environment_variables":[{"key":"K\#(i)","value":"v\#(i)"}]}"#).status
                    }
                }
                for try await status in group { #expect(status == .ok) }
            }
            let secrets = try await client.call(.get, "\(Self.c1b)/containers/\(id)").json["secret_environment_variables"] as! [[String: String]]
            #expect(Set(secrets.map { $0["key"]! }) == Set((0..<10).map { "K\($0)" }))
        }
    }

    @Test func refusedWritesChangeNothing() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"refuse"}"#).json["id"] as! String
            let id = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"c","min_scale":1}"#).json["id"] as! String
            for body in [#"{"min_scale":9}"#, #"{"port":8012}"#, #"{"environment_variables":{"SCW_X":"1"}}"#, #"{"timeout":"5m"}"#,
                         #"{"scaling_option":{"cpu_usage_threshold":50,"memory_usage_threshold":50}}"#, #"{"sandbox":"v3"}"#] {
                let status = try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: body).status
                #expect(status == .badRequest, "\(body)")
            }
            let c = try await client.call(.get, "\(Self.c1b)/containers/\(id)").json
            #expect(c["min_scale"] as? Int == 1 && c["port"] as? Int == 8080 && c["timeout"] as? String == "300s")
            #expect(try await client.call(.patch, "\(Self.c1b)/containers/\(id)", key: TestIdentity.otherSecret, json: "{}").status == .forbidden)
            // Containers count against the 100 variables with their namespace's.
            let manyNS = (0..<60).map { "\"N\($0)\":\"x\"" }.joined(separator: ",")
            let busy = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"busy","environment_variables":{\#(manyNS)}}"#).json["id"] as! String
            let manyC = (0..<41).map { "\"C\($0)\":\"x\"" }.joined(separator: ",")
            let tooMany = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(busy)","name":"c","environment_variables":{\#(manyC)}}"#)
            #expect(tooMany.status == .badRequest)
        }
    }
}
