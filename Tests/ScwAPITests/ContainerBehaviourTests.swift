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

    /// GETs and LISTs are served from the row cache between writes: every write is seen by the next read, in both.
    @Test func readsFromTheRowCacheSeeEveryWrite() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"cached"}"#).json["id"] as! String
            var ids: [String] = []
            for name in ["a", "b", "c"] {
                ids.append(try await client.call(.post, "\(Self.c1)/containers", json: #"{"namespace_id":"\#(ns)","name":"\#(name)","image":"nginx:latest"}"#).json["id"] as! String)
            }
            let list = "\(Self.c1)/containers?namespace_id=\(ns)&order_by=name_asc"
            func descriptions() async throws -> [String] {
                (try await client.call(.get, list).json["containers"] as! [[String: Any]]).map { $0["description"] as! String }
            }
            #expect(try await descriptions() == ["", "", ""])  // warms the cache
            _ = try await client.call(.get, "\(Self.c1)/containers/\(ids[1])")
            try await client.call(.patch, "\(Self.c1)/containers/\(ids[1])", json: #"{"description":"changed"}"#)
            #expect(try await descriptions() == ["", "changed", ""])
            #expect(try await client.call(.get, "\(Self.c1)/containers/\(ids[1])").json["description"] as? String == "changed")
            try await client.call(.delete, "\(Self.c1)/containers/\(ids[0])")
            let after = try await client.call(.get, list).json
            #expect(after["total_count"] as? Int == 2 && (after["containers"] as! [[String: Any]]).map { $0["name"] as! String } == ["b", "c"])
            #expect(try await client.call(.get, "\(Self.c1)/containers/\(ids[0])").status == .notFound)
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

    @Test func partialProbesKeepTheCurrentValues() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"probes"}"#).json["id"] as! String
            let probe = #"{"failure_threshold":3,"interval":"20s","timeout":"5s","http":{"path":"/health"}}"#
            let id = try await client.call(.post, "\(Self.c1)/containers", json: """
                {"namespace_id":"\(ns)","name":"p","image":"nginx:latest","liveness_probe":\(probe),"startup_probe":\(probe)}
                """).json["id"] as! String
            let patched = try await client.call(.patch, "\(Self.c1)/containers/\(id)",
                                                json: #"{"liveness_probe":{"failure_threshold":9},"startup_probe":{"timeout":"7s"}}"#).json
            let liveness = patched["liveness_probe"] as? [String: Any], startup = patched["startup_probe"] as? [String: Any]
            #expect(liveness?["failure_threshold"] as? Int == 9 && liveness?["interval"] as? String == "20s")
            #expect(liveness?["timeout"] as? String == "5s" && (liveness?["http"] as? [String: String])?["path"] == "/health")
            #expect(startup?["failure_threshold"] as? Int == 3 && startup?["interval"] as? String == "20s")
            #expect(startup?["timeout"] as? String == "7s" && (startup?["http"] as? [String: String])?["path"] == "/health")
            // v1beta1's health_check is the liveness probe: omitted fields (and v1's timeout) are kept too.
            let old = try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"health_check":{"interval":"30s"}}"#).json
            let check = old["health_check"] as? [String: Any]
            #expect(check?["failure_threshold"] as? Int == 9 && check?["interval"] as? String == "30s")
            #expect((check?["http"] as? [String: String])?["path"] == "/health")
            let seen = try await client.call(.get, "\(Self.c1)/containers/\(id)").json["liveness_probe"] as? [String: Any]
            #expect(seen?["timeout"] as? String == "5s")
            // Switching the check kind keeps the numbers.
            let tcp = try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"health_check":{"tcp":{}}}"#).json["health_check"] as? [String: Any]
            #expect(tcp?["failure_threshold"] as? Int == 9 && tcp?["interval"] as? String == "30s" && tcp?["http"] == nil)
            // A first startup probe starts from the default.
            let other = try await client.call(.post, "\(Self.c1)/containers", json: """
                {"namespace_id":"\(ns)","name":"q","image":"nginx:latest"}
                """).json["id"] as! String
            let first = try await client.call(.patch, "\(Self.c1)/containers/\(other)", json: #"{"startup_probe":{"failure_threshold":4}}"#).json
            let firstProbe = first["startup_probe"] as? [String: Any]
            #expect(firstProbe?["failure_threshold"] as? Int == 4 && firstProbe?["interval"] as? String == "10s" && firstProbe?["tcp"] != nil)
        }
    }

    @Test func everyPatchRedeploys() async throws {
        try await withApp(transitionDelay: 10) { client, clock in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"redeploys"}"#).json["id"] as! String
            clock.advance(seconds: 10)
            let deployed = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"d","registry_image":"nginx:latest"}"#).json["id"] as! String
            let never = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"n"}"#).json["id"] as! String
            clock.advance(seconds: 10)
            #expect(try await client.call(.get, "\(Self.c1b)/containers/\(deployed)").json["status"] as? String == "ready")
            // Spec 3a/9: every v1beta1 PATCH → pending, a description-only one and one on a never-deployed container too.
            let meta = try await client.call(.patch, "\(Self.c1b)/containers/\(deployed)", json: #"{"description":"meta","tags":["x"]}"#).json
            #expect(meta["status"] as? String == "pending" && meta["description"] as? String == "meta")
            #expect(try await client.call(.patch, "\(Self.c1b)/containers/\(never)", json: #"{"description":"meta"}"#).json["status"] as? String == "pending")
            clock.advance(seconds: 10)
            #expect(try await client.call(.get, "\(Self.c1b)/containers/\(never)").json["status"] as? String == "ready")
            // Spec 4d/9: a v1 container PATCH → updating (only namespaces keep their status on description/tags, 4b).
            let v1 = try await client.call(.patch, "\(Self.c1)/containers/\(deployed)", json: #"{"tags":["y"]}"#).json
            #expect(v1["status"] as? String == "updating" && v1["tags"] as? [String] == ["y"])
        }
    }

    @Test func mergedSecretsKeepTheLimits() async throws {
        try await withApp { client, _ in
            func secrets(_ range: Range<Int>) -> String {
                "[" + range.map { #"{"key":"S\#($0)","value":"v"}"# }.joined(separator: ",") + "]"
            }
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"limits","secret_environment_variables":\#(secrets(0..<60))}"#)
            let nsID = ns.json["id"] as! String
            // Namespace: 60 + 41 merged is over 100; nothing is written.
            let nsOver = try await client.call(.patch, "\(Self.c1b)/namespaces/\(nsID)", json: #"{"secret_environment_variables":\#(secrets(60..<101))}"#)
            #expect(nsOver.status == .badRequest)
            #expect(((nsOver.json["details"] as? [[String: Any]])?.first?["argument_name"] as? String) == "secret_environment_variables")
            let nsAfter = try await client.call(.get, "\(Self.c1b)/namespaces/\(nsID)").json["secret_environment_variables"] as? [Any]
            #expect(nsAfter?.count == 60)
            // Replacing keys and deleting some keeps within the limit.
            #expect(try await client.call(.patch, "\(Self.c1b)/namespaces/\(nsID)",
                                          json: #"{"secret_environment_variables":[{"key":"S0","value":null},{"key":"S1","value":"w"}]}"#).status == .ok)
            // Container: the same for its own secrets.
            let id = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(nsID)","name":"c","secret_environment_variables":\#(secrets(0..<60))}"#).json["id"] as! String
            let over = try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"secret_environment_variables":\#(secrets(60..<101))}"#)
            #expect(over.status == .badRequest)
            #expect(((over.json["details"] as? [[String: Any]])?.first?["argument_name"] as? String) == "secret_environment_variables")
            let after = try await client.call(.get, "\(Self.c1b)/containers/\(id)").json
            #expect((after["secret_environment_variables"] as? [Any])?.count == 60 && after["status"] as? String == "created")
            #expect(try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"secret_environment_variables":\#(secrets(60..<100))}"#).status == .ok)
        }
    }

    @Test func nonIntegerNumbersNameTheirField() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"numbers"}"#).json["id"] as! String
            let id = try await client.call(.post, "\(Self.c1)/containers", json: #"{"namespace_id":"\#(ns)","name":"c","image":"nginx:latest"}"#).json["id"] as! String
            func problem(_ api: String, _ body: String) async throws -> (String?, String?) {
                let details = try await client.call(.patch, "\(api)/containers/\(id)", json: body).json["details"] as? [[String: Any]]
                return (details?.first?["argument_name"] as? String, details?.first?["help_message"] as? String)
            }
            #expect(try await problem(Self.c1b, #"{"min_scale":1.5}"#) == ("min_scale", "expected an integer"))
            #expect(try await problem(Self.c1b, #"{"min_scale":"1"}"#) == ("min_scale", "expected an integer"))
            #expect(try await problem(Self.c1b, #"{"port":1e30}"#) == ("port", "expected an integer"))
            #expect(try await problem(Self.c1, #"{"liveness_probe":{"failure_threshold":2.5}}"#) == ("liveness_probe.failure_threshold", "expected an integer"))
            #expect(try await problem(Self.c1, #"{"memory_limit_bytes":128000000.5}"#) == ("memory_limit_bytes", "expected an integer"))
            // An ignored unknown field may hold any number: the integer field is blamed.
            #expect(try await problem(Self.c1b, #"{"zzz":0.5,"aaa":[1.5],"max_scale":2.5}"#) == ("max_scale", "expected an integer"))
            #expect(try await problem(Self.c1b, #"{"min_scale":1.5"#) == ("body", "the request body is not valid JSON"))
            #expect(try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"min_scale":1.0,"max_scale":2e0}"#).status == .ok)
        }
    }

    @Test func badNameIsTheOnlyProblemWithoutAnImage() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"names"}"#).json["id"] as! String
            let bad = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"Bad_Name"}"#)
            let names = (bad.json["details"] as? [[String: Any]])?.map { $0["argument_name"] as? String }
            #expect(bad.status == .badRequest && names == ["name"])
            // A bad image the client gave is still reported with the name.
            let both = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"Bad_Name","registry_image":"A B"}"#)
            #expect((both.json["details"] as? [[String: Any]])?.map { $0["argument_name"] as? String } == ["name", "registry_image"])
        }
    }

    @Test func maxConcurrencyIsTheConcurrentRequestsThreshold() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"concurrency"}"#).json["id"] as! String
            func threshold(_ c: [String: Any]) -> Int? { (c["scaling_option"] as? [String: Int])?["concurrent_requests_threshold"] }
            // Spec 4c records max_concurrency 80 with concurrent_requests_threshold 80.
            let created = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"c","max_concurrency":80}"#).json
            #expect(created["max_concurrency"] as? Int == 80 && threshold(created) == 80)
            let id = created["id"] as! String
            let patched = try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"max_concurrency":30}"#).json
            #expect(patched["max_concurrency"] as? Int == 30 && threshold(patched) == 30)
            let reverse = try await client.call(.patch, "\(Self.c1)/containers/\(id)", json: #"{"scaling_option":{"concurrent_requests_threshold":40}}"#)
            #expect(try await client.call(.get, "\(Self.c1b)/containers/\(id)").json["max_concurrency"] as? Int == 40 && threshold(reverse.json) == 40)
            // A container scaling on CPU keeps its option; an out-of-range value fails only its own check.
            try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"scaling_option":{"cpu_usage_threshold":70}}"#)
            let cpu = try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"max_concurrency":20}"#).json
            #expect(cpu["max_concurrency"] as? Int == 20 && (cpu["scaling_option"] as? [String: Int])?["cpu_usage_threshold"] == 70)
            let tooMany = try await client.call(.patch, "\(Self.c1b)/containers/\(id)", json: #"{"max_concurrency":81,"scaling_option":{"concurrent_requests_threshold":10}}"#)
            #expect((tooMany.json["details"] as? [[String: Any]])?.map { $0["argument_name"] as? String } == ["max_concurrency"])
        }
    }
}
