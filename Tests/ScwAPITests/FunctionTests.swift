import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ScwKeys
import Testing

/// Functions v1beta1: CRUD, deploy with and without code, upload/download URLs, runtimes, function tokens.
@Suite struct FunctionTests {
    static let f1b = "/functions/v1beta1/regions/fr-par"

    @Test func lifecycleGoldens() async throws {
        try await withApp { client, clock in
            let ns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"tf-ds-function"}"#).json["id"] as! String
            clock.advance(seconds: 1)
            let created = try await client.call(.post, "\(Self.f1b)/functions", json: """
                {"namespace_id":"\(ns)","name":"foobar","runtime":"go126","min_scale":0,"max_scale":20,"memory_limit":256,"privacy":"private",
                 "handler":"Handle","sandbox":"unknown_sandbox","http_option":"unknown_http_option","secret_environment_variables":[{"key":"K","value":"v"}]}
                """)
            try expectGolden("f1b-function-create", created)
            let id = created.json["id"] as! String
            clock.advance(seconds: 1)
            try expectGolden("f1b-function-get", try await client.call(.get, "\(Self.f1b)/functions/\(id)"))
            try expectGolden("f1b-function-list", try await client.call(.get, "\(Self.f1b)/functions?namespace_id=\(ns)"))
            // Deploy without code: pending, then error "internal error".
            try expectGolden("f1b-function-deploy", try await client.call(.post, "\(Self.f1b)/functions/\(id)/deploy", json: "{}"))
            clock.advance(seconds: 1)
            try expectGolden("f1b-function-deploy-no-code", try await client.call(.get, "\(Self.f1b)/functions/\(id)"))
            try expectGolden("f1b-function-update", try await client.call(.patch, "\(Self.f1b)/functions/\(id)",
                                                                         json: #"{"memory_limit":512,"runtime":"unknown_runtime","redeploy":false}"#))
            try expectGolden("f1b-function-delete", try await client.call(.delete, "\(Self.f1b)/functions/\(id)"))
            try expectGolden("f1b-function-not-found", try await client.call(.get, "\(Self.f1b)/functions/\(id)"))
            try expectGolden("f1b-function-error-runtime", try await client.call(.post, "\(Self.f1b)/functions",
                                                                                json: #"{"namespace_id":"\#(ns)","name":"x","runtime":"cobol85"}"#))
            try expectGolden("f1b-function-error-no-runtime", try await client.call(.post, "\(Self.f1b)/functions",
                                                                                   json: #"{"namespace_id":"\#(ns)","name":"x"}"#))
        }
    }

    @Test func uploadDeployAndDownloadCode() async throws {
        try await withApp { client, _ in
            let ns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"code"}"#).json["id"] as! String
            let id = try await client.call(.post, "\(Self.f1b)/functions", json: #"{"namespace_id":"\#(ns)","name":"fn","runtime":"python312"}"#).json["id"] as! String
            #expect(try await client.call(.get, "\(Self.f1b)/functions/\(id)/download-url").status == .notFound)
            let zip = Array("PK\u{3}\u{4} pretend zip archive".utf8)
            let grant = try await client.call(.get, "\(Self.f1b)/functions/\(id)/upload-url?content_length=\(zip.count)").json
            #expect((grant["headers"] as? [String: [String]])?["content-length"] == [String(zip.count)])
            let url = URLComponents(string: grant["url"] as! String)!
            let path = url.path + "?" + url.percentEncodedQuery!
            // Wrong size and wrong token are refused; the right PUT is accepted once.
            var headers: HTTPFields = [.contentType: "application/octet-stream"]
            let short = try await client.execute(uri: path, method: .put, headers: headers, body: ByteBuffer(bytes: zip.dropLast()))
            #expect(short.status == .forbidden)
            headers[.contentLength] = String(zip.count)
            let forged = try await client.execute(uri: url.path + "?token=nope", method: .put, headers: headers, body: ByteBuffer(bytes: zip))
            #expect(forged.status == .forbidden)
            let put = try await client.execute(uri: path, method: .put, headers: headers, body: ByteBuffer(bytes: zip))
            #expect(put.status == .ok)
            #expect(try await client.execute(uri: path, method: .put, headers: headers, body: ByteBuffer(bytes: zip)).status == .forbidden)
            // Uploading alone leaves the function created; deploy makes it ready.
            #expect(try await client.call(.get, "\(Self.f1b)/functions/\(id)").json["status"] as? String == "created")
            #expect(try await client.call(.post, "\(Self.f1b)/functions/\(id)/deploy", json: "{}").json["status"] as? String == "pending")
            let ready = try await client.call(.get, "\(Self.f1b)/functions/\(id)").json
            #expect(ready["status"] as? String == "ready" && ready["error_message"] is NSNull && !(ready["ready_at"] is NSNull))
            let download = URLComponents(string: try await client.call(.get, "\(Self.f1b)/functions/\(id)/download-url").json["url"] as! String)!
            let body = try await client.execute(uri: download.path + "?" + download.percentEncodedQuery!, method: .get, headers: [:], body: nil)
            #expect(body.status == .ok && Array(body.body.readableBytesView) == zip)
            #expect(try await client.call(.get, "\(Self.f1b)/functions/\(id)/upload-url?content_length=0").status == .badRequest)
            #expect(try await client.call(.get, "\(Self.f1b)/functions/\(id)/upload-url?content_length=104857601").status == .badRequest)
        }
    }

    @Test func runtimesAndFunctionTokens() async throws {
        try await withApp { client, clock in
            let runtimes = try await client.call(.get, "\(Self.f1b)/runtimes").json
            let list = runtimes["runtimes"] as! [[String: String]]
            #expect(runtimes["total_count"] as? Int == 41 && list.count == 41)
            #expect(list.first { $0["name"] == "go126" }?["default_handler"] == "Handle")
            let ns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"ftok"}"#).json["id"] as! String
            let fn = try await client.call(.post, "\(Self.f1b)/functions", json: #"{"namespace_id":"\#(ns)","name":"fn","runtime":"node22"}"#).json
            #expect(fn["handler"] as? String == "handler.handle" && fn["cpu_limit"] as? Int == 140 && fn["status"] as? String == "created")
            let id = fn["id"] as! String
            let token = try await client.call(.post, "\(Self.f1b)/tokens", json: #"{"function_id":"\#(id)"}"#).json
            #expect(token["function_id"] as? String == id)
            let claims = try TokenVerifier(publicKey: try NamespacePublicKey(pem: token["public_key"] as! String))
                .verify(token["token"] as! String, for: TokenTarget(namespaceID: ns, applicationID: id), nowNanoseconds: clock.now().nanoseconds)
            #expect(claims.applicationID == id)
            #expect(try await client.call(.get, "\(Self.f1b)/issue-jwt?function_id=\(id)").status == .ok)
            // The function token is not a containers token; deleting the function deletes it.
            #expect(try await client.call(.post, "/containers/v1beta1/regions/fr-par/tokens", json: #"{"container_id":"\#(id)"}"#).status == .notFound)
            try await client.call(.delete, "\(Self.f1b)/functions/\(id)")
            #expect(try await client.call(.get, "\(Self.f1b)/tokens/\(token["id"] as! String)").status == .notFound)
            // A container namespace cannot hold functions.
            let cns = try await client.call(.post, "/containers/v1/regions/fr-par/namespaces", json: #"{"name":"cns"}"#).json["id"] as! String
            #expect(try await client.call(.post, "\(Self.f1b)/functions", json: #"{"namespace_id":"\#(cns)","name":"x","runtime":"node22"}"#).status == .notFound)
        }
    }
}

/// Fixes of the functions audit: a deploy's outcome is decided when it starts; goldens for code URLs and runtimes.
@Suite struct FunctionAuditTests {
    static let f1b = FunctionTests.f1b

    /// Uploads `archive` to `id` through a pre-signed URL.
    func upload(_ client: any TestClientProtocol, _ id: String, _ archive: [UInt8]) async throws {
        let grant = try await client.call(.get, "\(Self.f1b)/functions/\(id)/upload-url?content_length=\(archive.count)").json
        let url = URLComponents(string: grant["url"] as! String)!
        let put = try await client.execute(uri: url.path + "?" + url.percentEncodedQuery!, method: .put,
                                           headers: [.contentType: "application/octet-stream", .contentLength: String(archive.count)],
                                           body: ByteBuffer(bytes: archive))
        #expect(put.status == .ok)
    }

    @Test func uploadAfterAFailedDeployDoesNotChangeItsOutcome() async throws {
        try await withApp(transitionDelay: 1) { client, clock in
            let ns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"outcome"}"#).json["id"] as! String
            let id = try await client.call(.post, "\(Self.f1b)/functions", json: #"{"namespace_id":"\#(ns)","name":"fn","runtime":"python312"}"#).json["id"] as! String
            func status() async throws -> (String?, String?) {
                let f = try await client.call(.get, "\(Self.f1b)/functions/\(id)").json
                return (f["status"] as? String, f["error_message"] as? String)
            }
            // Deployed without code: the deploy ends in error, and uploading afterwards does not flip it.
            try await client.call(.post, "\(Self.f1b)/functions/\(id)/deploy", json: "{}")
            clock.advance(seconds: 1)
            #expect(try await status() == ("error", "internal error"))
            try await upload(client, id, Array("PK first".utf8))
            #expect(try await status() == ("error", "internal error"))
            // Code uploaded while a code-less deploy is pending does not rescue that deploy either.
            let fresh = try await client.call(.post, "\(Self.f1b)/functions", json: #"{"namespace_id":"\#(ns)","name":"fn2","runtime":"python312"}"#).json["id"] as! String
            #expect(try await client.call(.post, "\(Self.f1b)/functions/\(fresh)/deploy", json: "{}").json["status"] as? String == "pending")
            try await upload(client, fresh, Array("PK second".utf8))
            clock.advance(seconds: 1)
            #expect(try await client.call(.get, "\(Self.f1b)/functions/\(fresh)").json["status"] as? String == "error")
            // The next deploy sees the code and succeeds.
            #expect(try await client.call(.post, "\(Self.f1b)/functions/\(id)/deploy", json: "{}").json["error_message"] is NSNull)
            clock.advance(seconds: 1)
            let ready = try await client.call(.get, "\(Self.f1b)/functions/\(id)").json
            #expect(ready["status"] as? String == "ready" && ready["error_message"] is NSNull)
        }
    }

    @Test func codeURLAndRuntimeGoldens() async throws {
        try await withApp { client, _ in
            try expectGolden("f1b-runtimes", try await client.call(.get, "\(Self.f1b)/runtimes"))
            let ns = try await client.call(.post, "\(Self.f1b)/namespaces", json: #"{"name":"urls"}"#).json["id"] as! String
            let id = try await client.call(.post, "\(Self.f1b)/functions", json: #"{"namespace_id":"\#(ns)","name":"fn","runtime":"go126"}"#).json["id"] as! String
            try expectGolden("f1b-function-error-download-before-upload", try await client.call(.get, "\(Self.f1b)/functions/\(id)/download-url"))
            try expectGolden("f1b-function-error-upload-url-no-length", try await client.call(.get, "\(Self.f1b)/functions/\(id)/upload-url"))
            try expectGolden("f1b-function-error-upload-url-length-zero", try await client.call(.get, "\(Self.f1b)/functions/\(id)/upload-url?content_length=0"))
            try expectGolden("f1b-function-error-upload-url-length-too-big",
                             try await client.call(.get, "\(Self.f1b)/functions/\(id)/upload-url?content_length=104857601"))
            try expectGolden("f1b-function-error-upload-url-length-format",
                             try await client.call(.get, "\(Self.f1b)/functions/\(id)/upload-url?content_length=12kb"))
            try expectGolden("f1b-function-upload-url", try await client.call(.get, "\(Self.f1b)/functions/\(id)/upload-url?content_length=780"))
            try await upload(client, id, Array("PK golden".utf8))
            try expectGolden("f1b-function-download-url", try await client.call(.get, "\(Self.f1b)/functions/\(id)/download-url"))
        }
    }
}
