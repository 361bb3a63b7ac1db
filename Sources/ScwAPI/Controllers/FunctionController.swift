import Foundation
import Hummingbird
import NIOCore
import ScwDomain
import ScwEngine

/// Functions of functions v1beta1, with runtimes and code upload/download URLs.
struct FunctionController {
    let service: FunctionService

    /// Mounts the routes on the `/functions/v1beta1/regions/{region}` group.
    func mount(on routes: RouteTable<APIRequestContext>) {
        routes.get("functions", list)
        routes.post("functions", create)
        routes.get("functions/:function_id", get)
        routes.patch("functions/:function_id", update)
        routes.delete("functions/:function_id", delete)
        routes.post("functions/:function_id/deploy", deploy)
        routes.get("functions/:function_id/upload-url", uploadURL)
        routes.get("functions/:function_id/download-url", downloadURL)
        routes.get("runtimes") { _, _ in
            V1Beta1.ListRuntimesResponse(runtimes: FunctionRuntimes.all.map {
                .init(name: $0.name, language: $0.language, version: $0.version, default_handler: $0.defaultHandler, code_sample: $0.codeSample,
                      status: $0.status, status_message: "", extension: $0.extension, implementation: $0.implementation, logo_url: "")
            }, total_count: FunctionRuntimes.all.count)
        }
    }

    /// Mounts the pre-signed URL targets on the `/_mock` group (no API key: the URL's token is the authorisation, like S3).
    func mountStorage(on routes: RouteTable<ScwRequestContext>) {
        routes.put("uploads/functions/:function_id") { request, context -> Response in
            try await receiveUpload(request, context: context)
        }
        routes.get("downloads/functions/:function_id") { request, context -> Response in
            let id: FunctionID = try context.id("function_id")
            guard let archive = try service.download(id, token: request.query("token") ?? "") else {
                throw ScwError.permissionsDenied([PermissionDetail(action: "read", resource: "function_code")])
            }
            return Response(status: .ok, headers: [.contentType: "application/zip"], body: .init(byteBuffer: ByteBuffer(bytes: archive)))
        }
    }

    /// A PUT to a pre-signed upload URL. Like S3, the URL grants exactly `content_length` bytes (up to 100 MiB): the
    /// token and a declared `Content-Length` are checked before the body is read, and the body is streamed to a private
    /// file (never collected in memory), counted as it arrives, then stored as the function's code. Any other size,
    /// and an unknown, expired or used token, is 403, and the grant stays usable unless it was used.
    func receiveUpload(_ request: Request, context: ScwRequestContext) async throws -> Response {
        let id: FunctionID = try context.id("function_id")
        let token = request.query("token") ?? ""
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        guard let granted = try service.grantedUploadSize(id, token: token), declared == nil || declared == granted else {
            // Refused before the body is read: a body worth reading and discarding is drained, a larger one is not read.
            return Self.uploadRefused(bodyUnread: declared.map { $0 > WireJSON.maxBodyBytes } ?? true)
        }
        let file = try service.stageUpload(id)
        defer { file.discard() }
        for try await chunk in request.body {
            guard file.size + chunk.readableBytes <= granted else { return Self.uploadRefused(bodyUnread: true) }
            try file.write(chunk.readableBytesView)
        }
        guard file.size == granted, try await service.acceptUpload(id, token: token, file: file) else {
            return Self.uploadRefused(bodyUnread: false)
        }
        return Response(status: .ok, headers: [.eTag: "\"\(file.size)\""], body: .init())
    }

    /// The 403 of a refused upload (S3 answers a body that does not match the signed request with a 403 too); with
    /// `Connection: close` when the rest of the body is not to be read.
    static func uploadRefused(bodyUnread: Bool) -> Response {
        var response = ErrorRenderer.response(ErrorRenderer.render(
            ScwError.permissionsDenied([PermissionDetail(action: "write", resource: "function_code")]), dialect: .mock))
        if bodyUnread { response.headers[.connection] = "close" }
        return response
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.ListFunctionsResponse {
        let page = try service.list(request, context: context)
        return .init(functions: page.items.map { .init($0, written: false) }, total_count: page.totalCount)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Function {
        let body = try await WireJSON.decodeBody(V1Beta1.FunctionRequest.self, from: request, context: context)
        let namespaceID: NamespaceID = try requiredBodyID(body.namespace_id, argument: "namespace_id")
        guard let name = body.name else { throw ScwError.invalid("name", .required, "required key not provided") }
        let patch = try body.patch()
        if case .merge(let entries) = patch.secrets, let missing = entries.first(where: { $0.value == nil }) {
            throw ScwError.invalid("secret_environment_variables.\(missing.key).value", .required, "a secret needs a value")
        }
        return .init(try await service.create(namespaceID: namespaceID, name: name, patch: patch, region: try context.region(),
                                              by: context.principal), written: true)
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Function {
        .init(try service.get(try context.id("function_id"), region: try context.region(), by: context.principal), written: false)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Function {
        let id: FunctionID = try context.id("function_id")
        let region = try context.region()
        let body = try await WireJSON.decodeBody(V1Beta1.FunctionRequest.self, from: request, context: context)
        return .init(try await service.update(id, patch: try body.patch(), region: region, by: context.principal), written: true)
    }

    @Sendable func deploy(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Function {
        .init(try await service.deploy(try context.id("function_id"), region: try context.region(), by: context.principal), written: true)
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.Function {
        .init(try await service.delete(try context.id("function_id"), region: try context.region(), by: context.principal), written: true)
    }

    @Sendable func uploadURL(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.PresignedURL {
        let id: FunctionID = try context.id("function_id")
        let raw = request.query("content_length")
        guard raw == nil || Int(raw!) != nil else { throw ScwError.invalid("content_length", .format, "content_length must be a whole number") }
        let length = raw.flatMap { Int($0) }
        let token = try service.uploadGrant(id, contentLength: length, region: try context.region(), by: context.principal)
        return .init(url: "\(baseURL)/_mock/uploads/functions/\(id.rawValue)?token=\(token)",
                     headers: ["content-length": [String(length ?? 0)], "content-type": ["application/octet-stream"]])
    }

    @Sendable func downloadURL(_ request: Request, context: APIRequestContext) async throws -> V1Beta1.PresignedURL {
        let id: FunctionID = try context.id("function_id")
        let token = try service.downloadGrant(id, region: try context.region(), by: context.principal)
        return .init(url: "\(baseURL)/_mock/downloads/functions/\(id.rawValue)?token=\(token)", headers: [:])
    }

    /// The mock's own base URL (pre-signed URLs point back at the mock): the bound host and the port it listens on,
    /// never the request's `Host` header, which would let whoever sends the request choose where the code goes.
    var baseURL: String { service.address.baseURL }
}
