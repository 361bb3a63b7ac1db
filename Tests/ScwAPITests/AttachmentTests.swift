import Foundation
import HTTPTypes
import HummingbirdTesting
import ScwDomain
import Testing

/// Crons, custom domains and triggers in every API version, with goldens per operation and error.
@Suite struct AttachmentTests {
    static let c1b = "/containers/v1beta1/regions/fr-par"
    static let c1 = "/containers/v1/regions/fr-par"
    static let f1b = "/functions/v1beta1/regions/fr-par"

    func container(_ client: any TestClientProtocol) async throws -> (ns: String, id: String) {
        let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"attach"}"#).json["id"] as! String
        let id = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"web"}"#).json["id"] as! String
        return (ns, id)
    }

    @Test func cronsAreCronTriggers() async throws {
        try await withApp(transitionDelay: 2) { client, clock in
            let (_, c) = try await container(client)
            let created = try await client.call(.post, "\(Self.c1b)/crons", json: #"{"container_id":"\#(c)","schedule":"5 4 * * *","args":{"test":"scw","n":3}}"#)
            try expectGolden("c1b-cron-create", created)
            let id = created.json["id"] as! String
            #expect(created.json["name"] as? String == "cron-\(id)")
            clock.advance(seconds: 2)
            try expectGolden("c1b-cron-get", try await client.call(.get, "\(Self.c1b)/crons/\(id)"))
            try expectGolden("c1b-cron-list", try await client.call(.get, "\(Self.c1b)/crons?container_id=\(c)"))
            try expectGolden("c1b-cron-update", try await client.call(.patch, "\(Self.c1b)/crons/\(id)", json: #"{"schedule":"*/5 1-3 * JAN MON-FRI","name":"nightly"}"#))
            // v1 reads the same id as a cron trigger.
            clock.advance(seconds: 2)
            try expectGolden("c1-trigger-from-cron", try await client.call(.get, "\(Self.c1)/triggers/\(id)"))
            #expect(try await client.call(.get, "\(Self.c1b)/triggers/\(id)").status == .notFound)
            try expectGolden("c1b-cron-delete", try await client.call(.delete, "\(Self.c1b)/crons/\(id)"))
            // As on Scaleway, a deletion reads as `deleting` for the transition delay, then 404.
            #expect(try await client.call(.get, "\(Self.c1b)/crons/\(id)").json["status"] as? String == "deleting")
            clock.advance(seconds: 60)
            try expectGolden("c1b-cron-not-found", try await client.call(.get, "\(Self.c1b)/crons/\(id)"))
            try expectGolden("c1b-cron-error-schedule", try await client.call(.post, "\(Self.c1b)/crons", json: #"{"container_id":"\#(c)","schedule":"61 * * * *"}"#))
            try expectGolden("c1b-cron-error-list-required", try await client.call(.get, "\(Self.c1b)/crons"))
        }
    }

    @Test func domainsInBothVersions() async throws {
        try await withApp(transitionDelay: 10) { client, clock in
            let (_, c) = try await container(client)
            let created = try await client.call(.post, "\(Self.c1b)/domains", json: #"{"hostname":"App.Example.com","container_id":"\#(c)"}"#)
            try expectGolden("c1b-domain-create", created)
            let id = created.json["id"] as! String
            try expectGolden("c1-domain-get-creating", try await client.call(.get, "\(Self.c1)/domains/\(id)"))
            clock.advance(seconds: 10.5)
            try expectGolden("c1b-domain-get", try await client.call(.get, "\(Self.c1b)/domains/\(id)"))
            try expectGolden("c1-domain-get", try await client.call(.get, "\(Self.c1)/domains/\(id)"))
            try expectGolden("c1-domain-update", try await client.call(.patch, "\(Self.c1)/domains/\(id)", json: #"{"tags":["a","b"]}"#))
            try expectGolden("c1-domain-list", try await client.call(.get, "\(Self.c1)/domains?order_by=hostname_asc"))
            try expectGolden("c1b-domain-error-duplicate", try await client.call(.post, "\(Self.c1)/domains", json: #"{"hostname":"app.example.com","container_id":"\#(c)"}"#))
            try expectGolden("c1b-domain-error-hostname", try await client.call(.post, "\(Self.c1b)/domains", json: #"{"hostname":"localhost","container_id":"\#(c)"}"#))
            try expectGolden("c1-domain-delete", try await client.call(.delete, "\(Self.c1)/domains/\(id)"))
            // As on Scaleway, a deletion reads as `deleting` for the transition delay, then 404.
            #expect(try await client.call(.get, "\(Self.c1)/domains/\(id)").json["status"] as? String == "deleting")
            clock.advance(seconds: 60)
            try expectGolden("c1-domain-not-found", try await client.call(.get, "\(Self.c1)/domains/\(id)"))
            try expectGolden("c1b-domain-not-found", try await client.call(.delete, "\(Self.c1b)/domains/\(id)"))
        }
    }

    @Test func v1beta1Triggers() async throws {
        try await withApp(transitionDelay: 5) { client, clock in
            let (ns, c) = try await container(client)
            let created = try await client.call(.post, "\(Self.c1b)/triggers", json: """
                {"name":"test-container-trigger-nats","container_id":"\(c)","scw_nats_config":{"subject":"TestSubject","mnq_nats_account_id":"AD6CMPHV","mnq_project_id":"\(ns)","mnq_region":"fr-par"}}
                """)
            try expectGolden("c1b-trigger-create", created)
            let id = created.json["id"] as! String
            clock.advance(seconds: 5)
            let ready = try await client.call(.get, "\(Self.c1b)/triggers/\(id)")
            try expectGolden("c1b-trigger-get", ready)
            #expect(((ready.json["scw_nats_config"] as? [String: Any])?["mnq_credential_id"] as? String)?.count == 36)
            let sqs = try await client.call(.post, "\(Self.c1b)/triggers", json: """
                {"name":"sqs","container_id":"\(c)","sqs_config":{"endpoint":"https://sqs.example","queue_url":"https://sqs.example/q","access_key":"AK","secret_key":"SECRET"}}
                """)
            #expect(!sqs.text.contains("SECRET"))
            try expectGolden("c1b-trigger-list", try await client.call(.get, "\(Self.c1b)/triggers?namespace_id=\(ns)"))
            try expectGolden("c1b-trigger-update", try await client.call(.patch, "\(Self.c1b)/triggers/\(id)", json: #"{"description":"d"}"#))
            try expectGolden("c1b-trigger-delete", try await client.call(.delete, "\(Self.c1b)/triggers/\(id)"))
            // As on Scaleway, a deletion reads as `deleting` for the transition delay, then 404.
            #expect(try await client.call(.get, "\(Self.c1b)/triggers/\(id)").json["status"] as? String == "deleting")
            clock.advance(seconds: 60)
            try expectGolden("c1b-trigger-not-found", try await client.call(.get, "\(Self.c1b)/triggers/\(id)"))
            try expectGolden("c1b-trigger-not-found-delete", try await client.call(.delete, "\(Self.c1b)/triggers/\(id)"))
            try expectGolden("c1b-trigger-error-one-of", try await client.call(.post, "\(Self.c1b)/triggers", json: #"{"name":"x","container_id":"\#(c)"}"#))
        }
    }

    @Test func v1Triggers() async throws {
        try await withApp(transitionDelay: 1) { client, clock in
            let (_, c) = try await container(client)
            let cron = try await client.call(.post, "\(Self.c1)/triggers", json: """
                {"container_id":"\(c)","name":"tf-tests-container-cron-basic","destination_config":{"http_path":"/","http_method":"post"},
                 "cron_config":{"schedule":"5 4 * * *","timezone":"Europe/Paris","body":"{\\"test\\":\\"scw\\"}","headers":null}}
                """)
            try expectGolden("c1-trigger-create-cron", cron)
            let sqs = try await client.call(.post, "\(Self.c1)/triggers", json: """
                {"container_id":"\(c)","name":"test-container-trigger-sqs","description":"q","destination_config":{"http_path":"/","http_method":"get"},
                 "sqs_config":{"region":"fr-par","endpoint":"https://sqs.mnq.fr-par.scaleway.com","queue_url":"https://sqs.mnq.fr-par.scaleway.com/p/TestQueue","access_key_id":"DXos","secret_access_key":"TOPSECRET"}}
                """)
            #expect(sqs.status == .ok && !sqs.text.contains("TOPSECRET"))
            let nats = try await client.call(.post, "\(Self.c1)/triggers", json: """
                {"container_id":"\(c)","name":"n","nats_config":{"server_urls":["nats://nats.mnq.fr-par.scaleway.com:4222"],"subject":"S","credentials_file_content":"CREDS"}}
                """)
            #expect(nats.status == .ok && !nats.text.contains("CREDS"))
            clock.advance(seconds: 1.2)
            let id = cron.json["id"] as! String
            try expectGolden("c1-trigger-get", try await client.call(.get, "\(Self.c1)/triggers/\(id)"))
            try expectGolden("c1-trigger-list-cron", try await client.call(.get, "\(Self.c1)/triggers?trigger_type=cron"))
            #expect(try await client.call(.get, "\(Self.c1)/triggers?order_by=name_asc").json["total_count"] as? Int == 3)
            // A name-only PATCH stays ready; a config change goes through updating; nulls inside a config change nothing.
            #expect(try await client.call(.patch, "\(Self.c1)/triggers/\(id)", json: #"{"name":"renamed"}"#).json["status"] as? String == "ready")
            let changed = try await client.call(.patch, "\(Self.c1)/triggers/\(id)", json: #"{"cron_config":{"schedule":"0 * * * *","timezone":null}}"#)
            try expectGolden("c1-trigger-update", changed)
            try expectGolden("c1-trigger-error-timezone", try await client.call(.post, "\(Self.c1)/triggers", json: """
                {"container_id":"\(c)","name":"tz","cron_config":{"schedule":"5 4 * * *","timezone":"Mars/Olympus"}}
                """))
            try expectGolden("c1-trigger-error-method", try await client.call(.post, "\(Self.c1)/triggers", json: """
                {"container_id":"\(c)","name":"m","destination_config":{"http_method":"TRACE"},"cron_config":{"schedule":"5 4 * * *","timezone":"UTC"}}
                """))
            try expectGolden("c1-trigger-delete", try await client.call(.delete, "\(Self.c1)/triggers/\(id)"))
            // As on Scaleway, a deletion reads as `deleting` for the transition delay, then 404.
            #expect(try await client.call(.get, "\(Self.c1)/triggers/\(id)").json["status"] as? String == "deleting")
            clock.advance(seconds: 60)
            try expectGolden("c1-trigger-not-found", try await client.call(.get, "\(Self.c1)/triggers/\(id)"))
        }
    }

    @Test func cascadesAndFunctionSide() async throws {
        try await withApp { client, _ in
            let (ns, c) = try await container(client)
            let cron = try await client.call(.post, "\(Self.c1b)/crons", json: #"{"container_id":"\#(c)","schedule":"* * * * *"}"#).json["id"] as! String
            let domain = try await client.call(.post, "\(Self.c1)/domains", json: #"{"container_id":"\#(c)","hostname":"c.example.com"}"#).json["id"] as! String
            try await client.call(.delete, "\(Self.c1b)/containers/\(c)")
            #expect(try await client.call(.get, "\(Self.c1b)/crons/\(cron)").status == .notFound)
            #expect(try await client.call(.get, "\(Self.c1)/domains/\(domain)").status == .notFound)
            // The hostname is free again once its container is gone.
            let c2 = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"web2"}"#).json["id"] as! String
            #expect(try await client.call(.post, "\(Self.c1)/domains", json: #"{"container_id":"\#(c2)","hostname":"c.example.com"}"#).status == .ok)
            // Functions have the same v1beta1 routes with function_id.
            let fns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"fattach"}"#).json["id"] as! String
            let fn = try await client.call(.post, "\(Self.f1b)/functions", json: #"{"namespace_id":"\#(fns)","name":"fn","runtime":"node22"}"#).json["id"] as! String
            #expect(try await client.call(.post, "\(Self.f1b)/crons", json: #"{"function_id":"\#(fn)","schedule":"0 0 * * *","args":[1,2]}"#).status == .badRequest)
            let fcron = try await client.call(.post, "\(Self.f1b)/crons", json: #"{"function_id":"\#(fn)","schedule":"0 0 * * *","args":{"a":[1,2]}}"#)
            #expect(fcron.json["function_id"] as? String == fn && (fcron.json["args"] as? [String: [Int]]) == ["a": [1, 2]])
            let ftrigger = try await client.call(.post, "\(Self.f1b)/triggers", json: #"{"name":"t","function_id":"\#(fn)","scw_sqs_config":{"queue":"q","mnq_project_id":"p","mnq_region":"fr-par"}}"#)
            #expect(ftrigger.json["status"] as? String == "creating" || ftrigger.json["status"] as? String == "ready")
            #expect(try await client.call(.post, "\(Self.f1b)/domains", json: #"{"function_id":"\#(fn)","hostname":"f.example.com"}"#).status == .ok)
            #expect(try await client.call(.get, "\(Self.c1b)/crons/\(fcron.json["id"] as! String)").status == .notFound)
            #expect(try await client.call(.get, "\(Self.f1b)/crons?function_id=\(fn)").json["total_count"] as? Int == 1)
            #expect(try await client.call(.get, "\(Self.f1b)/domains?function_id=\(fn)").json["total_count"] as? Int == 1)
            try await client.call(.delete, "\(Self.f1b)/namespaces/\(fns)")
            #expect(try await client.call(.get, "\(Self.f1b)/triggers/\(ftrigger.json["id"] as! String)").status == .notFound)
            // Another project's key cannot attach anything to this container.
            #expect(try await client.call(.post, "\(Self.c1b)/crons", key: TestIdentity.otherSecret,
                                          json: #"{"container_id":"\#(c2)","schedule":"* * * * *"}"#).status == .forbidden)
        }
    }
}

/// Fixes of the attachment audit: PATCH sentinels and cross-type configs, list filters, cron PATCH status, and goldens for
/// the operations the first suite did not pin.
@Suite struct AttachmentAuditTests {
    static let c1b = AttachmentTests.c1b
    static let c1 = AttachmentTests.c1
    static let f1b = AttachmentTests.f1b

    func container(_ client: any TestClientProtocol) async throws -> (ns: String, id: String) {
        try await AttachmentTests().container(client)
    }

    @Test func v1TriggerPatchSentinelAndForeignConfigs() async throws {
        try await withApp { client, _ in
            let (_, c) = try await container(client)
            let sqs = try await client.call(.post, "\(Self.c1)/triggers", json: """
                {"container_id":"\(c)","name":"q","destination_config":{"http_path":"/in","http_method":"put"},
                 "sqs_config":{"region":"fr-par","endpoint":"https://sqs.example","queue_url":"https://sqs.example/q","access_key_id":"AK","secret_access_key":"S"}}
                """)
            try expectGolden("c1-trigger-create-sqs", sqs)
            let id = sqs.json["id"] as! String
            // The SDKs send `unknown_http_method` when only the path changes: the method is left as is.
            let moved = try await client.call(.patch, "\(Self.c1)/triggers/\(id)",
                                              json: #"{"destination_config":{"http_path":"/new","http_method":"unknown_http_method"}}"#)
            #expect(moved.status == .ok)
            #expect(moved.json["destination_config"] as? [String: String] == ["http_path": "/new", "http_method": "put"])
            // A config of another source type is refused and changes nothing.
            try expectGolden("c1-trigger-error-foreign-config", try await client.call(.patch, "\(Self.c1)/triggers/\(id)",
                                                                                      json: #"{"name":"renamed","nats_config":{"subject":"s"}}"#))
            let after = try await client.call(.get, "\(Self.c1)/triggers/\(id)").json
            #expect(after["name"] as? String == "q" && after["nats_config"] == nil)
            let nats = try await client.call(.post, "\(Self.c1)/triggers", json: """
                {"container_id":"\(c)","name":"n","nats_config":{"server_urls":["nats://nats.example:4222"],"subject":"S","credentials_file_content":"CREDS"}}
                """)
            try expectGolden("c1-trigger-create-nats", nats)
            let cron = try await client.call(.post, "\(Self.c1)/triggers", json: #"{"container_id":"\#(c)","name":"c","cron_config":{"schedule":"* * * * *","timezone":"UTC"}}"#)
            #expect(try await client.call(.patch, "\(Self.c1)/triggers/\(cron.json["id"] as! String)",
                                          json: #"{"sqs_config":{"queue_url":"https://x"}}"#).json["details"] != nil)
            // A v1beta1 trigger with platform credentials reads as `sqs` in v1, but takes no v1 sqs_config.
            let scw = try await client.call(.post, "\(Self.c1b)/triggers", json: """
                {"name":"scw","container_id":"\(c)","scw_sqs_config":{"queue":"TestQueue","mnq_project_id":"\(WellKnownIdentity.projectID.rawValue)","mnq_region":"fr-par"}}
                """)
            try expectGolden("c1b-trigger-create-scw-sqs", scw)
            try expectGolden("c1-trigger-error-scw-config", try await client.call(.patch, "\(Self.c1)/triggers/\(scw.json["id"] as! String)",
                                                                                  json: #"{"sqs_config":{"access_key_id":"AK2"}}"#))
            #expect(try await client.call(.get, "\(Self.c1b)/triggers/\(scw.json["id"] as! String)").json["name"] as? String == "scw")
        }
    }

    @Test func v1TriggerTypeMatchesV1Beta1PlatformTriggers() async throws {
        try await withApp { client, _ in
            let (ns, c) = try await container(client)
            let scwSQS = try await client.call(.post, "\(Self.c1b)/triggers", json: """
                {"name":"a","container_id":"\(c)","scw_sqs_config":{"queue":"q","mnq_project_id":"\(ns)","mnq_region":"fr-par"}}
                """).json["id"] as! String
            let scwNATS = try await client.call(.post, "\(Self.c1b)/triggers", json: """
                {"name":"b","container_id":"\(c)","scw_nats_config":{"subject":"s","mnq_nats_account_id":"A","mnq_project_id":"\(ns)","mnq_region":"fr-par"}}
                """).json["id"] as! String
            let userSQS = try await client.call(.post, "\(Self.c1b)/triggers", json: """
                {"name":"c","container_id":"\(c)","sqs_config":{"endpoint":"https://sqs.example","queue_url":"https://sqs.example/q","access_key":"AK","secret_key":"S"}}
                """)
            try expectGolden("c1b-trigger-create-sqs", userSQS)
            func ids(_ type: String) async throws -> [String] {
                let list = try await client.call(.get, "\(Self.c1)/triggers?container_id=\(c)&trigger_type=\(type)").json["triggers"] as? [[String: Any]]
                return (list ?? []).compactMap { $0["id"] as? String }
            }
            #expect(try await ids("sqs") == [scwSQS, userSQS.json["id"] as! String])
            #expect(try await ids("nats") == [scwNATS])
            #expect(try await ids("cron") == [])
        }
    }

    @Test func triggerAndDomainListsApplyProjectFilters() async throws {
        try await withApp { client, _ in
            let (_, c) = try await container(client)
            let project = "00000000-0000-4000-8000-000000000001"
            try await client.call(.post, "\(Self.c1)/triggers", json: #"{"container_id":"\#(c)","name":"c","cron_config":{"schedule":"* * * * *","timezone":"UTC"}}"#)
            try await client.call(.post, "\(Self.c1b)/triggers", json: """
                {"name":"t","container_id":"\(c)","sqs_config":{"endpoint":"https://sqs.example","queue_url":"https://sqs.example/q","access_key":"AK","secret_key":"S"}}
                """)
            try await client.call(.post, "\(Self.c1)/domains", json: #"{"container_id":"\#(c)","hostname":"p.example.com"}"#)
            for (path, expected) in [("\(Self.c1)/triggers", 2), ("\(Self.c1)/domains", 1), ("\(Self.c1b)/triggers", 1)] {
                let mine = try await client.call(.get, "\(path)?project_id=\(project)&organization_id=\(project)")
                #expect(mine.json["total_count"] as? Int == expected, "\(path)")
                #expect(try await client.call(.get, "\(path)?project_id=\(TestIdentity.otherProject)").status == .forbidden, "\(path)")
                // A project outside the key's scope is refused like a container list.
                let denied = try await client.call(.get, "\(path)?project_id=\(project)", key: TestIdentity.otherSecret)
                #expect(denied.status == .forbidden && denied.json["type"] as? String == "permissions_denied", "\(path)")
                let containers = try await client.call(.get, "\(Self.c1)/containers?project_id=\(project)", key: TestIdentity.otherSecret)
                #expect(containers.status == .forbidden, "\(path)")
                let foreignOrg = try await client.call(.get, "\(path)?organization_id=\(TestIdentity.otherProject)")
                #expect(foreignOrg.status == .forbidden, "\(path)")
            }
            try expectGolden("c1-trigger-error-list-project", try await client.call(.get, "\(Self.c1)/triggers?project_id=\(project)",
                                                                                    key: TestIdentity.otherSecret))
            #expect(try await client.call(.get, "\(Self.c1)/triggers?project_id=nope").status == .badRequest)
        }
    }

    @Test func cronPatchAlwaysGoesPending() async throws {
        try await withApp(transitionDelay: 2) { client, clock in
            let (ns, c) = try await container(client)
            let id = try await client.call(.post, "\(Self.c1b)/crons", json: #"{"container_id":"\#(c)","schedule":"5 4 * * *"}"#).json["id"] as! String
            clock.advance(seconds: 2)
            #expect(try await client.call(.get, "\(Self.c1b)/crons/\(id)").json["status"] as? String == "ready")
            // Even a name-only PATCH goes pending, then ready.
            try expectGolden("c1b-cron-update-name", try await client.call(.patch, "\(Self.c1b)/crons/\(id)", json: #"{"name":"renamed"}"#))
            #expect(try await client.call(.get, "\(Self.c1b)/crons/\(id)").json["status"] as? String == "pending")
            clock.advance(seconds: 2)
            #expect(try await client.call(.get, "\(Self.c1b)/crons/\(id)").json["status"] as? String == "ready")
            try expectGolden("c1b-cron-error-update-schedule", try await client.call(.patch, "\(Self.c1b)/crons/\(id)", json: #"{"schedule":"* * *"}"#))
            let other = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(ns)","name":"other"}"#)
            try expectGolden("c1b-cron-error-update-move", try await client.call(.patch, "\(Self.c1b)/crons/\(id)",
                                                                                json: #"{"container_id":"\#(other.json["id"] as! String)"}"#))
        }
    }

    @Test func domainGoldens() async throws {
        try await withApp { client, _ in
            let (_, c) = try await container(client)
            try expectGolden("c1-domain-create", try await client.call(.post, "\(Self.c1)/domains",
                                                                       json: #"{"container_id":"\#(c)","hostname":"v1.example.com","tags":["t"]}"#))
            let b1 = try await client.call(.post, "\(Self.c1b)/domains", json: #"{"container_id":"\#(c)","hostname":"b1.example.com"}"#)
            try expectGolden("c1b-domain-list", try await client.call(.get, "\(Self.c1b)/domains?container_id=\(c)&order_by=hostname_asc"))
            try expectGolden("c1b-domain-delete", try await client.call(.delete, "\(Self.c1b)/domains/\(b1.json["id"] as! String)"))
        }
    }

    @Test func functionSideGoldens() async throws {
        try await withApp(transitionDelay: 1) { client, clock in
            let ns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"fattach"}"#).json["id"] as! String
            let fn = try await client.call(.post, "\(Self.f1b)/functions", json: #"{"namespace_id":"\#(ns)","name":"fn","runtime":"node22"}"#).json["id"] as! String
            let cron = try await client.call(.post, "\(Self.f1b)/crons", json: #"{"function_id":"\#(fn)","schedule":"0 0 * * *","args":{"a":1},"name":"daily"}"#)
            try expectGolden("f1b-cron-create", cron)
            let domain = try await client.call(.post, "\(Self.f1b)/domains", json: #"{"function_id":"\#(fn)","hostname":"fn.example.com"}"#)
            try expectGolden("f1b-domain-create", domain)
            let trigger = try await client.call(.post, "\(Self.f1b)/triggers", json: """
                {"name":"t","function_id":"\(fn)","scw_sqs_config":{"queue":"q","mnq_project_id":"\(WellKnownIdentity.projectID.rawValue)","mnq_region":"fr-par"}}
                """)
            try expectGolden("f1b-trigger-create", trigger)
            clock.advance(seconds: 1)
            try expectGolden("f1b-cron-get", try await client.call(.get, "\(Self.f1b)/crons/\(cron.json["id"] as! String)"))
            try expectGolden("f1b-domain-get", try await client.call(.get, "\(Self.f1b)/domains/\(domain.json["id"] as! String)"))
            try expectGolden("f1b-trigger-get", try await client.call(.get, "\(Self.f1b)/triggers/\(trigger.json["id"] as! String)"))
        }
    }
}
