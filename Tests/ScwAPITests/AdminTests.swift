import Foundation
import HTTPTypes
import HummingbirdTesting
import ScwDomain
import ScwKeys
import ScwMockApp
import Testing

@testable import ScwAPI

/// The test-control routes under `/_mock`.
@Suite struct AdminTests {
    static let c1 = "/containers/v1/regions/fr-par"
    static let c1b = "/containers/v1beta1/regions/fr-par"

    @Test func resetRestoresTheSeededState() async throws {
        var config = MockConfiguration()
        config.databasePath = ":memory:"
        config.seedPaths = [SeedTests.repo.appendingPathComponent("seed").path]
        config.keyBits = 2048
        config.runtimeEnabled = false
        config.keyPoolSize = 1
        let app = try await buildApplication(config)
        try await app.test(.router) { client in
            let seeded = "5eed0000-0000-4000-8000-0000000000c1"
            let pem = try await client.call(.get, "/_mock/namespaces/\(seeded)/public-key", key: nil).text
            try await client.call(.delete, "\(Self.c1)/namespaces/\(seeded)")
            try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"extra"}"#)
            let reset = try await client.call(.post, "/_mock/reset", key: nil)
            #expect(reset.status == .ok && reset.json["status"] as? String == "reset")
            let list = try await client.call(.get, "\(Self.c1)/namespaces").json
            #expect((list["namespaces"] as! [[String: Any]]).map { $0["id"] as! String } == [seeded])
            #expect(try await client.call(.get, "/_mock/namespaces/\(seeded)/public-key", key: nil).text == pem)
            // A second reset restores the copy the first one kept: same world again.
            try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"extra-two"}"#)
            try await client.call(.post, "/_mock/reset", key: nil)
            let again = try await client.call(.get, "\(Self.c1)/namespaces").json
            #expect((again["namespaces"] as! [[String: Any]]).map { $0["id"] as! String } == [seeded])
            #expect(try await client.call(.get, "/_mock/namespaces/\(seeded)/public-key", key: nil).text == pem)
            // The seeded scoped key still works; to=empty keeps only the well-known identity.
            #expect(try await client.call(.get, "\(Self.c1)/namespaces", key: "5eed0000-0000-4000-8000-00000000000b").status == .ok)
            try await client.call(.post, "/_mock/reset?to=empty", key: nil)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces").json["total_count"] as? Int == 0)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces", key: "5eed0000-0000-4000-8000-00000000000b").status == .unauthorized)
            #expect(try await client.call(.post, "/_mock/reset?to=bogus", key: nil).status == .badRequest)
        }
    }

    @Test func clockMovesTransitionsAndExpiries() async throws {
        try await withApp(transitionDelay: 60) { client, _ in
            let ns = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"clock"}"#).json["id"] as! String
            #expect(try await client.call(.get, "\(Self.c1)/namespaces/\(ns)").json["status"] as? String == "creating")
            let before = try await client.call(.get, "/_mock/clock", key: nil).json
            #expect(before["offset_seconds"] as? Double == 0)
            let moved = try await client.call(.post, "/_mock/clock", key: nil, json: #"{"advance_seconds":60}"#).json
            #expect(moved["offset_seconds"] as? Double == 60)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces/\(ns)").json["status"] as? String == "ready")
            #expect(try await client.call(.post, "/_mock/clock", key: nil, json: #"{"advance_seconds":-1}"#).status == .badRequest)
            // `to` goes back as well as forward (`advance_seconds` only forward).
            #expect(try await client.call(.post, "/_mock/clock", key: nil, json: #"{"to":"2001-01-01T00:00:00Z"}"#).json["now"] as? String == "2001-01-01T00:00:00.000000Z")
            // Expiry follows the mock's clock: a token that expires in an hour is refused once the clock passes it.
            let token = try await client.call(.post, "\(Self.c1b)/tokens", json: #"{"namespace_id":"\#(ns)","expires_at":"2026-05-05T16:00:00Z"}"#).json
            try await client.call(.post, "/_mock/clock", key: nil, json: #"{"to":"2026-05-05T16:00:01Z"}"#)
            let now = Timestamp.parseRFC3339(try await client.call(.get, "/_mock/clock", key: nil).json["now"] as! String)!
            let verifier = TokenVerifier(publicKey: try NamespacePublicKey(pem: token["public_key"] as! String))
            #expect(throws: TokenFailure.expired) {
                try verifier.verify(token["token"] as! String, for: TokenTarget(namespaceID: ns, applicationID: nil), nowNanoseconds: now.nanoseconds)
            }
        }
    }

    @Test func requestLogRecordsCallsWithoutSecrets() async throws {
        try await withApp { client, _ in
            try await client.call(.get, "\(Self.c1)/namespaces")
            try await client.call(.get, "\(Self.c1)/namespaces", key: TestIdentity.otherSecret)
            try await client.call(.get, "\(Self.c1)/namespaces", key: "nope")
            try await client.call(.get, "\(Self.c1b)/issue-jwt?token=SECRETVALUE&namespace_id=x")
            let all = try await client.call(.get, "/_mock/requests?path=/containers", key: nil)
            let entries = all.json["requests"] as! [[String: Any]]
            #expect(entries.count == 4)
            #expect(entries.map { $0["access_key"] as! String } == ["SCWMOCK0000000000000", "SCWOTHER000000000000", "-", "SCWMOCK0000000000000"])
            #expect(entries.map { $0["status"] as! Int } == [200, 200, 401, 400])
            #expect(!all.text.contains("SECRETVALUE") && !all.text.contains(TestIdentity.otherSecret))
            #expect((entries[3]["path"] as! String).contains("token=<redacted>"))
            let filtered = try await client.call(.get, "/_mock/requests?status=401", key: nil).json["requests"] as! [[String: Any]]
            #expect(filtered.count == 1)
        }
    }

    @Test func faultsAnswerScalewayBodies() async throws {
        try await withApp { client, _ in
            let rules = #"{"faults":[{"method":"GET","path":"/containers/v1/regions/*/namespaces","status":503,"count":1},{"path":"*/namespaces/*","status":404}]}"#
            #expect(try await client.call(.put, "/_mock/faults", key: nil, json: rules).status == .ok)
            let first = try await client.call(.get, "\(Self.c1)/namespaces")
            #expect(first.status == .serviceUnavailable && first.text == #"{"message":"error while authenticating, please retry later"}"#)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces").status == .ok)
            let missing = try await client.call(.get, "\(Self.c1b)/namespaces/11111111-1111-4111-8111-111111111111")
            #expect(missing.status == .notFound && missing.text == #"{"message":"Namespace was not found"}"#)
            try await client.call(.delete, "/_mock/faults", key: nil)
            let cleared = try await client.call(.get, "/_mock/faults", key: nil).json["faults"] as? [Any]
            #expect(cleared?.isEmpty == true)
            #expect(try await client.call(.put, "/_mock/faults", key: nil, json: #"{"faults":[{"path":"*","status":200}]}"#).status == .badRequest)
            try await client.call(.put, "/_mock/faults", key: nil, json: #"{"faults":[{"path":"*","latency_ms":150,"count":1}]}"#)
            let started = ContinuousClock.now
            #expect(try await client.call(.get, "\(Self.c1)/namespaces").status == .ok)
            #expect(ContinuousClock.now - started >= .milliseconds(150))
        }
    }

    @Test func forgedTokensAreAllRefused() async throws {
        try await withApp { client, clock in
            let ns = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"forge"}"#).json["id"] as! String
            let c = try await client.call(.post, "\(Self.c1)/containers", json: #"{"namespace_id":"\#(ns)","name":"c","image":"nginx:latest"}"#).json["id"] as! String
            let key = try NamespacePublicKey(pem: try await client.call(.get, "/_mock/namespaces/\(ns)/public-key", key: nil).text)
            let verifier = TokenVerifier(publicKey: key)
            let expected: [String: TokenFailure] = [
                "expired": .expired, "not_yet_valid": .notYetValid, "wrong_namespace": .wrongNamespace, "wrong_container": .wrongApplication,
                "tampered_signature": .badSignature, "tampered_payload": .badSignature, "alg_none": .algorithmNotAllowed("none"),
                "hs256_public_key": .algorithmNotAllowed("HS256"), "other_key": .badSignature,
            ]
            for kind in TokenForger.Kind.allCases {
                let body = kind == .wrong_container ? #"{"kind":"\#(kind.rawValue)","container_id":"\#(c)"}"# : #"{"kind":"\#(kind.rawValue)","namespace_id":"\#(ns)"}"#
                let forged = try await client.call(.post, "/_mock/tokens/forge", key: nil, json: body)
                #expect(forged.status == .ok, "\(kind)")
                let token = forged.json["token"] as! String
                #expect(throws: expected[kind.rawValue]!, "\(kind)") {
                    try verifier.verify(token, for: TokenTarget(namespaceID: ns, applicationID: c), nowNanoseconds: clock.now().nanoseconds)
                }
            }
            #expect(try await client.call(.post, "/_mock/tokens/forge", key: nil, json: #"{"kind":"nice","namespace_id":"\#(ns)"}"#).status == .badRequest)
        }
    }

    @Test func openAPIDocumentListsEveryRoute() async throws {
        try await withApp { client, _ in
            let doc = try await client.call(.get, "/_mock/openapi.json", key: nil).json
            #expect(doc["openapi"] as? String == "3.1.0")
            let paths = doc["paths"] as! [String: [String: Any]]
            #expect(paths["/containers/v1beta1/regions/{region}/namespaces/{namespace_id}"]?.keys.sorted() == ["delete", "get", "patch"])
            #expect(paths["/functions/v1beta1/regions/{region}/functions/{function_id}/upload-url"]?.keys.sorted() == ["get"])
            #expect(paths["/_mock/openapi.json"] != nil && paths["/containers/v1/regions/{region}/triggers"]?.keys.sorted() == ["get", "post"])
            // Every documented operation answers something other than "no such route".
            for (path, methods) in paths {
                let concrete = path.replacingOccurrences(of: "{region}", with: "fr-par")
                    .replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "11111111-1111-4111-8111-111111111111", options: .regularExpression)
                for method in methods.keys where method == "get" {
                    let response = try await client.call(.get, concrete)
                    #expect(response.json["resource"] as? String != "route", "\(method) \(path)")
                }
            }
            #expect(paths.count > 40)
            // Every path the router serves (as Hummingbird lists them) is documented, and so is the gateway's invoke route.
            var config = MockConfiguration()
            config.databasePath = ":memory:"
            config.runtimeEnabled = false
            config.keyPoolSize = 0
            var served: Set<String> = []
            _ = try await buildApplication(config, inspectRouter: { router in served = Set(router.routes.map { "\($0.path)" }) })
            #expect(served.count > 40)
            // The browser console's pages (`/_mock/console`) are HTML for people, not part of the API the document describes.
            for path in served where !path.hasPrefix("/_mock/console") { #expect(paths[path] != nil, "\(path)") }
            #expect(paths["/_mock/invoke/{application_id}/{path}"]?.keys.sorted() == ["delete", "get", "head", "options", "patch", "post", "put"])
        }
    }

    @Test func healthListsEveryMockRoute() async throws {
        try await withApp { client, _ in
            let routes = try await client.call(.get, "/_mock/health", key: nil).json["routes"] as! [String]
            let paths = try await client.call(.get, "/_mock/openapi.json", key: nil).json["paths"] as! [String: [String: Any]]
            let order = ["get", "post", "put", "patch", "delete", "head", "options"]
            let documented = paths.filter { $0.key.hasPrefix("/_mock/") }.map { path, methods in
                methods.keys.sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }.map { $0.uppercased() }.joined(separator: "|") + " " + path
            }
            #expect(routes.sorted() == documented.sorted())
            for route in ["GET /_mock/health", "GET|POST /_mock/clock", "GET|PUT|DELETE /_mock/faults", "GET /_mock/state", "POST /_mock/seed",
                          "GET|PUT /_mock/storage", "POST /_mock/containers/{application_id}/fail-next-deploy",
                          "POST /_mock/functions/{application_id}/crash", "GET /_mock/containers/{application_id}/logs",
                          "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS /_mock/invoke/{application_id}/{path}"] {
                #expect(routes.contains(route), "\(route)")
            }
        }
    }

    @Test func mockRouteArgumentsAreChecked() async throws {
        try await withApp { client, clock in
            func argument(_ response: TestResponse) -> String? { (response.json["details"] as? [[String: String]])?.first?["argument_name"] }
            for bad in ["abc", "999", "2OO"] {
                let response = try await client.call(.get, "/_mock/requests?status=\(bad)", key: nil)
                #expect(response.status == .badRequest && argument(response) == "status", "\(bad)")
            }
            #expect(try await client.call(.get, "/_mock/requests?status=200", key: nil).status == .ok)
            let badLimit = try await client.call(.get, "/_mock/requests?limit=abc", key: nil)
            #expect(badLimit.status == .badRequest && argument(badLimit) == "limit")

            let past = clock.now().adding(nanoseconds: -1_000_000_000).rfc3339(fractionDigits: 0)
            let expired = try await client.call(.put, "/_mock/faults", key: nil, json: #"{"faults":[{"path":"*","status":503,"until":"\#(past)"}]}"#)
            #expect(expired.status == .badRequest && argument(expired) == "faults[0].until")
            let future = clock.now().adding(nanoseconds: 3_600_000_000_000).rfc3339(fractionDigits: 0)
            let armed = try await client.call(.put, "/_mock/faults", key: nil, json: #"{"faults":[{"path":"/nowhere","status":503,"until":"\#(future)"}]}"#)
            #expect(armed.status == .ok)
            try await client.call(.delete, "/_mock/faults", key: nil)

            let ns = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"kinds"}"#).json["id"] as! String
            let c = try await client.call(.post, "\(Self.c1)/containers", json: #"{"namespace_id":"\#(ns)","name":"c","image":"nginx:latest"}"#).json["id"] as! String
            let wrongKind = try await client.call(.post, "/_mock/functions/\(c)/fail-next-deploy", key: nil)
            #expect(wrongKind.status == .notFound && wrongKind.json["resource"] as? String == "function")
            #expect(try await client.call(.post, "/_mock/containers/\(c)/fail-next-deploy", key: nil).status == .ok)
            // The crash and logs routes name the kind too: a container's id under /_mock/functions is not found.
            #expect(try await client.call(.post, "/_mock/functions/\(c)/crash", key: nil).status == .notFound)
            #expect(try await client.call(.get, "/_mock/functions/\(c)/logs", key: nil).status == .notFound)
        }
    }
}
