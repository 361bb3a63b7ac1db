import Foundation
import HTTPTypes
import HummingbirdTesting
import ScwKeys
import Testing

/// The tokens API, legacy issue-jwt and the public-key endpoints.
@Suite struct TokenTests {
    static let c1b = "/containers/v1beta1/regions/fr-par"
    static let f1b = "/functions/v1beta1/regions/fr-par"
    static let c1 = "/containers/v1/regions/fr-par"

    static func nowNanos(_ clock: TestClock) -> Int64 { clock.now().nanoseconds }

    @Test func namespaceTokenLifecycleAndGoldens() async throws {
        try await withApp { client, clock in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"tokens"}"#).json["id"] as! String
            let created = try await client.call(.post, "\(Self.c1b)/tokens",
                                                json: #"{"namespace_id":"\#(ns)","expires_at":"2026-05-06T16:42:11+02:00"}"#)
            try expectGolden("c1b-token-create", created)
            let body = created.json
            let id = body["id"] as! String
            #expect(body["expires_at"] as? String == "2026-05-06T14:42:11Z")
            // The JWT verifies under the public key returned with it, with exp exactly expires_at.
            let key = try NamespacePublicKey(pem: body["public_key"] as! String)
            let claims = try TokenVerifier(publicKey: key).verify(body["token"] as! String, for: TokenTarget(namespaceID: ns, applicationID: nil),
                                                                  nowNanoseconds: Self.nowNanos(clock))
            #expect(claims.expiresAt == 1_778_078_531 && claims.jti == id && claims.issuedAt == clock.now().unixSeconds)
            // The mock's key endpoint serves the same key.
            let pem = try await client.call(.get, "/_mock/namespaces/\(ns)/public-key", key: nil)
            #expect(pem.text == body["public_key"] as? String)
            #expect(pem.headers[.contentType] == "application/x-pem-file")
            let spki = try await client.call(.get, "/_mock/namespaces/\(ns)/public-key?format=spki", key: nil).text
            #expect(spki.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
            #expect(try NamespacePublicKey(pem: spki).pkcs1PEM == body["public_key"] as? String)
            let jwks = try await client.call(.get, "/_mock/jwks.json", key: nil).json["keys"] as! [[String: String]]
            #expect(jwks.first { $0["kid"] == ns }?["n"] == (try key.jwk(kid: ns)).n)

            try expectGolden("c1b-token-get", try await client.call(.get, "\(Self.c1b)/tokens/\(id)"))
            try expectGolden("c1b-token-list", try await client.call(.get, "\(Self.c1b)/tokens?namespace_id=\(ns)"))
            try expectGolden("c1b-token-delete", try await client.call(.delete, "\(Self.c1b)/tokens/\(id)"))
            try expectGolden("c1b-token-not-found", try await client.call(.get, "\(Self.c1b)/tokens/\(id)"))
            #expect(try await client.call(.delete, "\(Self.c1b)/tokens/\(id)").status == .notFound)
        }
    }

    @Test func tokensArePerAPI() async throws {
        try await withApp { client, _ in
            let fns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"fns"}"#).json["id"] as! String
            let token = try await client.call(.post, "\(Self.f1b)/tokens", json: #"{"namespace_id":"\#(fns)"}"#).json
            let id = token["id"] as! String
            #expect(token["expires_at"] is NSNull)
            #expect(try await client.call(.get, "\(Self.c1b)/tokens/\(id)").text == #"{"message":"Token was not found"}"#)
            // A recorded Scaleway quirk: DELETE of a functions token id on the containers endpoint names the container.
            #expect(try await client.call(.delete, "\(Self.c1b)/tokens/\(id)").text == #"{"message":"Container was not found"}"#)
            #expect(try await client.call(.get, "\(Self.f1b)/tokens/\(id)").json["status"] as? String == "ready")
            // A function namespace cannot get a containers token.
            let wrongKind = try await client.call(.post, "\(Self.c1b)/tokens", json: #"{"namespace_id":"\#(fns)"}"#)
            #expect(wrongKind.status == .notFound && wrongKind.text == #"{"message":"Namespace was not found"}"#)
            #expect(try await client.call(.get, "\(Self.c1b)/tokens").json["total_count"] as? Int == 0)
            #expect(try await client.call(.get, "\(Self.f1b)/tokens").json["total_count"] as? Int == 1)
        }
    }

    @Test func badTokenRequestsAreRefusedAndStoreNothing() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"bad-tokens"}"#).json["id"] as! String
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("{}", .badRequest, "namespace_id"),
                (#"{"namespace_id":"\#(ns)","container_id":"\#(ns)"}"#, .badRequest, "container_id"),
                (#"{"namespace_id":"\#(ns)","expires_at":"2020-01-01T00:00:00Z"}"#, .badRequest, "expires_at"),
                (#"{"namespace_id":"\#(ns)","expires_at":"2030-13-01T00:00:00Z"}"#, .badRequest, "expires_at"),
                (#"{"namespace_id":"\#(ns)","expires_at":"tomorrow"}"#, .badRequest, "expires_at"),
                (#"{"namespace_id":"\#(ns)","expires_at":"9999-12-31T23:59:59Z"}"#, .badRequest, "expires_at"),
                (#"{"namespace_id":"\#(ns)","expires_at":1700000000}"#, .badRequest, "expires_at"),
                (#"{"namespace_id":"not-a-uuid"}"#, .badRequest, "namespace_id"),
                (#"{"namespace_id":"99999999-9999-4999-8999-999999999999"}"#, .notFound, ""),
                (#"{"container_id":"99999999-9999-4999-8999-999999999999"}"#, .notFound, ""),
            ]
            for (body, status, argument) in cases {
                let response = try await client.call(.post, "\(Self.c1b)/tokens", json: body)
                #expect(response.status == status, "\(body)")
                if !argument.isEmpty {
                    #expect((response.json["details"] as? [[String: String]])?.first?["argument_name"] == argument, "\(body)")
                }
            }
            // A far-future expires_at is valid RFC 3339 but past what the store holds (2262): refused as such, not as malformed.
            for (raw, why) in [("9999-12-31T23:59:59Z", "expires_at is too far in the future, at most 2262-04-11T23:47:16Z"),
                               ("2262-04-11T23:47:17Z", "expires_at is too far in the future, at most 2262-04-11T23:47:16Z"),
                               ("2300-02-29T00:00:00Z", "expires_at must be an RFC 3339 timestamp, e.g. 2022-01-02T00:00:00Z")] {
                let details = try await client.call(.post, "\(Self.c1b)/tokens", json: #"{"namespace_id":"\#(ns)","expires_at":"\#(raw)"}"#)
                    .json["details"] as? [[String: String]]
                #expect(details?.first?["help_message"] == why, "\(raw)")
            }
            let latest = try await client.call(.get, "\(Self.c1b)/issue-jwt?namespace_id=\(ns)&expires_at=2262-04-11T23:47:16Z")
            #expect(latest.status == .ok && latest.json["expires_at"] as? String == "2262-04-11T23:47:16Z")
            let container404 = try await client.call(.post, "\(Self.c1b)/tokens", json: #"{"container_id":"99999999-9999-4999-8999-999999999999"}"#)
            #expect(container404.text == #"{"message":"Container was not found"}"#)
            // Another project's key may not mint tokens for this namespace.
            let foreign = try await client.call(.post, "\(Self.c1b)/tokens", key: TestIdentity.otherSecret, json: #"{"namespace_id":"\#(ns)"}"#)
            #expect(foreign.status == .forbidden)
            #expect(try await client.call(.get, "\(Self.c1b)/tokens").json["total_count"] as? Int == 0)
        }
    }

    @Test func legacyIssueJWT() async throws {
        try await withApp { client, clock in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"legacy"}"#).json["id"] as! String
            for query in ["expires_at=2026-06-01T00:00:00Z", "expires_at=2026-06-01T02%3A00%3A00%2B02%3A00", "expires_at=2026-06-01T02:00:00+02:00",
                          "expiration_date=2026-06-01T00:00:00Z"] {
                let response = try await client.call(.get, "\(Self.c1b)/issue-jwt?namespace_id=\(ns)&\(query)")
                #expect(response.status == .ok, "\(query)")
                let body = response.json
                #expect(body["expires_at"] as? String == "2026-06-01T00:00:00Z", "\(query)")
                let key = try NamespacePublicKey(pem: body["public_key"] as! String)
                let claims = try TokenVerifier(publicKey: key).verify(body["token"] as! String, for: TokenTarget(namespaceID: ns, applicationID: nil),
                                                                      nowNanoseconds: clock.now().nanoseconds)
                #expect(claims.expiresAt == 1_780_272_000)
                // Not stored: neither listed nor found.
                #expect(try await client.call(.get, "\(Self.c1b)/tokens/\(body["id"] as! String)").status == .notFound)
            }
            #expect(try await client.call(.get, "\(Self.c1b)/tokens").json["total_count"] as? Int == 0)
            #expect(try await client.call(.get, "\(Self.c1b)/issue-jwt?namespace_id=\(ns)", key: nil).status == .unauthorized)
            #expect(try await client.call(.get, "\(Self.c1b)/issue-jwt").status == .badRequest)
            let fns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"legacy-f"}"#).json["id"] as! String
            #expect(try await client.call(.get, "\(Self.f1b)/issue-jwt?namespace_id=\(fns)").status == .ok)
            #expect(try await client.call(.get, "\(Self.f1b)/issue-jwt?function_id=\(fns)").status == .notFound)
        }
    }

    /// Scaleway's "Restricting access to a container" page issues a containers namespace's token through
    /// `/functions/v1beta1/…/issue-jwt`: either API's legacy route resolves both products' ids, while the
    /// tokens API stays per product.
    @Test func legacyIssueJWTResolvesBothProducts() async throws {
        try await withApp { client, clock in
            let cns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"page-c"}"#).json["id"] as! String
            let cid = try await client.call(.post, "\(Self.c1b)/containers", json: #"{"namespace_id":"\#(cns)","name":"web"}"#).json["id"] as! String
            let fns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"page-f"}"#).json["id"] as! String
            let fid = try await client.call(.post, "\(Self.f1b)/functions", json: #"{"namespace_id":"\#(fns)","name":"fn","runtime":"node22"}"#)
                .json["id"] as! String
            let cases: [(String, String, TokenTarget, String?, String?)] = [
                (Self.f1b, "namespace_id=\(cns)&expires_at=2026-06-22T00%3A00%3A00Z", TokenTarget(namespaceID: cns, applicationID: nil), nil, nil),
                (Self.c1b, "namespace_id=\(fns)", TokenTarget(namespaceID: fns, applicationID: nil), nil, nil),
                (Self.f1b, "container_id=\(cid)", TokenTarget(namespaceID: cns, applicationID: cid), cid, nil),
                (Self.c1b, "function_id=\(fid)", TokenTarget(namespaceID: fns, applicationID: fid), nil, fid),
            ]
            for (prefix, query, target, containerID, functionID) in cases {
                let response = try await client.call(.get, "\(prefix)/issue-jwt?\(query)")
                #expect(response.status == .ok, "\(prefix) \(query): \(response.text)")
                let body = response.json
                // The answer names what the token is for, in its own product's field.
                #expect(body["container_id"] as? String == containerID && body["function_id"] as? String == functionID, "\(query)")
                #expect(body["namespace_id"] as? String == (target.applicationID == nil ? target.namespaceID : nil), "\(query)")
                let key = try NamespacePublicKey(pem: body["public_key"] as! String)
                _ = try TokenVerifier(publicKey: key).verify(body["token"] as! String, for: target, nowNanoseconds: clock.now().nanoseconds)
            }
            // Exactly one scope, every id a UUID, unknown ids 404 in their own product's words.
            #expect(try await client.call(.get, "\(Self.c1b)/issue-jwt?container_id=\(cid)&function_id=\(fid)").status == .badRequest)
            #expect(try await client.call(.get, "\(Self.c1b)/issue-jwt?function_id=nope").status == .badRequest)
            let unknown = try await client.call(.get, "\(Self.c1b)/issue-jwt?function_id=\(cid)")
            #expect(unknown.status == .notFound && unknown.json["message"] as? String == "Function was not found")
            // The tokens API does not cross products.
            #expect(try await client.call(.post, "\(Self.f1b)/tokens", json: #"{"namespace_id":"\#(cns)"}"#).status == .notFound)
            #expect(try await client.call(.get, "\(Self.c1b)/tokens").json["total_count"] as? Int == 0)
        }
    }

    @Test func namespaceCreatedWithAnEmptyPoolBecomesReadyOnceItsKeyExists() async throws {
        try await withApp(keyPool: 0) { client, _ in
            let created = try await client.call(.post, "\(Self.c1)/namespaces", json: #"{"name":"cold"}"#).json
            let ns = created["id"] as! String
            #expect(created["status"] as? String == "creating")
            // A token request waits for the key instead of failing.
            let token = try await client.call(.post, "\(Self.c1b)/tokens", json: #"{"namespace_id":"\#(ns)"}"#)
            #expect(token.status == .ok)
            #expect(try await client.call(.get, "\(Self.c1)/namespaces/\(ns)").json["status"] as? String == "ready")
        }
    }

    @Test func deletingTheNamespaceDeletesItsTokensAndKey() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.c1b)/namespaces", json: #"{"name":"cascade"}"#).json["id"] as! String
            let id = try await client.call(.post, "\(Self.c1b)/tokens", json: #"{"namespace_id":"\#(ns)"}"#).json["id"] as! String
            try await client.call(.delete, "\(Self.c1b)/namespaces/\(ns)")
            #expect(try await client.call(.get, "\(Self.c1b)/tokens/\(id)").status == .notFound)
            #expect(try await client.call(.get, "/_mock/namespaces/\(ns)/public-key", key: nil).status == .notFound)
            let jwks = try await client.call(.get, "/_mock/jwks.json", key: nil).json["keys"] as! [[String: String]]
            #expect(!jwks.contains { $0["kid"] == ns })
        }
    }
}
