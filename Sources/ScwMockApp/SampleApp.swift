import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import ScwKeys

/// `scw-mock sample-app`: the built-in workload a deployed container or function runs when nothing else is mapped.
/// A tiny HTTP server on `$PORT` that answers with the request it received and the environment it was given, and,
/// when `SCW_PUBLIC` is `false`, validates `X-Auth-Token` itself against `SCW_PUBLIC_KEY`, `SCW_NAMESPACE_ID` and
/// `SCW_APPLICATION_ID` — the in-container validation Scaleway's 2021 docs describe (401 missing or invalid token,
/// 403 a token for another namespace or container). It is also the reference verifier users can copy.
public func runSampleApp() async throws {
    let env = ProcessInfo.processInfo.environment
    guard let port = env["PORT"].flatMap(Int.init) else {
        FileHandle.standardError.write(Data("sample-app: PORT is not set\n".utf8))
        throw SampleAppError.noPort
    }
    // A slow starter on demand: `SAMPLE_START_DELAY_MS` waits before listening, so a client's wait for `ready` and a
    // call that arrives while the workload starts can be tested (a user variable like any other).
    if let delay = env["SAMPLE_START_DELAY_MS"].flatMap(Int.init), delay > 0 {
        try await Task.sleep(for: .milliseconds(min(delay, 600_000)))
    }
    // Under `--private-auth edge` the mock's gateway has already checked the token (and removed it).
    let isPublic = env["SCW_PUBLIC"] != "false" || env["SCW_MOCK_PRIVATE_AUTH"] == "edge"
    let verifier = env["SCW_PUBLIC_KEY"].flatMap { try? NamespacePublicKey(pem: $0) }.map { TokenVerifier(publicKey: $0) }
    let target = TokenTarget(namespaceID: env["SCW_NAMESPACE_ID"] ?? "", applicationID: env["SCW_APPLICATION_ID"])
    let hidden: Set<String> = ["PATH", "HOME", "LANG", "TMPDIR", "SCW_MOCK_RUN_ID", "SCW_MOCK_PRIVATE_AUTH"]
    let visibleEnv = env.filter { !hidden.contains($0.key) }

    struct Echo: ResponseEncodable {
        var method: String
        var path: String
        var query: String
        var headers: [String: String]
        var body: String
        var env: [String: String]
    }

    let router = Router()
    let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
        if !isPublic {
            let tokens = request.headers[values: HTTPField.Name("X-Auth-Token")!]
            guard tokens.count == 1, let token = tokens.first else {
                return sampleError(.unauthorized, tokens.isEmpty ? "missing X-Auth-Token" : "more than one X-Auth-Token")
            }
            guard let verifier else { return sampleError(.unauthorized, "SCW_PUBLIC_KEY is not a usable public key") }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            do {
                _ = try verifier.verify(token, for: target, nowNanoseconds: Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec))
            } catch TokenFailure.wrongNamespace {
                return sampleError(.forbidden, TokenFailure.wrongNamespace.description)
            } catch TokenFailure.wrongApplication {
                return sampleError(.forbidden, TokenFailure.wrongApplication.description)
            } catch {
                return sampleError(.unauthorized, "\(error)")
            }
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let echo = Echo(method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: headers,
                        body: String(decoding: body.readableBytesView, as: UTF8.self), env: visibleEnv)
        let data = try JSONEncoder().encode(echo)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
    for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .head, .options] {
        router.on("/", method: method, use: handler)
        router.on("**", method: method, use: handler)
    }
    var logger = Logger(label: "sample-app")
    logger.logLevel = .warning
    // Loopback as a process; an image sets SCW_MOCK_SAMPLE_HOST=0.0.0.0 so that its published port reaches it.
    let bindHost = env["SCW_MOCK_SAMPLE_HOST"] ?? "127.0.0.1"
    let app = Application(router: router, configuration: .init(address: .hostname(bindHost, port: port)), logger: logger)
    try await app.runService()
}

enum SampleAppError: Error { case noPort }

private func sampleError(_ status: HTTPResponse.Status, _ reason: String) -> Response {
    let data = (try? JSONEncoder().encode(["error": reason])) ?? Data()
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
